# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Compiled dither-and-pack kernels; ``rasterizer.reference`` is their executable specification.

Every kernel dithers and packs in one pass: each row's dots are gathered into a byte register and
written once per 8 pixels, with no intermediate bit image. All loops run without the GIL.
``cdivision`` is on because the error-diffusion kernels need C's truncating ``/`` (Pillow's);
Python's floor division would round negative error the other way.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize
from libc.stdint cimport uint8_t
from libc.stdlib cimport calloc, free

from ._options import BAYER_THRESHOLDS

# Every kernel gathers a row's dots into an unsigned register, first pixel in the highest bit
# (``dots = dots << 1 | black``); when a byte is complete its low 8 bits go through one of these
# maps: identity for "msb" (ESC/POS order), bit reversal for "lsb".
cdef uint8_t _TO_MSB_FIRST[256]
cdef uint8_t _TO_LSB_FIRST[256]
# Pointwise dithers share one rule: black when gray <= the threshold for (x % 8, y % 8).
cdef uint8_t _BAYER_BLACK_AT_MOST[8][8]
cdef uint8_t _THRESHOLD_BLACK_AT_MOST[8][8]

cdef enum:
    # Bounds that make the outcome table below safe. Every diffused error e lies in [-126, 128]
    # (black values are 0..128; white ones, 129..255, owe 255). Floyd–Steinberg's incoming sum
    # 7e + 3e + 5e + e is in [-2016, 2048] sixteenths, so pixel + sum / 16 is in [-126, 383];
    # Atkinson's six e's make [-756, 768] eighths, so pixel + sum / 8 is in [-94, 351].
    OUTCOME_OFFSET = 128
    OUTCOME_SIZE = 512

# For an unclamped value u: (error << 1) | black, where the value is clamp(u, 0, 255), black when it
# is <= 128 (Pillow's rule), and the error is the value minus 0 (black) or 255 (white). One load
# replaces the clamp, the comparison and the selection: branch-free, and fewer instructions on the
# critical path's neighbours.
cdef short _OUTCOME[OUTCOME_SIZE]


cdef inline int _clamp8(int value) noexcept nogil:
    return 0 if value < 0 else (255 if value > 255 else value)


cdef void _init_tables():
    cdef int byte, bit, x, y, u, value, black
    for byte in range(256):
        _TO_MSB_FIRST[byte] = byte
        _TO_LSB_FIRST[byte] = 0
        for bit in range(8):
            if byte & (1 << bit):
                _TO_LSB_FIRST[byte] |= 0x80 >> bit
    for y in range(8):
        for x in range(8):
            _BAYER_BLACK_AT_MOST[y][x] = BAYER_THRESHOLDS[y, x]
            _THRESHOLD_BLACK_AT_MOST[y][x] = 127
    for u in range(-OUTCOME_OFFSET, OUTCOME_SIZE - OUTCOME_OFFSET):
        value = _clamp8(u)
        black = value <= 128
        _OUTCOME[u + OUTCOME_OFFSET] = ((value - (0 if black else 255)) << 1) | black


_init_tables()


cdef inline void _store_tail(uint8_t *packed, unsigned int dots, Py_ssize_t width,
                             const uint8_t *byte_map) noexcept nogil:
    """Store a row's last, partial byte (if any): its dots first, padding bits 0."""
    if width & 7:
        packed[width >> 3] = byte_map[(dots << (8 - (width & 7))) & 0xFF]


# Floyd–Steinberg is a serial chain along each row (every pixel waits for its left neighbour's
# error), so one row at a time leaves most of the CPU idle. Row y + 1 only needs the row above up to
# column x + 1, so ROWS_IN_FLIGHT rows advance together, each LAG pixels behind the one above: the
# chains are independent and the CPU overlaps them.
cdef enum:
    ROWS_IN_FLIGHT = 4
    LAG = 2

ctypedef struct _FsBand:
    const uint8_t *pixels[ROWS_IN_FLIGHT]
    uint8_t *packed[ROWS_IN_FLIGHT]
    int error[ROWS_IN_FLIGHT]       # the error of the pixel to the left (×1; Pillow's sums are ×16)
    int partial[ROWS_IN_FLIGHT]     # 5·e[p − 1] + e[p − 2]: the next row's column p − 1 so far
    unsigned int dots[ROWS_IN_FLIGHT]  # the row's dots so far, newest in bit 0


cdef inline void _fs_pixel(_FsBand *band, int k, Py_ssize_t p, int *errors,
                           const uint8_t *byte_map) noexcept nogil:
    """Pillow's step for row k at column p. ``errors[p + 1]`` holds, in sixteenths, what the row
    above pushed into column p; ``errors[p]`` receives the completed sum for the row below's
    column p − 1 (Pillow reuses one array in place; rows LAG ≥ 2 apart never collide in it)."""
    cdef int error = band.error[k]
    cdef int outcome = _OUTCOME[
        OUTCOME_OFFSET + band.pixels[k][p] + (7 * error + errors[p + 1]) / 16
    ]
    errors[p] = 3 * (outcome >> 1) + band.partial[k]
    band.partial[k] = 5 * (outcome >> 1) + error
    band.error[k] = outcome >> 1
    band.dots[k] = (band.dots[k] << 1) | (outcome & 1)
    if (p & 7) == 7:
        band.packed[k][p >> 3] = byte_map[band.dots[k] & 0xFF]


cdef inline void _fs_row_end(_FsBand *band, int k, Py_ssize_t width, int *errors,
                             const uint8_t *byte_map) noexcept nogil:
    errors[width] = band.partial[k]  # the row below's last column: nothing comes from its right
    _store_tail(band.packed[k], band.dots[k], width, byte_map)


cdef inline void _fs_step(_FsBand *band, Py_ssize_t x, Py_ssize_t width, int *errors,
                          const uint8_t *byte_map, bint all_inside) noexcept nogil:
    """Advance every row in flight by one pixel: row k is at column x − LAG·k."""
    cdef int k
    cdef Py_ssize_t p
    for k in range(ROWS_IN_FLIGHT):
        p = x - LAG * k
        if all_inside or 0 <= p < width:
            _fs_pixel(band, k, p, errors, byte_map)
        elif p == width:
            _fs_row_end(band, k, width, errors, byte_map)


cdef inline void _fs_eight_steps(_FsBand *band, Py_ssize_t block, int *errors,
                                 const uint8_t *byte_map) noexcept nogil:
    """Steps 8·block … 8·block + 7 with every row inside: written out so that the compiler sees
    each row's column modulo 8 and drops the "byte complete?" test from all but one step."""
    cdef Py_ssize_t x = block << 3
    _fs_step(band, x, 0, errors, byte_map, True)
    _fs_step(band, x + 1, 0, errors, byte_map, True)
    _fs_step(band, x + 2, 0, errors, byte_map, True)
    _fs_step(band, x + 3, 0, errors, byte_map, True)
    _fs_step(band, x + 4, 0, errors, byte_map, True)
    _fs_step(band, x + 5, 0, errors, byte_map, True)
    _fs_step(band, x + 6, 0, errors, byte_map, True)
    _fs_step(band, x + 7, 0, errors, byte_map, True)


cdef void _floyd_steinberg(const uint8_t *gray, Py_ssize_t height, Py_ssize_t width,
                           uint8_t *out, Py_ssize_t bytes_per_row, const uint8_t *byte_map,
                           int *errors, uint8_t *spare_row) noexcept nogil:
    """Bit-for-bit Pillow's tobilevel(); ``errors`` is Pillow's (column + 1)-indexed row of sums.

    ``byte_map`` turns 8 dots gathered first-pixel-in-bit-7 into the output byte. ``spare_row``
    (width + bytes_per_row bytes, zeroed) stands in for the rows past the bottom of the last
    band, so every band has ROWS_IN_FLIGHT rows and the loops need no special case.
    """
    cdef _FsBand band
    cdef Py_ssize_t y, k, x, band_index, lead = LAG * (ROWS_IN_FLIGHT - 1)
    cdef Py_ssize_t full_start = min(width, (lead + 7) & ~7), full_end = max(full_start, width & ~7)
    if width < 1:
        return  # (callers never pass empty images; this tells the compiler the same)
    for band_index in range((height + ROWS_IN_FLIGHT - 1) // ROWS_IN_FLIGHT):
        for k in range(ROWS_IN_FLIGHT):
            y = band_index * ROWS_IN_FLIGHT + k
            band.pixels[k] = gray + y * width if y < height else spare_row
            band.packed[k] = out + y * bytes_per_row if y < height else spare_row + width
            band.error[k] = band.partial[k] = band.dots[k] = 0
        # Ramp up (the lower rows have not started), full speed in blocks of 8 aligned steps, ramp
        # down (the upper rows are done).
        for x in range(min(lead, width + lead + 1)):
            _fs_step(&band, x, width, errors, byte_map, False)
        for x in range(lead, full_start):
            _fs_step(&band, x, width, errors, byte_map, True)
        for x in range(full_start >> 3, full_end >> 3):
            _fs_eight_steps(&band, x, errors, byte_map)
        for x in range(max(lead, full_end), width):
            _fs_step(&band, x, width, errors, byte_map, True)
        for x in range(max(width, lead), width + lead + 1):
            _fs_step(&band, x, width, errors, byte_map, False)


cdef void _atkinson(const uint8_t *gray, Py_ssize_t height, Py_ssize_t width,
                    uint8_t *out, Py_ssize_t bytes_per_row, const uint8_t *byte_map,
                    int *buffers) noexcept nogil:
    """Atkinson, one row at a time, with three rolling rows of incoming error (in eighths, indexed
    column + 1): this row's, the next one's (which also gets the row above's "two below" tap) and
    the one after (fresh, so plainly overwritten)."""
    cdef Py_ssize_t x, y, stride = width + 2
    cdef int *current = buffers
    cdef int *next1 = buffers + stride
    cdef int *next2 = buffers + 2 * stride
    cdef int *done
    cdef const uint8_t *row
    cdef uint8_t *packed
    cdef int left1, left2, outcome, error
    cdef unsigned int dots
    for y in range(height):
        row = gray + y * width
        packed = out + y * bytes_per_row
        left1 = left2 = 0  # errors of the pixels one and two to the left
        dots = 0
        for x in range(width):
            outcome = _OUTCOME[OUTCOME_OFFSET + row[x] + (current[x + 1] + left1 + left2) / 8]
            error = outcome >> 1
            dots = (dots << 1) | (outcome & 1)
            if (x & 7) == 7:
                packed[x >> 3] = byte_map[dots & 0xFF]
            next1[x] += error + left1 + left2  # column x − 1 of the next row is now complete
            next2[x + 1] = error
            left2 = left1
            left1 = error
        next1[width] += left1 + left2
        _store_tail(packed, dots, width, byte_map)
        done = current
        current = next1
        next1 = next2
        next2 = done


cdef void _pointwise(const uint8_t *gray, Py_ssize_t height, Py_ssize_t width,
                     uint8_t *out, Py_ssize_t bytes_per_row, const uint8_t *byte_map,
                     const uint8_t (*black_at_most)[8]) noexcept nogil:
    cdef Py_ssize_t x, y
    cdef const uint8_t *row
    cdef const uint8_t *limits
    cdef uint8_t *packed
    cdef unsigned int dots
    for y in range(height):
        row = gray + y * width
        packed = out + y * bytes_per_row
        limits = black_at_most[y & 7]
        dots = 0
        for x in range(width):
            dots = (dots << 1) | (row[x] <= limits[x & 7])
            if (x & 7) == 7:
                packed[x >> 3] = byte_map[dots & 0xFF]
        _store_tail(packed, dots, width, byte_map)


def dither_and_pack(const uint8_t[:, ::1] gray not None, str dither, str bit_order):
    """Dither ``gray`` (C-contiguous, non-empty; already validated) and pack it; see reference."""
    cdef Py_ssize_t height = gray.shape[0], width = gray.shape[1]
    cdef Py_ssize_t bytes_per_row = (width + 7) // 8
    cdef const uint8_t *byte_map = _TO_LSB_FIRST
    cdef const uint8_t *pixels = &gray[0, 0]
    cdef int *scratch = NULL
    cdef uint8_t *spare_row = NULL
    result = PyBytes_FromStringAndSize(NULL, height * bytes_per_row)
    cdef uint8_t *out = <uint8_t *>PyBytes_AS_STRING(result)
    if bit_order == "msb":
        byte_map = _TO_MSB_FIRST

    if dither == "floyd-steinberg" or dither == "atkinson":
        scratch = <int *>calloc(3 * (width + 2), sizeof(int))
        spare_row = <uint8_t *>calloc(width + bytes_per_row, 1)
        if scratch == NULL or spare_row == NULL:
            free(scratch)
            free(spare_row)
            raise MemoryError()
        try:
            if dither == "floyd-steinberg":
                with nogil:
                    _floyd_steinberg(pixels, height, width, out, bytes_per_row, byte_map, scratch, spare_row)
            else:
                with nogil:
                    _atkinson(pixels, height, width, out, bytes_per_row, byte_map, scratch)
        finally:
            free(scratch)
            free(spare_row)
    elif dither == "bayer":
        with nogil:
            _pointwise(pixels, height, width, out, bytes_per_row, byte_map, _BAYER_BLACK_AT_MOST)
    elif dither == "threshold":
        with nogil:
            _pointwise(pixels, height, width, out, bytes_per_row, byte_map, _THRESHOLD_BLACK_AT_MOST)
    else:
        raise ValueError(f"unknown dither {dither!r}")
    return result
