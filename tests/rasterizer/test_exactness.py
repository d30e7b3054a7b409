"""The compiled kernels equal their NumPy reference byte for byte, and Floyd–Steinberg equals Pillow.

Pillow's ``Image.convert("1")`` is the independent oracle for Floyd–Steinberg (and its
``dither=NONE`` for the plain threshold); ``rasterizer.reference`` is the specification of every
algorithm, so the compiled module is held to it on a fixed catalogue of images and on fresh random
ones each run (hypothesis).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image

from voxprint import rasterizer
from voxprint.rasterizer import _kernels, reference

PILLOW_RAWMODES = {"lsb": "1;IR", "msb": "1;I"}
PILLOW_DITHERS = {"floyd-steinberg": Image.Dither.FLOYDSTEINBERG, "threshold": Image.Dither.NONE}


def pillow_dither_and_pack(gray: np.ndarray, dither: str, bit_order: str) -> bytes:
    dithered = Image.fromarray(gray, "L").convert("1", dither=PILLOW_DITHERS[dither])
    return dithered.tobytes("raw", PILLOW_RAWMODES[bit_order])


def compiled_dither_and_pack(gray: np.ndarray, dither: str, bit_order: str) -> bytes:
    return _kernels.dither_and_pack(np.ascontiguousarray(gray), dither, bit_order)


def _noise(width: int, height: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width), dtype=np.uint8)


def _flat(width: int, height: int, value: int) -> np.ndarray:
    return np.full((height, width), value, np.uint8)


def _horizontal_gradient(width: int, height: int) -> np.ndarray:
    return np.tile(np.linspace(0, 255, width).round().astype(np.uint8), (height, 1))


def _vertical_gradient(width: int, height: int) -> np.ndarray:
    return np.ascontiguousarray(_horizontal_gradient(height, width).T)


def _radial_gradient(width: int, height: int) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width]
    distance = np.hypot(x - width / 2, y - height / 2)
    return (255 * distance / distance.max()).round().astype(np.uint8)


def _print_like(width: int, height: int) -> np.ndarray:
    """Gradient background, dark and light blocks, thin lines and a noisy band."""
    image = _radial_gradient(width, height)
    image[height // 8 : height // 4, width // 8 : width // 2] = 20
    image[height // 3 : height // 2, width // 2 : 7 * width // 8] = 235
    image[::37, :] = 0
    image[:, ::53] = 255
    band = slice(2 * height // 3, 3 * height // 4)
    image[band] = _noise(width, height, seed=7)[band]
    return image


# The catalogue, named "<width>x<height>-<content>".
CATALOGUE: dict[str, Callable[[], np.ndarray]] = {
    "384x256-noise": lambda: _noise(384, 256),
    "384x96-horizontal-gradient": lambda: _horizontal_gradient(384, 96),
    "64x300-vertical-gradient": lambda: _vertical_gradient(64, 300),
    "200x150-radial-gradient": lambda: _radial_gradient(200, 150),
    "64x48-flat-127": lambda: _flat(64, 48, 127),
    "64x48-flat-128": lambda: _flat(64, 48, 128),
    "64x48-flat-129": lambda: _flat(64, 48, 129),
    "96x32-all-black": lambda: _flat(96, 32, 0),
    "96x32-all-white": lambda: _flat(96, 32, 255),
    "1x1-black": lambda: _flat(1, 1, 0),
    "1x1-mid": lambda: _flat(1, 1, 129),
    "5x1-noise": lambda: _noise(5, 1),
    "1x5-noise": lambda: _noise(1, 5),
    "2x9-noise": lambda: _noise(2, 9),
    "13x37-noise": lambda: _noise(13, 37),
    "383x40-gradient": lambda: _horizontal_gradient(383, 40),
    "1001x7-noise": lambda: _noise(1001, 7),
    "577x61-print-like": lambda: _print_like(577, 61),
    "384x2000-print-like": lambda: _print_like(384, 2000),
}


@pytest.fixture(params=CATALOGUE)
def catalogue_image(request: pytest.FixtureRequest) -> np.ndarray:
    return CATALOGUE[request.param]()


@pytest.fixture(params=rasterizer.BIT_ORDERS)
def bit_order(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.mark.parametrize("dither", rasterizer.DITHERS)
def test_compiled_equals_reference_on_catalogue(catalogue_image: np.ndarray, dither: str, bit_order: str) -> None:
    assert compiled_dither_and_pack(catalogue_image, dither, bit_order) == reference.dither_and_pack(
        catalogue_image, dither=dither, bit_order=bit_order
    )


@pytest.mark.parametrize("dither", PILLOW_DITHERS)
def test_reference_equals_pillow_on_catalogue(catalogue_image: np.ndarray, dither: str, bit_order: str) -> None:
    assert reference.dither_and_pack(catalogue_image, dither=dither, bit_order=bit_order) == (
        pillow_dither_and_pack(catalogue_image, dither, bit_order)
    )


@pytest.mark.parametrize("dither", PILLOW_DITHERS)
def test_compiled_equals_pillow_on_catalogue(catalogue_image: np.ndarray, dither: str, bit_order: str) -> None:
    assert compiled_dither_and_pack(catalogue_image, dither, bit_order) == (
        pillow_dither_and_pack(catalogue_image, dither, bit_order)
    )


def test_public_dither_and_pack_equals_pillow_on_catalogue(catalogue_image: np.ndarray) -> None:
    assert rasterizer.dither_and_pack(catalogue_image) == pillow_dither_and_pack(
        catalogue_image, "floyd-steinberg", "lsb"
    )


# ---- the differential fuzzer: fresh images every run ----------------------------------------------

# Mixtures that reach the interesting corners: uniform noise, values near the 128 threshold, and
# the extremes where clamping kicks in.
_pixel_values = st.one_of(st.integers(0, 255), st.integers(120, 136), st.sampled_from([0, 1, 127, 128, 129, 254, 255]))
_small_images = arrays(
    np.uint8,
    st.tuples(st.integers(1, 24), st.integers(1, 70)),
    elements=_pixel_values,
)
_fuzz = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def _random_images(draw: st.DrawFn) -> np.ndarray:
    """Whole-array noise (hypothesis arrays tend to be sparse), seeded by hypothesis."""
    height, width = draw(st.integers(1, 40)), draw(st.integers(1, 400))
    low = draw(st.integers(0, 255))
    high = draw(st.integers(low, 255))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return rng.integers(low, high + 1, (height, width), dtype=np.uint8)


_images = st.one_of(_small_images, _random_images())


@_fuzz
@given(gray=_images, bit_order=st.sampled_from(rasterizer.BIT_ORDERS))
def test_fuzz_compiled_floyd_steinberg_equals_pillow(gray: np.ndarray, bit_order: str) -> None:
    assert compiled_dither_and_pack(gray, "floyd-steinberg", bit_order) == (
        pillow_dither_and_pack(gray, "floyd-steinberg", bit_order)
    )


@_fuzz
@given(gray=_images, dither=st.sampled_from(rasterizer.DITHERS), bit_order=st.sampled_from(rasterizer.BIT_ORDERS))
def test_fuzz_compiled_equals_reference(gray: np.ndarray, dither: str, bit_order: str) -> None:
    assert compiled_dither_and_pack(gray, dither, bit_order) == (
        reference.dither_and_pack(gray, dither=dither, bit_order=bit_order)
    )


@_fuzz
@given(gray=_images)
def test_fuzz_reference_floyd_steinberg_equals_pillow(gray: np.ndarray) -> None:
    assert reference.dither_and_pack(gray) == pillow_dither_and_pack(gray, "floyd-steinberg", "lsb")


# ---- properties of the algorithms that need no oracle ---------------------------------------------


@pytest.mark.parametrize("dither", rasterizer.DITHERS)
def test_black_prints_every_dot(dither: str) -> None:
    assert compiled_dither_and_pack(_flat(16, 9, 0), dither, "lsb") == b"\xff" * 2 * 9


@pytest.mark.parametrize("dither", rasterizer.DITHERS)
def test_white_prints_no_dot(dither: str) -> None:
    assert compiled_dither_and_pack(_flat(16, 9, 255), dither, "lsb") == b"\x00" * 2 * 9


@pytest.mark.parametrize("dither", rasterizer.DITHERS)
def test_padding_bits_are_zero(dither: str) -> None:
    packed = compiled_dither_and_pack(_flat(13, 4, 0), dither, "lsb")
    assert packed == b"\xff\x1f" * 4


def test_bayer_mid_gray_prints_exactly_half_the_dots() -> None:
    packed = np.frombuffer(compiled_dither_and_pack(_flat(64, 64, 128), "bayer", "lsb"), np.uint8)
    assert int(np.unpackbits(packed).sum()) == 64 * 64 // 2


def test_atkinson_loses_a_quarter_of_the_error_so_near_white_stays_white() -> None:
    # Floyd–Steinberg keeps every bit of error and eventually prints a dot in a 250 field;
    # Atkinson drops 2/8 of it at every step, so light grays stay clean paper.
    light = _flat(64, 64, 250)
    assert compiled_dither_and_pack(light, "atkinson", "lsb") == bytes(8 * 64)
    assert compiled_dither_and_pack(light, "floyd-steinberg", "lsb") != bytes(8 * 64)
