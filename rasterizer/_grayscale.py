"""From whatever the caller holds to an 8-bit grayscale array at print width, safely.

Untrusted bytes are checked against a pixel cap using the header dimensions *before* anything is
decoded, so a tiny file that claims to be 100000×100000 is refused without allocating.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import ExifTags, Image, ImageOps

ImageInput = bytes | bytearray | memoryview | Image.Image | np.ndarray

# Largest picture accepted, in pixels, both as decoded and as rasterized (8192² ≈ 67 MP: any phone
# camera, while keeping a worst-case RGBA decode around 256 MiB).
MAX_PIXELS = 8192 * 8192
# The filter used to scale pictures to the printer width.
RESAMPLING = Image.Resampling.LANCZOS

_WHITE = (255, 255, 255, 255)
_ALPHA_MODES = ("RGBA", "RGBa", "LA", "La", "PA")
_SIXTEEN_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N")


def _check_pixels(width: int, height: int, what: str) -> None:
    if width * height > MAX_PIXELS:
        raise ValueError(f"{what} is too large: {width}×{height} pixels, at most {MAX_PIXELS:,} pixels are accepted")


def _decode(data: bytes | bytearray | memoryview) -> Image.Image:
    if len(data) == 0:
        raise ValueError("the image is empty (0 bytes)")
    try:
        # Image.open only parses the header; Pillow's own bomb check raises for absurd sizes.
        image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise ValueError(f"the image is too large to decode ({exc})") from exc
    except Exception as exc:  # Pillow reports unreadable input with many exception types.
        raise ValueError("cannot read the image: it is not a PNG, JPEG or other supported format") from exc
    _check_pixels(*image.size, "the image")
    try:
        image.load()
    except MemoryError:
        raise
    except Exception as exc:  # truncated or corrupt pixel data, again with many exception types
        raise ValueError(f"cannot decode the image: it is truncated or corrupt ({exc})") from exc
    return image


def _upright(image: Image.Image) -> Image.Image:
    """Apply the EXIF orientation (phone photos), without copying pictures that need none."""
    if image.getexif().get(ExifTags.Base.Orientation, 1) == 1:
        return image
    return ImageOps.exif_transpose(image)


def _to_gray(image: Image.Image) -> Image.Image:
    """Composite any transparency over white (paper is white) and convert with ITU-R 601-2 luma."""
    try:
        return _convert_to_gray(image)
    except ValueError as exc:  # the few modes Pillow cannot convert, such as LAB
        raise ValueError(f"cannot print a {image.mode} image: {exc}") from exc


def _convert_to_gray(image: Image.Image) -> Image.Image:
    if image.mode in _SIXTEEN_BIT_MODES:
        # Pillow's convert("L") clips 16-bit values at 255; keep the top 8 bits instead.
        wide = np.asarray(image, dtype=np.int64)
        return Image.fromarray(np.clip(wide >> 8, 0, 255).astype(np.uint8), "L")
    if image.mode == "L" and "transparency" not in image.info:
        return image
    if image.mode in _ALPHA_MODES or "transparency" in image.info:
        rgba = image.convert("RGBA")
        return Image.alpha_composite(Image.new("RGBA", rgba.size, _WHITE), rgba).convert("L")
    return image.convert("L")


def load_grayscale(image: ImageInput) -> Image.Image:
    """Return ``image`` (encoded bytes, a PIL image or a 2-D uint8 array) as an upright "L" image."""
    if isinstance(image, (bytes, bytearray, memoryview)):
        image = _decode(image)
    elif isinstance(image, np.ndarray):
        if image.dtype != np.uint8 or image.ndim != 2:
            raise ValueError(f"an array image must be 2-D uint8 grayscale, got {image.ndim}-D {image.dtype}")
        image = Image.fromarray(image, "L")
    elif not isinstance(image, Image.Image):
        raise ValueError(f"expected encoded image bytes, a PIL image or a 2-D uint8 array, got {type(image).__name__}")
    width, height = image.size
    if width == 0 or height == 0:
        raise ValueError(f"the image is empty ({width}×{height} pixels)")
    _check_pixels(width, height, "the image")
    return _to_gray(_upright(image))


def scaled_height(width: int, height: int, target_width: int) -> int:
    """Height after scaling to ``target_width``: round(height·target/width), half up, at least 1."""
    return max(1, (2 * height * target_width + width) // (2 * width))


def fit_width(gray: Image.Image, target_width: int) -> np.ndarray:
    """Resize an "L" image to ``target_width`` keeping its aspect ratio; return the pixels."""
    width, height = gray.size
    target_height = scaled_height(width, height, target_width)
    _check_pixels(target_width, target_height, "the raster")
    if (width, height) != (target_width, target_height):
        gray = gray.resize((target_width, target_height), RESAMPLING)
    return np.asarray(gray)
