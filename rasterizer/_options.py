"""The names both implementations accept, and the checks every public entry point shares."""

from __future__ import annotations

import numpy as np

DITHERS: tuple[str, ...] = ("floyd-steinberg", "atkinson", "bayer", "threshold")
BIT_ORDERS: tuple[str, ...] = ("lsb", "msb")
DEFAULT_DITHER = "floyd-steinberg"
DEFAULT_BIT_ORDER = "lsb"


def check_dither(dither: object) -> str:
    if not isinstance(dither, str) or dither not in DITHERS:
        raise ValueError(f"unknown dither {dither!r}: choose one of {', '.join(DITHERS)}")
    return dither


def check_bit_order(bit_order: object) -> str:
    if not isinstance(bit_order, str) or bit_order not in BIT_ORDERS:
        raise ValueError(f"unknown bit_order {bit_order!r}: choose one of {', '.join(BIT_ORDERS)}")
    return bit_order


def check_gray(gray: object) -> np.ndarray:
    """Return ``gray`` as a C-contiguous 2-D uint8 array, or say why it cannot be one."""
    if not isinstance(gray, np.ndarray):
        raise ValueError(f"expected a 2-D uint8 NumPy array, got {type(gray).__name__}")
    if gray.dtype != np.uint8:
        raise ValueError(f"expected a uint8 grayscale array, got dtype {gray.dtype}")
    if gray.ndim != 2:
        raise ValueError(f"expected a 2-D grayscale array (rows, columns), got {gray.ndim} dimensions")
    if gray.size == 0:
        raise ValueError(f"the image is empty ({gray.shape[0]}×{gray.shape[1]} pixels)")
    return np.ascontiguousarray(gray)


def _bayer(size: int) -> np.ndarray:
    """The recursive Bayer index matrix: B(2n) = [[4B, 4B+2], [4B+3, 4B+1]], B(1) = [[0]]."""
    if size == 1:
        return np.zeros((1, 1), np.uint8)
    half = _bayer(size // 2) * 4
    return np.block([[half, half + 2], [half + 3, half + 1]]).astype(np.uint8)


# Ordered-dither thresholds: pixel (x, y) is white when its gray value is > BAYER_THRESHOLDS[y % 8][x % 8].
# 4·B + 2 spreads the 64 levels evenly over 2..254: 0 is all black, 255 all white, 128 half.
BAYER_THRESHOLDS: np.ndarray = _bayer(8) * 4 + 2
BAYER_THRESHOLDS.flags.writeable = False
