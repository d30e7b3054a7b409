"""Turn a picture into the 1-bit raster a 384-dot thermal printer prints.

    raster = rasterize(png_bytes)            # 384 dots wide, Floyd–Steinberg, LSB-first
    raster.data                              # raster.height rows of raster.bytes_per_row (48) bytes
    preview(raster)                          # a PNG of exactly what will print
    rasterize(png_bytes, width=576, dither="atkinson", bit_order="msb")  # 80 mm, ESC/POS order

The pipeline: decode (refusing pictures over ``MAX_PIXELS`` from their header, before decoding);
apply the EXIF orientation; composite transparency over white; convert to 8-bit gray with
Pillow's ``convert("L")`` (ITU-R 601-2 luma); scale to the printer width with Pillow's Lanczos
filter (``RESAMPLING``), height = round(h·width/w), at least 1; dither; pack rows of
ceil(width/8) bytes, a set bit being a black dot.

The dither-and-pack step runs in the compiled ``rasterizer._kernels`` without the GIL, so several
threads can rasterize in parallel. ``rasterizer.reference`` is its pure-NumPy twin and
specification; ``implementation`` says which one is active. Set ``VOXPRINT_RASTERIZER=reference``
to force the reference (``=cython`` to insist on the compiled module).
"""

from __future__ import annotations

import io
import logging
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image

from . import reference
from ._grayscale import MAX_PIXELS, RESAMPLING, ImageInput, fit_width, load_grayscale
from ._options import (
    BIT_ORDERS,
    DEFAULT_BIT_ORDER,
    DEFAULT_DITHER,
    DITHERS,
    check_bit_order,
    check_dither,
    check_gray,
)

__all__ = [
    "BIT_ORDERS",
    "DEFAULT_BIT_ORDER",
    "DEFAULT_DITHER",
    "DEFAULT_WIDTH",
    "DITHERS",
    "IMPLEMENTATION_ENV",
    "ImageInput",
    "MAX_PIXELS",
    "MAX_WIDTH",
    "RESAMPLING",
    "Raster",
    "check_width",
    "dither_and_pack",
    "implementation",
    "preview",
    "rasterize",
    "reference",
]

DEFAULT_WIDTH = 384  # 58 mm paper; 576 is 80 mm paper
MAX_WIDTH = 2048
IMPLEMENTATION_ENV = "VOXPRINT_RASTERIZER"

_logger = logging.getLogger(__name__)
_RAWMODES = {"lsb": "1;IR", "msb": "1;I"}  # Pillow's names for the two packings


def _select_kernel() -> tuple[str, Callable[[np.ndarray, str, str], bytes]]:
    requested = os.environ.get(IMPLEMENTATION_ENV, "").strip().lower()
    if requested not in ("", "auto", "cython", "reference"):
        raise ValueError(f"{IMPLEMENTATION_ENV}={requested!r}: expected 'cython', 'reference' or unset")
    if requested == "reference":
        return "reference", reference.dither_and_pack_validated
    try:
        from . import _kernels
    except ImportError as exc:
        if requested == "cython":
            raise ImportError(f"{IMPLEMENTATION_ENV}=cython but the compiled kernels are missing: {exc}") from exc
        message = (
            f"rasterizer: the compiled module rasterizer._kernels is missing ({exc}); falling back to "
            "the pure-NumPy reference, which is about 100× slower. Rebuild with `pip install -e .`."
        )
        warnings.warn(message, RuntimeWarning, stacklevel=3)
        _logger.warning(message)
        return "reference", reference.dither_and_pack_validated
    return "cython", _kernels.dither_and_pack


implementation, _dither_and_pack = _select_kernel()


@dataclass(frozen=True)
class Raster:
    """A packed 1-bit printer raster: ``height`` rows of ``bytes_per_row`` bytes.

    A set bit is a black dot; padding bits at the end of each row are 0. ``bit_order`` "lsb":
    pixel x of row y is bit x % 8 of byte y·bytes_per_row + x // 8; "msb": bit 7 − x % 8.
    """

    data: bytes
    width: int
    height: int
    bytes_per_row: int
    bit_order: str = DEFAULT_BIT_ORDER

    def __post_init__(self) -> None:
        check_bit_order(self.bit_order)
        if self.width < 1 or self.height < 1:
            raise ValueError(f"a raster needs at least one dot, got {self.width}×{self.height}")
        if self.bytes_per_row != (self.width + 7) // 8:
            raise ValueError(f"bytes_per_row must be ceil({self.width}/8), got {self.bytes_per_row}")
        if len(self.data) != self.height * self.bytes_per_row:
            raise ValueError(f"raster data is {len(self.data)} bytes, expected {self.height}×{self.bytes_per_row}")


def check_width(width: object) -> int:
    """Return ``width`` as an int if a printer can take it, else raise ValueError saying why."""
    if not isinstance(width, (int, np.integer)) or isinstance(width, bool):
        raise ValueError(f"width must be an integer number of dots, got {width!r}")
    if not (8 <= width <= MAX_WIDTH and width % 8 == 0):
        raise ValueError(
            f"width must be a multiple of 8 from 8 to {MAX_WIDTH} dots (384 for 58 mm paper, "
            f"576 for 80 mm), got {width}"
        )
    return int(width)


def dither_and_pack(gray: np.ndarray, *, dither: str = DEFAULT_DITHER, bit_order: str = DEFAULT_BIT_ORDER) -> bytes:
    """Dither a 2-D uint8 grayscale image already at print width and pack it (no resize).

    ``dither`` is one of ``DITHERS`` (see ``rasterizer.reference`` for each algorithm's exact
    definition); ``bit_order`` one of ``BIT_ORDERS``. Returns ``height`` rows of ceil(width/8)
    bytes; a set bit is a black dot.
    """
    gray = check_gray(gray)
    return _dither_and_pack(gray, check_dither(dither), check_bit_order(bit_order))


def rasterize(
    image: ImageInput,
    *,
    width: int = DEFAULT_WIDTH,
    dither: str = DEFAULT_DITHER,
    bit_order: str = DEFAULT_BIT_ORDER,
) -> Raster:
    """Decode, gray, scale to ``width`` dots, dither and pack ``image`` for the printer.

    ``image`` is encoded image bytes (PNG, JPEG, …), a PIL image, or a 2-D uint8 grayscale array.
    Raises ``ValueError`` for a bad option, an empty, unreadable or oversized image.
    """
    width = check_width(width)
    check_dither(dither)
    check_bit_order(bit_order)
    pixels = fit_width(load_grayscale(image), width)
    data = _dither_and_pack(np.ascontiguousarray(pixels), dither, bit_order)
    return Raster(data, width, pixels.shape[0], (width + 7) // 8, bit_order)


def preview(raster: Raster) -> bytes:
    """Return a 1-bit PNG showing exactly the dots ``raster`` will print (black on white)."""
    image = Image.frombytes(
        "1", (raster.width, raster.height), raster.data, "raw", _RAWMODES[raster.bit_order], raster.bytes_per_row
    )
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
