"""Pure-NumPy twin of the compiled kernels: the executable specification of every dither.

Each algorithm here is written to be read first and to be as fast as NumPy allows second. The
compiled module ``rasterizer._kernels`` must produce the same bytes for every input; the tests
hold the two against each other (and Floyd–Steinberg against Pillow).

Error diffusion is inherently serial along a row, so instead of visiting pixels one at a time it
visits *wavefronts*: every tap of both diffusion kernels moves at most one column left per row
down, so pixel (y, x) only receives error from pixels with a smaller ``x + 2·y``. All pixels on
one line ``x + 2·y = t`` are therefore independent and are processed as one vectorised step,
which turns ``width × height`` Python iterations into ``width + 2·height``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from ._options import (
    BAYER_THRESHOLDS,
    DEFAULT_BIT_ORDER,
    DEFAULT_DITHER,
    check_bit_order,
    check_dither,
    check_gray,
)

__all__ = ["dither_and_pack", "floyd_steinberg", "atkinson", "bayer", "threshold", "pack"]

# Error diffusion decides "white" with the same rule as Pillow's Floyd–Steinberg.
_DIFFUSION_WHITE_ABOVE = 128
# Plain threshold decides "white" with the same rule as Pillow's convert("1", dither=NONE).
_THRESHOLD_WHITE_FROM = 128


@dataclass(frozen=True)
class _Diffusion:
    """An error-diffusion kernel: integer weights over ``divisor``, as (dy, dx, weight) taps."""

    divisor: int
    taps: tuple[tuple[int, int, int], ...]


_FLOYD_STEINBERG = _Diffusion(16, ((0, 1, 7), (1, -1, 3), (1, 0, 5), (1, 1, 1)))
_ATKINSON = _Diffusion(8, ((0, 1, 1), (0, 2, 1), (1, -1, 1), (1, 0, 1), (1, 1, 1), (2, 0, 1)))

# Padding around the working arrays so every tap lands somewhere: error pushed into the padding is
# never read, which is exactly "error falling off the left/right/bottom edge is dropped".
_PAD_LEFT = max(-dx for kernel in (_FLOYD_STEINBERG, _ATKINSON) for _, dx, _ in kernel.taps)
_PAD_RIGHT = max(dx for kernel in (_FLOYD_STEINBERG, _ATKINSON) for _, dx, _ in kernel.taps)
_PAD_BOTTOM = max(dy for kernel in (_FLOYD_STEINBERG, _ATKINSON) for dy, _, _ in kernel.taps)


def _truncating_divide(numerator: np.ndarray, divisor: int) -> np.ndarray:
    """C's integer ``/`` (rounds toward zero), unlike NumPy's ``//`` (rounds toward -inf)."""
    quotient = np.abs(numerator) // divisor
    return np.where(numerator < 0, -quotient, quotient)


def _diffuse(gray: np.ndarray, kernel: _Diffusion) -> np.ndarray:
    """Return the boolean "white" image of error-diffusing ``gray`` with ``kernel``.

    Pixels are visited in raster order (semantically; see the module docstring for the wavefront
    schedule). Each pixel's incoming error is kept as an integer sum in units of
    ``1/divisor``; its value is ``clamp(gray + trunc(sum / divisor), 0, 255)`` (one truncating
    division per pixel); it is white when that value is > 128; its error, value − (255 if white
    else 0), is added ``weight`` times to each tap's neighbour that lies inside the image.
    """
    height, width = gray.shape
    stride = _PAD_LEFT + width + _PAD_RIGHT
    # Flat, padded working arrays: (y, x) lives at y·stride + _PAD_LEFT + x.
    values = np.zeros((height, stride), np.int32)
    values[:, _PAD_LEFT : _PAD_LEFT + width] = gray
    values = values.ravel()
    errors_in = np.zeros((height + _PAD_BOTTOM) * stride, np.int32)
    white = np.zeros(height * stride, bool)
    offsets = [(dy * stride + dx, weight) for dy, dx, weight in kernel.taps]

    # On wavefront t the pixels are (y, t − 2y); consecutive ones are stride − 2 apart in the flat
    # arrays, so each wavefront is a plain strided slice (stride − 2 ≥ 2 because stride ≥ 4).
    step = stride - 2
    for t in range(width + 2 * (height - 1)):
        first_row = max(0, (t - width + 2) // 2)  # ceil((t − width + 1) / 2): keeps x < width
        last_row = min(height - 1, t // 2)  # keeps x ≥ 0
        start = t + _PAD_LEFT + first_row * step
        stop = t + _PAD_LEFT + last_row * step + 1
        front = slice(start, stop, step)

        value = values[front] + _truncating_divide(errors_in[front], kernel.divisor)
        np.clip(value, 0, 255, out=value)
        is_white = value > _DIFFUSION_WHITE_ABOVE
        error = value - 255 * is_white
        white[front] = is_white
        for offset, weight in offsets:
            errors_in[start + offset : stop + offset : step] += weight * error

    return white.reshape(height, stride)[:, _PAD_LEFT : _PAD_LEFT + width]


def floyd_steinberg(gray: np.ndarray) -> np.ndarray:
    """Floyd–Steinberg, bit-for-bit Pillow's ``Image.convert("1")``; returns the white mask.

    Error weights (in sixteenths): 7 to the right; 3 below-left, 5 below, 1 below-right. The
    incoming error is summed in sixteenths and divided once, truncating toward zero; the value is
    clamped to 0..255 and is white when > 128. Error leaving the image at any edge is dropped.
    """
    return _diffuse(gray, _FLOYD_STEINBERG)


def atkinson(gray: np.ndarray) -> np.ndarray:
    """Atkinson error diffusion; returns the white mask.

    Each of six neighbours gets 1/8 of the error (6/8 spread, 2/8 deliberately lost, which keeps
    highlights and shadows clean): right, two right; below-left, below, below-right; two below.
    Incoming error is summed in eighths and divided once, truncating toward zero; the value is
    clamped to 0..255 and is white when > 128. Error leaving the image at any edge is dropped.
    """
    return _diffuse(gray, _ATKINSON)


def bayer(gray: np.ndarray) -> np.ndarray:
    """Ordered dithering with the 8×8 Bayer matrix B; returns the white mask.

    Pixel (x, y) is white when gray > 4·B[y % 8][x % 8] + 2, where B is the recursive Bayer index
    matrix (B₂ = [[0, 2], [3, 1]], B₂ₙ = [[4B, 4B+2], [4B+3, 4B+1]]). Gray 0 is all black, 255 all
    white, 128 exactly half of the dots.
    """
    height, width = gray.shape
    tiles = (-(-height // 8), -(-width // 8))
    return gray > np.tile(BAYER_THRESHOLDS, tiles)[:height, :width]


def threshold(gray: np.ndarray) -> np.ndarray:
    """Plain threshold: white when gray ≥ 128, as Pillow's ``convert("1", dither=NONE)``."""
    return gray >= _THRESHOLD_WHITE_FROM


_ALGORITHMS = {"floyd-steinberg": floyd_steinberg, "atkinson": atkinson, "bayer": bayer, "threshold": threshold}


def pack(white: np.ndarray, bit_order: str) -> bytes:
    """Pack a white mask into printer rows: a set bit is a black dot, ceil(width/8) bytes a row.

    ``"lsb"``: pixel x is bit x % 8 of byte x // 8 (Pillow's ``"1;IR"``); ``"msb"``: bit 7 − x % 8
    (ESC/POS ``GS v 0``, Pillow's ``"1;I"``). Padding bits at the end of a row are 0.
    """
    bitorder: Literal["little", "big"] = "little" if bit_order == "lsb" else "big"
    return np.packbits(~white, axis=1, bitorder=bitorder).tobytes()


def dither_and_pack_validated(gray: np.ndarray, dither: str, bit_order: str) -> bytes:
    """``dither_and_pack`` for arguments already checked; the twin of ``_kernels.dither_and_pack``."""
    return pack(_ALGORITHMS[dither](gray), bit_order)


def dither_and_pack(gray: np.ndarray, *, dither: str = DEFAULT_DITHER, bit_order: str = DEFAULT_BIT_ORDER) -> bytes:
    """Dither a 2-D uint8 grayscale image already at print width and pack it into printer rows."""
    return dither_and_pack_validated(check_gray(gray), check_dither(dither), check_bit_order(bit_order))
