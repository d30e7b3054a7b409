"""Accepting a picture from an image backend: check it decodes, and store it as PNG."""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from rasterizer import MAX_PIXELS

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class BadImage(ValueError):
    """The backend's bytes are not a usable picture; the message says why."""


@dataclass(frozen=True)
class Picture:
    png: bytes
    width: int
    height: int


def as_png(data: bytes) -> Picture:
    """Validate ``data`` as an image; PNGs are kept byte for byte, other formats re-encoded."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            # Refused from the header, before decoding: the rasterizer would refuse it anyway.
            if width * height > MAX_PIXELS:
                raise BadImage(f"the picture is too large ({width}×{height} pixels)")
            image.load()
            if data.startswith(PNG_SIGNATURE):
                return Picture(data, width, height)
            encoded = io.BytesIO()
            # PNG has no CMYK or YCbCr; JPEGs in those modes are stored as RGB.
            savable = image.convert("RGB") if image.mode in ("CMYK", "YCbCr") else image
            savable.save(encoded, format="PNG")
            return Picture(encoded.getvalue(), width, height)
    except UnidentifiedImageError as error:
        raise BadImage("the picture could not be decoded (not an image format Pillow knows)") from error
    except (OSError, Image.DecompressionBombError) as error:
        raise BadImage(f"the picture could not be decoded ({error})") from error
