"""The public contract of ``rasterizer``: the full pipeline, preview, the Raster type, bad input."""

from __future__ import annotations

import dataclasses
import io
import os
import struct
import subprocess
import sys
import zlib
from concurrent.futures import ThreadPoolExecutor
from typing import Literal

import numpy as np
import pytest
from PIL import Image

from voxprint import rasterizer
from voxprint.common.enums import Dither, enum_labels


def encode(image: Image.Image, format: str = "PNG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=format, **options)
    return buffer.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims ``width``×``height`` 8-bit gray pixels but holds no pixel data."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


def pillow_only_raster(image: Image.Image, width: int, rawmode: str = "1;IR") -> bytes:
    """The same pipeline done with Pillow alone: the oracle for ``rasterize``."""
    gray = image.convert("L")
    height = max(1, round(gray.height * width / gray.width))
    return gray.resize((width, height), Image.Resampling.LANCZOS).convert("1").tobytes("raw", rawmode)


def unpack_black(raster: rasterizer.Raster) -> np.ndarray:
    """The raster as a boolean (height, width) array, True for a black dot."""
    rows = np.frombuffer(raster.data, np.uint8).reshape(raster.height, raster.bytes_per_row)
    bitorder: Literal["little", "big"] = "little" if raster.bit_order == "lsb" else "big"
    return np.unpackbits(rows, axis=1, bitorder=bitorder)[:, : raster.width].astype(bool)


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    """A 1024×1024 RGB picture: smooth colour gradients, a solid block and some noise."""
    rng = np.random.default_rng(3)
    y, x = np.mgrid[0:1024, 0:1024]
    rgb = np.stack([x / 4, y / 4, (x + y) / 8], axis=-1) + rng.normal(0, 12, (1024, 1024, 3))
    rgb[300:500, 200:800] = (10, 40, 200)
    return Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), "RGB")


@pytest.fixture(scope="module")
def photo_png(photo: Image.Image) -> bytes:
    return encode(photo)


# ---- the pipeline --------------------------------------------------------------------------------


def test_png_1024_square_becomes_a_384_square_raster_of_18432_bytes(photo_png: bytes) -> None:
    raster = rasterizer.rasterize(photo_png)
    assert (raster.width, raster.height, raster.bytes_per_row) == (384, 384, 48)
    assert len(raster.data) == 18_432


def test_pipeline_equals_pillow_alone(photo: Image.Image, photo_png: bytes) -> None:
    assert rasterizer.rasterize(photo_png).data == pillow_only_raster(photo, 384)


def test_msb_bit_order_equals_pillow_1_I(photo: Image.Image, photo_png: bytes) -> None:
    raster = rasterizer.rasterize(photo_png, bit_order="msb")
    assert raster.data == pillow_only_raster(photo, 384, rawmode="1;I")


def test_80mm_paper_width(photo_png: bytes) -> None:
    raster = rasterizer.rasterize(photo_png, width=576)
    assert (raster.width, raster.height, raster.bytes_per_row) == (576, 576, 72)


def test_height_keeps_aspect_ratio_rounded() -> None:
    raster = rasterizer.rasterize(Image.new("L", (1000, 333), 200))  # 333·384/1000 = 127.9
    assert raster.height == 128


def test_very_wide_picture_keeps_at_least_one_row() -> None:
    assert rasterizer.rasterize(Image.new("L", (10_000, 1), 0)).height == 1


def test_tiny_picture_is_scaled_up() -> None:
    raster = rasterizer.rasterize(Image.new("L", (1, 1), 0))
    assert (raster.width, raster.height) == (384, 384)
    assert raster.data == b"\xff" * len(raster.data)


@pytest.mark.parametrize("dither", rasterizer.DITHERS)
def test_every_dither_is_accepted_by_rasterize(photo_png: bytes, dither: str) -> None:
    raster = rasterizer.rasterize(photo_png, dither=dither)
    assert raster.data == rasterizer.dither_and_pack(
        np.asarray(Image.open(io.BytesIO(photo_png)).convert("L").resize((384, 384), rasterizer.RESAMPLING)),
        dither=dither,
    )


@pytest.mark.parametrize(
    "as_input",
    [
        lambda photo, png: photo.convert("L"),
        lambda photo, png: np.asarray(photo.convert("L")),
        lambda photo, png: bytearray(png),
        lambda photo, png: memoryview(png),
    ],
    ids=["pil-image", "array", "bytearray", "memoryview"],
)
def test_every_kind_of_input_gives_the_same_raster(photo: Image.Image, photo_png: bytes, as_input) -> None:
    assert rasterizer.rasterize(as_input(photo, photo_png)).data == rasterizer.rasterize(photo_png).data


def test_jpeg_input() -> None:
    raster = rasterizer.rasterize(encode(Image.new("RGB", (640, 480), "black"), "JPEG"))
    assert (raster.width, raster.height) == (384, 288)
    assert raster.data == b"\xff" * len(raster.data)


def _half_transparent(mode: str) -> Image.Image:
    """Black everywhere, but fully transparent on the left half."""
    transparent = np.zeros((64, 384), bool)
    transparent[:, :192] = True
    if mode in ("P", "L"):  # no alpha channel: one palette index or gray level means transparent
        keyed = Image.fromarray(np.where(transparent, 1, 0).astype(np.uint8), mode)
        if mode == "P":
            keyed.putpalette([0, 0, 0] * 2)
        keyed.info["transparency"] = 1
        return keyed
    rgba = np.zeros((64, 384, 4), np.uint8)
    rgba[..., 3] = np.where(transparent, 0, 255)
    return Image.fromarray(rgba, "RGBA").convert(mode)


@pytest.mark.parametrize("mode", ["RGBA", "LA", "P", "L"])
def test_transparent_pixels_print_white(mode: str) -> None:
    black = unpack_black(rasterizer.rasterize(encode(_half_transparent(mode))))
    assert not black[:, :192].any()
    assert black[:, 192:].all()


def test_exif_orientation_is_applied() -> None:
    sideways = Image.new("L", (200, 100), 0)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to view"
    raster = rasterizer.rasterize(encode(sideways, "JPEG", exif=exif), width=96)
    assert raster.height == 192


def test_sixteen_bit_grayscale_keeps_its_tones() -> None:
    deep = Image.fromarray(np.full((50, 384), 0x8000, np.uint16))  # mode "I;16"
    expected = rasterizer.rasterize(np.full((50, 384), 0x80, np.uint8))
    assert rasterizer.rasterize(encode(deep)).data == expected.data


def test_worker_threads_get_the_same_rasters(photo_png: bytes) -> None:
    jobs = [(width, dither) for width in (384, 576) for dither in rasterizer.DITHERS]

    def job(options: tuple[int, str]) -> rasterizer.Raster:
        width, dither = options
        return rasterizer.rasterize(photo_png, width=width, dither=dither)

    serial = [job(options) for options in jobs]
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(job, jobs)) == serial


# ---- dither_and_pack -----------------------------------------------------------------------------


def test_dither_and_pack_accepts_a_non_contiguous_view() -> None:
    gray = np.random.default_rng(5).integers(0, 256, (40, 64), dtype=np.uint8)
    assert rasterizer.dither_and_pack(gray[:, ::2]) == rasterizer.dither_and_pack(gray[:, ::2].copy())


@pytest.fixture
def one_black_dot() -> np.ndarray:
    """White 20×3 (3 bytes a row) with one black dot: row 1, pixel 9, in the row's second byte."""
    gray = np.full((3, 20), 255, np.uint8)
    gray[1, 9] = 0
    return gray


def test_lsb_first_puts_pixel_x_in_bit_x_mod_8(one_black_dot: np.ndarray) -> None:
    packed = rasterizer.dither_and_pack(one_black_dot, dither="threshold")
    assert packed == bytes([0, 0, 0, 0, 0b0000_0010, 0, 0, 0, 0])


def test_msb_first_puts_pixel_x_in_bit_7_minus_x_mod_8(one_black_dot: np.ndarray) -> None:
    packed = rasterizer.dither_and_pack(one_black_dot, dither="threshold", bit_order="msb")
    assert packed == bytes([0, 0, 0, 0, 0b0100_0000, 0, 0, 0, 0])


# ---- preview and Raster --------------------------------------------------------------------------


@pytest.mark.parametrize("bit_order", rasterizer.BIT_ORDERS)
def test_preview_is_a_png_of_exactly_the_printed_dots(photo_png: bytes, bit_order: str) -> None:
    raster = rasterizer.rasterize(photo_png, width=208, bit_order=bit_order)
    shown = Image.open(io.BytesIO(rasterizer.preview(raster)))
    assert shown.format == "PNG"
    assert shown.size == (raster.width, raster.height)
    assert np.array_equal(np.asarray(shown.convert("L")) == 0, unpack_black(raster))


def test_raster_is_immutable() -> None:
    raster = rasterizer.rasterize(Image.new("L", (8, 8)), width=8)
    with pytest.raises(dataclasses.FrozenInstanceError):
        raster.width = 16  # type: ignore[misc]


def test_raster_rejects_data_of_the_wrong_size() -> None:
    with pytest.raises(ValueError, match="expected 2×1"):
        rasterizer.Raster(b"\x00", width=8, height=2, bytes_per_row=1)


def test_accepted_names_are_exported() -> None:
    assert rasterizer.DITHERS == ("floyd-steinberg", "atkinson", "bayer", "threshold")
    assert rasterizer.BIT_ORDERS == ("lsb", "msb")


def test_the_api_offers_exactly_the_rasterizers_dithers() -> None:
    assert enum_labels(Dither) == list(rasterizer.DITHERS)


# ---- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize("width", [0, 7, 383, 2056, -384, 384.0, "384", True, None])
def test_bad_width_is_refused(width: object) -> None:
    with pytest.raises(ValueError, match="width"):
        rasterizer.rasterize(Image.new("L", (8, 8)), width=width)  # type: ignore[arg-type]


def test_unknown_dither_is_refused_naming_the_choices() -> None:
    with pytest.raises(ValueError, match="floyd-steinberg, atkinson, bayer, threshold"):
        rasterizer.rasterize(Image.new("L", (8, 8)), dither="jarvis")


def test_unknown_bit_order_is_refused() -> None:
    with pytest.raises(ValueError, match="bit_order"):
        rasterizer.dither_and_pack(np.zeros((1, 8), np.uint8), bit_order="big")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"this is not a picture", "not a PNG, JPEG"),
        (b"\x89PNG\r\n\x1a\n", "not a PNG, JPEG"),
    ],
)
def test_unreadable_bytes_are_refused(data: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        rasterizer.rasterize(data)


def test_truncated_png_is_refused(photo_png: bytes) -> None:
    with pytest.raises(ValueError, match="truncated or corrupt"):
        rasterizer.rasterize(photo_png[: len(photo_png) // 2])


@pytest.mark.parametrize("side", [9000, 100_000])
def test_huge_png_header_is_refused_before_decoding(side: int) -> None:
    # The file holds no pixel data: had it been decoded, the error would be "truncated".
    with pytest.raises(ValueError, match="too large"):
        rasterizer.rasterize(png_header_only(side, side))


def test_raster_taller_than_the_cap_is_refused() -> None:
    with pytest.raises(ValueError, match="the raster is too large"):
        rasterizer.rasterize(Image.new("L", (1, 200_000)), width=2048)


@pytest.mark.parametrize(
    "image",
    [
        np.zeros((0, 8), np.uint8),
        np.zeros((8, 8), np.float32),
        np.zeros((8, 8, 3), np.uint8),
        Image.new("L", (0, 5)),
        "picture.png",
        None,
    ],
    ids=["empty-array", "float-array", "3-d-array", "empty-pil-image", "str", "none"],
)
def test_unusable_image_objects_are_refused(image: object) -> None:
    with pytest.raises(ValueError, match="image|array"):
        rasterizer.rasterize(image)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "gray",
    [np.zeros((0, 0), np.uint8), np.zeros(8, np.uint8), np.zeros((2, 2), np.int16), [[0, 255]]],
    ids=["empty", "1-d", "int16", "list"],
)
@pytest.mark.parametrize(
    "dither_and_pack", [rasterizer.dither_and_pack, rasterizer.reference.dither_and_pack], ids=["public", "reference"]
)
def test_dither_and_pack_refuses_anything_but_a_2d_uint8_array(dither_and_pack, gray: object) -> None:
    with pytest.raises(ValueError, match="array|empty"):
        dither_and_pack(gray)


# ---- which implementation runs -------------------------------------------------------------------


def _import_in_subprocess(code: str, **environment: str) -> subprocess.CompletedProcess:
    env = {name: value for name, value in os.environ.items() if name != rasterizer.IMPLEMENTATION_ENV}
    env.update(environment)
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)


def test_compiled_kernels_are_active_when_built() -> None:
    if os.environ.get(rasterizer.IMPLEMENTATION_ENV) == "reference":
        pytest.skip("the reference is forced in this run")
    assert rasterizer.implementation == "cython"


def test_environment_switch_forces_the_reference() -> None:
    result = _import_in_subprocess(
        "from voxprint import rasterizer; print(rasterizer.implementation)", VOXPRINT_RASTERIZER="reference"
    )
    assert result.stdout.strip() == "reference"


def test_missing_compiled_module_falls_back_loudly() -> None:
    code = (
        "import sys; sys.modules['voxprint.rasterizer._kernels'] = None\n"  # makes the import fail
        "from voxprint import rasterizer; print(rasterizer.implementation)"
    )
    result = _import_in_subprocess(code)
    assert result.stdout.strip() == "reference"
    assert "RuntimeWarning" in result.stderr and "falling back" in result.stderr


def test_insisting_on_the_compiled_module_fails_when_it_is_missing() -> None:
    code = "import sys; sys.modules['voxprint.rasterizer._kernels'] = None\nimport voxprint.rasterizer"
    result = _import_in_subprocess(code, VOXPRINT_RASTERIZER="cython")
    assert result.returncode != 0 and "compiled kernels are missing" in result.stderr
