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


cdef void _floyd_steinberg(const uint8_t *gray, Py_ssize_t height, Py_ssize_t width,
                           uint8_t *out, Py_ssize_t bytes_per_row, const uint8_t *byte_map,
                           int *errors) noexcept nogil:
    # Pillow's scheme: errors[x + 1] holds, in sixteenths, the error the row above pushed into
    # column x; ``carry`` is 7/16 of the left neighbour's error; l0/l1 build the next row's sums.
    cdef Py_ssize_t x, y
    cdef const uint8_t *row
    cdef uint8_t *packed
    cdef int carry, l0, l1, value, white, error
    cdef unsigned int bits
    for y in range(height):
        row = gray + y * width
        packed = out + y * bytes_per_row
        carry = l0 = l1 = 0
        bits = 0
        for x in range(width):
            value = _clamp8(row[x] + (carry + errors[x + 1]) / 16)
            white = value > 128
            error = value - (-white & 255)
            bits |= <unsigned int>(white ^ 1) << (x & 7)
            if (x & 7) == 7:
                packed[x >> 3] = byte_map[bits]
                bits = 0
            errors[x] = 3 * error + l0
            l0 = 5 * error + l1
            l1 = error
            carry = 7 * error
        errors[width] = l0
        if width & 7:
            packed[width >> 3] = byte_map[bits]


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
    result = PyBytes_FromStringAndSize(NULL, height * bytes_per_row)
    cdef uint8_t *out = <uint8_t *>PyBytes_AS_STRING(result)
    if bit_order == "msb":
        byte_map = _MSB_FIRST

    if dither == "floyd-steinberg" or dither == "atkinson":
        scratch = <int *>calloc(3 * (width + 2), sizeof(int))
        if scratch == NULL:
            raise MemoryError()
        try:
            if dither == "floyd-steinberg":
                with nogil:
                    _floyd_steinberg(pixels, height, width, out, bytes_per_row, byte_map, scratch)
            else:
                with nogil:
                    _atkinson(pixels, height, width, out, bytes_per_row, byte_map, scratch)
        finally:
            free(scratch)
    elif dither == "bayer":
        with nogil:
            _pointwise(pixels, height, width, out, bytes_per_row, byte_map, _BAYER_BLACK_AT_MOST)
    elif dither == "threshold":
        with nogil:
            _pointwise(pixels, height, width, out, bytes_per_row, byte_map, _THRESHOLD_BLACK_AT_MOST)
    else:
        raise ValueError(f"unknown dither {dither!r}")
    return result
