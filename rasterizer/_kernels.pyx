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

# Byte maps applied when a packed byte is stored: dots are gathered LSB-first, and "msb" output is
# the bit-reversed byte.
cdef uint8_t _LSB_FIRST[256]
cdef uint8_t _MSB_FIRST[256]
# Pointwise dithers share one rule: black when gray <= the threshold for (x % 8, y % 8).
cdef uint8_t _BAYER_BLACK_AT_MOST[8][8]
cdef uint8_t _THRESHOLD_BLACK_AT_MOST[8][8]


cdef void _init_tables():
    cdef int byte, bit, x, y
    for byte in range(256):
        _LSB_FIRST[byte] = byte
        _MSB_FIRST[byte] = 0
        for bit in range(8):
            if byte & (1 << bit):
                _MSB_FIRST[byte] |= 0x80 >> bit
    for y in range(8):
        for x in range(8):
            _BAYER_BLACK_AT_MOST[y][x] = BAYER_THRESHOLDS[y, x]
            _THRESHOLD_BLACK_AT_MOST[y][x] = 127


_init_tables()


cdef inline int _clamp8(int value) noexcept nogil:
    return 0 if value < 0 else (255 if value > 255 else value)


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
    unsigned int dots[ROWS_IN_FLIGHT]  # the row's last 8 dots, newest in bit 7


cdef inline void _fs_pixel(_FsBand *band, int k, Py_ssize_t p, int *errors,
                           const uint8_t *byte_map) noexcept nogil:
    """Pillow's step for row k at column p. ``errors[p + 1]`` holds, in sixteenths, what the row
    above pushed into column p; ``errors[p]`` receives the completed sum for the row below's
    column p − 1 (Pillow reuses one array in place; rows LAG ≥ 2 apart never collide in it)."""
    cdef int error = band.error[k]
    cdef int value = band.pixels[k][p] + (7 * error + errors[p + 1]) / 16
    cdef unsigned int black = value <= 128
    value = _clamp8(value)
    error = value - (<int>(black - 1) & 255)  # white dots owe 255
    errors[p] = 3 * error + band.partial[k]
    band.partial[k] = 5 * error + band.error[k]
    band.error[k] = error
    band.dots[k] = (band.dots[k] >> 1) | (black << 7)
    if (p & 7) == 7:
        band.packed[k][p >> 3] = byte_map[band.dots[k]]


cdef inline void _fs_row_end(_FsBand *band, int k, Py_ssize_t width, int *errors,
                             const uint8_t *byte_map) noexcept nogil:
    errors[width] = band.partial[k]  # the row below's last column: nothing comes from its right
    if width & 7:
        band.packed[k][width >> 3] = byte_map[band.dots[k] >> (8 - (width & 7))]


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


cdef void _floyd_steinberg(const uint8_t *gray, Py_ssize_t height, Py_ssize_t width,
                           uint8_t *out, Py_ssize_t bytes_per_row, const uint8_t *byte_map,
                           int *errors, uint8_t *spare_row) noexcept nogil:
    """Bit-for-bit Pillow's tobilevel(); ``errors`` is Pillow's (column + 1)-indexed row of sums.

    ``spare_row`` (width + bytes_per_row bytes, zeroed) stands in for the rows past the bottom
    of the last band, so every band has ROWS_IN_FLIGHT rows and the loops need no special case.
    """
    cdef _FsBand band
    cdef Py_ssize_t y, k, x, band_index, lead = LAG * (ROWS_IN_FLIGHT - 1)
    for band_index in range((height + ROWS_IN_FLIGHT - 1) // ROWS_IN_FLIGHT):
        for k in range(ROWS_IN_FLIGHT):
            y = band_index * ROWS_IN_FLIGHT + k
            band.pixels[k] = gray + y * width if y < height else spare_row
            band.packed[k] = out + y * bytes_per_row if y < height else spare_row + width
            band.error[k] = band.partial[k] = band.dots[k] = 0
        # Ramp up (the lower rows have not started), full speed, ramp down (the upper rows are done).
        for x in range(min(lead, width + lead + 1)):
            _fs_step(&band, x, width, errors, byte_map, False)
        for x in range(lead, width):
            _fs_step(&band, x, width, errors, byte_map, True)
        for x in range(max(width, lead), width + lead + 1):
            _fs_step(&band, x, width, errors, byte_map, False)


cdef void _atkinson(const uint8_t *gray, Py_ssize_t height, Py_ssize_t width,
                    uint8_t *out, Py_ssize_t bytes_per_row, const uint8_t *byte_map,
                    int *buffers) noexcept nogil:
    # Three rolling rows of incoming error (in eighths), indexed column + 1: the current row, the
    # next (which also receives the row above's "two below" tap), and the one after (overwritten).
    cdef Py_ssize_t x, y, stride = width + 2
    cdef int *current = buffers
    cdef int *next1 = buffers + stride
    cdef int *next2 = buffers + 2 * stride
    cdef int *spare
    cdef const uint8_t *row
    cdef uint8_t *packed
    cdef int left1, left2, value, white, error
    cdef unsigned int bits
    for y in range(height):
        row = gray + y * width
        packed = out + y * bytes_per_row
        left1 = left2 = 0  # errors of the pixels one and two to the left
        bits = 0
        for x in range(width):
            value = _clamp8(row[x] + (current[x + 1] + left1 + left2) / 8)
            white = value > 128
            error = value - (-white & 255)
            bits |= <unsigned int>(white ^ 1) << (x & 7)
            if (x & 7) == 7:
                packed[x >> 3] = byte_map[bits]
                bits = 0
            next1[x] += error + left1 + left2  # column x − 1 of the next row is now complete
            next2[x + 1] = error
            left2 = left1
            left1 = error
        next1[width] += left1 + left2
        if width & 7:
            packed[width >> 3] = byte_map[bits]
        spare = current
        current = next1
        next1 = next2
        next2 = spare


cdef void _pointwise(const uint8_t *gray, Py_ssize_t height, Py_ssize_t width,
                     uint8_t *out, Py_ssize_t bytes_per_row, const uint8_t *byte_map,
                     const uint8_t (*black_at_most)[8]) noexcept nogil:
    cdef Py_ssize_t x, y
    cdef const uint8_t *row
    cdef const uint8_t *limits
    cdef unsigned int bits
    for y in range(height):
        row = gray + y * width
        limits = black_at_most[y & 7]
        bits = 0
        for x in range(width):
            bits |= <unsigned int>(row[x] <= limits[x & 7]) << (x & 7)
            if (x & 7) == 7:
                out[y * bytes_per_row + (x >> 3)] = byte_map[bits]
                bits = 0
        if width & 7:
            out[y * bytes_per_row + (width >> 3)] = byte_map[bits]


def dither_and_pack(const uint8_t[:, ::1] gray not None, str dither, str bit_order):
    """Dither ``gray`` (C-contiguous, non-empty; already validated) and pack it; see reference."""
    cdef Py_ssize_t height = gray.shape[0], width = gray.shape[1]
    cdef Py_ssize_t bytes_per_row = (width + 7) // 8
    cdef const uint8_t *byte_map = _LSB_FIRST
    cdef const uint8_t *pixels = &gray[0, 0]
    cdef int *scratch = NULL
    cdef uint8_t *spare_row = NULL
    result = PyBytes_FromStringAndSize(NULL, height * bytes_per_row)
    cdef uint8_t *out = <uint8_t *>PyBytes_AS_STRING(result)
    if bit_order == "msb":
        byte_map = _MSB_FIRST

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
