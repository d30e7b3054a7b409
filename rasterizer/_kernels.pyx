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
from libc.string cimport memset

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


# Error diffusion is a serial chain along each row (every pixel waits for its left neighbour's
# error), so one row at a time leaves most of the CPU idle. Both kernels only need the rows above
# up to column x + 1, so ROWS_IN_FLIGHT rows advance together, each LAG pixels behind the one
# above: their chains are independent and the CPU overlaps them.
cdef enum:
    ROWS_IN_FLIGHT = 4
    LAG = 2


ctypedef struct _FloydSteinbergRow:
    const uint8_t *pixels
    uint8_t *packed
    int error       # e[p − 1], the error of the pixel to the left
    int partial     # 5·e[p − 1] + e[p − 2]: the next row's column p − 1 so far (sixteenths)
    unsigned int dots  # the row's dots so far, newest in bit 0


ctypedef struct _AtkinsonRow:
    const uint8_t *pixels
    uint8_t *packed
    int error       # e[p − 1]
    int error2      # e[p − 2]
    int above       # the row above's error at column p − 1
    unsigned int dots


ctypedef fused _Row:
    _FloydSteinbergRow
    _AtkinsonRow


cdef inline void _diffuse_pixel(_Row *row, Py_ssize_t p, int *sums, int *errors,
                                const uint8_t *byte_map) noexcept nogil:
    """One pixel of one row. ``sums[p + 1]`` holds what the rows above pushed into column p;
    ``sums[p]`` receives the completed sum for the next row's column p − 1. Atkinson also reads
    the row above's error at column p from ``errors[p]`` and leaves its own there. Like Pillow,
    each array is reused in place: rows LAG ≥ 2 apart never touch the same entry in one step."""
    cdef int outcome, error
    if _Row is _FloydSteinbergRow:
        # Pillow's scheme: 7/16 right; 3/16, 5/16, 1/16 below; one truncating division.
        outcome = _OUTCOME[OUTCOME_OFFSET + row.pixels[p] + (7 * row.error + sums[p + 1]) / 16]
        error = outcome >> 1
        sums[p] = 3 * error + row.partial
        row.partial = 5 * error + row.error
    else:
        # 1/8 to right, two right, below-left, below, below-right, two below.
        outcome = _OUTCOME[OUTCOME_OFFSET + row.pixels[p] + (sums[p + 1] + row.error + row.error2) / 8]
        error = outcome >> 1
        sums[p] = row.error2 + row.error + error + row.above
        row.above = errors[p]
        errors[p] = error
        row.error2 = row.error
    row.error = error
    row.dots = (row.dots << 1) | (outcome & 1)
    if (p & 7) == 7:
        row.packed[p >> 3] = byte_map[row.dots & 0xFF]


cdef inline void _diffuse_row_end(_Row *row, Py_ssize_t width, int *sums,
                                  const uint8_t *byte_map) noexcept nogil:
    """Complete the next row's last column (nothing comes from its right) and the last byte."""
    if _Row is _FloydSteinbergRow:
        sums[width] = row.partial
    else:
        sums[width] = row.error2 + row.error + row.above
    _store_tail(row.packed, row.dots, width, byte_map)


cdef inline void _diffuse_step(_Row *rows, Py_ssize_t x, Py_ssize_t width, int *sums, int *errors,
                               const uint8_t *byte_map, bint all_inside) noexcept nogil:
    """Advance every row in flight by one pixel: row k is at column x − LAG·k."""
    cdef int k
    cdef Py_ssize_t p
    for k in range(ROWS_IN_FLIGHT):
        p = x - LAG * k
        if all_inside or 0 <= p < width:
            _diffuse_pixel(&rows[k], p, sums, errors, byte_map)
        elif p == width:
            _diffuse_row_end(&rows[k], width, sums, byte_map)


cdef inline void _diffuse_eight_steps(_Row *rows, Py_ssize_t block, int *sums, int *errors,
                                      const uint8_t *byte_map) noexcept nogil:
    """Steps 8·block … 8·block + 7 with every row inside: written out so that the compiler sees
    each row's column modulo 8 and drops the "byte complete?" test from all but one step."""
    cdef Py_ssize_t x = block << 3
    _diffuse_step(rows, x, 0, sums, errors, byte_map, True)
    _diffuse_step(rows, x + 1, 0, sums, errors, byte_map, True)
    _diffuse_step(rows, x + 2, 0, sums, errors, byte_map, True)
    _diffuse_step(rows, x + 3, 0, sums, errors, byte_map, True)
    _diffuse_step(rows, x + 4, 0, sums, errors, byte_map, True)
    _diffuse_step(rows, x + 5, 0, sums, errors, byte_map, True)
    _diffuse_step(rows, x + 6, 0, sums, errors, byte_map, True)
    _diffuse_step(rows, x + 7, 0, sums, errors, byte_map, True)


cdef void _diffuse(_Row *rows, const uint8_t *gray, Py_ssize_t height, Py_ssize_t width,
                   uint8_t *out, Py_ssize_t bytes_per_row, const uint8_t *byte_map,
                   int *sums, int *errors, uint8_t *spare_row) noexcept nogil:
    """Error-diffuse and pack ``gray``; ``rows`` (ROWS_IN_FLIGHT of them) picks the kernel.

    ``sums`` (width + 1 ints, zeroed) is Pillow's (column + 1)-indexed row of incoming error;
    ``errors`` (width ints, zeroed) carries Atkinson's "two below" tap. ``spare_row`` (width +
    bytes_per_row bytes, zeroed) stands in for the rows past the bottom of the last band, so
    every band has ROWS_IN_FLIGHT rows and the loops need no special case.
    """
    cdef Py_ssize_t y, k, x, band, lead = LAG * (ROWS_IN_FLIGHT - 1)
    cdef Py_ssize_t full_start = min(width, (lead + 7) & ~7), full_end = max(full_start, width & ~7)
    if width < 1:
        return  # (callers never pass empty images; this tells the compiler the same)
    for band in range((height + ROWS_IN_FLIGHT - 1) // ROWS_IN_FLIGHT):
        for k in range(ROWS_IN_FLIGHT):
            y = band * ROWS_IN_FLIGHT + k
            memset(&rows[k], 0, sizeof(rows[k]))
            rows[k].pixels = gray + y * width if y < height else spare_row
            rows[k].packed = out + y * bytes_per_row if y < height else spare_row + width
        # Ramp up (the lower rows have not started), full speed in blocks of 8 aligned steps, ramp
        # down (the upper rows are done).
        for x in range(min(lead, width + lead + 1)):
            _diffuse_step(rows, x, width, sums, errors, byte_map, False)
        for x in range(lead, full_start):
            _diffuse_step(rows, x, width, sums, errors, byte_map, True)
        for x in range(full_start >> 3, full_end >> 3):
            _diffuse_eight_steps(rows, x, sums, errors, byte_map)
        for x in range(max(lead, full_end), width):
            _diffuse_step(rows, x, width, sums, errors, byte_map, True)
        for x in range(max(width, lead), width + lead + 1):
            _diffuse_step(rows, x, width, sums, errors, byte_map, False)


cdef void _pointwise(const uint8_t *gray, Py_ssize_t height, Py_ssize_t width,
                     uint8_t *out, Py_ssize_t bytes_per_row, const uint8_t *byte_map,
                     const uint8_t (*black_at_most)[8]) noexcept nogil:
    """Bayer and threshold: each dot is black when its gray <= black_at_most[y % 8][x % 8]."""
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
    """Dither ``gray`` and pack it; ``rasterizer.dither_and_pack`` validates the names first.

    Same bytes as ``rasterizer.reference.dither_and_pack_validated`` for every input."""
    cdef Py_ssize_t height = gray.shape[0], width = gray.shape[1]
    cdef Py_ssize_t bytes_per_row = (width + 7) // 8
    cdef const uint8_t *byte_map = _TO_LSB_FIRST
    if height == 0 or width == 0:
        raise ValueError(f"the image is empty ({width}×{height} pixels)")
    cdef const uint8_t *pixels = &gray[0, 0]
    cdef int *scratch = NULL
    cdef uint8_t *spare_row = NULL
    cdef _FloydSteinbergRow floyd_steinberg_rows[ROWS_IN_FLIGHT]
    cdef _AtkinsonRow atkinson_rows[ROWS_IN_FLIGHT]
    result = PyBytes_FromStringAndSize(NULL, height * bytes_per_row)
    cdef uint8_t *out = <uint8_t *>PyBytes_AS_STRING(result)
    if bit_order == "msb":
        byte_map = _TO_MSB_FIRST

    if dither == "floyd-steinberg" or dither == "atkinson":
        scratch = <int *>calloc(2 * width + 1, sizeof(int))
        spare_row = <uint8_t *>calloc(width + bytes_per_row, 1)
        if scratch == NULL or spare_row == NULL:
            free(scratch)
            free(spare_row)
            raise MemoryError()
        try:
            if dither == "floyd-steinberg":
                with nogil:
                    _diffuse(floyd_steinberg_rows, pixels, height, width, out, bytes_per_row, byte_map,
                             scratch, scratch + width + 1, spare_row)
            else:
                with nogil:
                    _diffuse(atkinson_rows, pixels, height, width, out, bytes_per_row, byte_map,
                             scratch, scratch + width + 1, spare_row)
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
