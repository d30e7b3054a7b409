"""Accepting a picture from an image backend: check it decodes, and store it as PNG.

The picture is decoded here once; the decoded image travels on with the PNG so the rasterizer
does not decode it again.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from voxprint.rasterizer import MAX_PIXELS

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class BadImage(ValueError):
    """The backend's bytes are not a usable picture; the message says why."""


@dataclass(frozen=True)
class Picture:
    png: bytes
    # The decoded pixels of ``png``: what the rasterizer prints.
    image: Image.Image

    @property
    def width(self) -> int:
        return self.image.width

    @property
    def height(self) -> int:
        return self.image.height


def as_png(data: bytes | Picture) -> Picture:
    """Validate ``data`` as an image; PNGs are kept byte for byte, other formats re-encoded.

    A :class:`Picture` (a backend that decoded or drew its own) is already checked and passes as is.
    """
    if isinstance(data, Picture):
        return data
    try:
        image = Image.open(io.BytesIO(data))
        width, height = image.size
        # Refused from the header, before decoding: the rasterizer would refuse it anyway.
        if width * height > MAX_PIXELS:
            raise BadImage(f"the picture is too large ({width}×{height} pixels)")
        image.load()
    except UnidentifiedImageError as error:
        raise BadImage("the picture could not be decoded (not an image format Pillow knows)") from error
    except (OSError, Image.DecompressionBombError) as error:
        raise BadImage(f"the picture could not be decoded ({error})") from error
    if data.startswith(PNG_SIGNATURE):
        return Picture(data, image)
    return _reencoded(image)


def _reencoded(image: Image.Image) -> Picture:
    # PNG keeps no EXIF orientation, so turn the picture upright before storing it: the stored PNG
    # and the decoded image must print the same. PNG has no CMYK or YCbCr either: those become RGB.
    upright = ImageOps.exif_transpose(image)
    savable = upright.convert("RGB") if upright.mode in ("CMYK", "YCbCr") else upright
    encoded = io.BytesIO()
    savable.save(encoded, format="PNG")
    return Picture(encoded.getvalue(), savable)
