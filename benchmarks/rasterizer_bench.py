"""How fast is the rasterizer, next to Pillow and to its own NumPy reference?

    python -m benchmarks.rasterizer_bench [--repeats 300]

Everything is measured in this one run, on a realistic 384×1536 print (gradients, shapes, text and
noise) and on a 1024×1024 RGB PNG, and printed as one markdown table for the README: medians,
ns/pixel, ratios and the issue's targets side by side. Outputs are checked equal before anything
is timed.
"""

from __future__ import annotations

import argparse
import gc
import io
import os
import platform
import random
import statistics
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from voxprint import rasterizer
from voxprint.rasterizer import reference

PRINT_SIZE = (384, 1536)  # width, height: a 20 cm strip of 58 mm paper
PHOTO_SIDE = 1024
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"

# The targets.
MAX_RATIO_TO_PILLOW = 0.5
MIN_SPEEDUP_OVER_REFERENCE = 50.0
MAX_PIPELINE_RATIO = 1.0


def realistic_print(width: int, height: int, seed: int = 0) -> np.ndarray:
    """A gray picture like the ones voxprint prints: gradients, shapes, text and noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    background = 40 + 180 * (0.5 + 0.5 * np.sin(x / 61 + y / 97)) * (y / height)
    image = Image.fromarray(background.astype(np.uint8), "L")
    draw = ImageDraw.Draw(image)
    for _ in range(25):
        left, top = int(rng.integers(0, width - 60)), int(rng.integers(0, height - 60))
        size = int(rng.integers(20, 160))
        shape = draw.ellipse if rng.random() < 0.5 else draw.rectangle
        shape([left, top, left + size, top + size], fill=int(rng.integers(0, 256)), outline=0, width=3)
    font = ImageFont.truetype(FONT, 34) if os.path.exists(FONT) else ImageFont.load_default()
    for line in range(0, height, 180):
        draw.text((12, line + 20), "two penguins\non the beach", fill=0 if line % 360 else 255, font=font)
    image = image.filter(ImageFilter.GaussianBlur(0.6))
    noisy = np.asarray(image, np.int16) + rng.normal(0, 9, (height, width)).round().astype(np.int16)
    return np.clip(noisy, 1, 255).astype(np.uint8)  # never zeros


def realistic_photo_png(side: int) -> bytes:
    """An RGB PNG of a print-like picture in colour: what the illustrator hands the rasterizer."""
    channels = [realistic_print(side, side, seed) for seed in (1, 2, 3)]
    buffer = io.BytesIO()
    Image.fromarray(np.stack(channels, axis=-1), "RGB").save(buffer, format="PNG")
    return buffer.getvalue()


def interleaved_medians(functions: Mapping[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Median seconds per call of each function, timed round-robin (in a shuffled order each
    round) so that load from anything else on the machine, and whatever one call leaves behind
    in caches and allocators for the next, hit all of them alike and their ratios stay meaningful."""
    for function in functions.values():
        function()  # warm caches and lazy imports
    samples: dict[str, list[int]] = {name: [] for name in functions}
    order = list(functions.items())
    shuffle = random.Random(0).shuffle
    gc.disable()
    try:
        for _ in range(repeats):
            shuffle(order)
            for name, function in order:
                start = time.perf_counter_ns()
                function()
                samples[name].append(time.perf_counter_ns() - start)
    finally:
        gc.enable()
    return {name: statistics.median(times) / 1e9 for name, times in samples.items()}


@dataclass
class Row:
    name: str
    seconds: float
    pixels: int
    against: str = ""
    ratio: float | None = None
    target: str = ""
    met: bool | None = None

    @property
    def ns_per_pixel(self) -> float:
        return self.seconds * 1e9 / self.pixels


def pillow_dither_and_pack(image: Image.Image) -> bytes:
    return image.convert("1").tobytes("raw", "1;IR")


def pillow_pipeline(png: bytes, width: int) -> bytes:
    """rasterize()'s steps done with Pillow alone: the same bytes out."""
    gray = Image.open(io.BytesIO(png)).convert("L")
    height = max(1, round(gray.height * width / gray.width))
    return pillow_dither_and_pack(gray.resize((width, height), rasterizer.RESAMPLING))


def pillow_pipeline_resizing_colour(png: bytes, width: int) -> bytes:
    """The obvious Pillow code: scale the colour picture, then dither it (three channels resized)."""
    image = Image.open(io.BytesIO(png))
    height = max(1, round(image.height * width / image.width))
    return pillow_dither_and_pack(image.resize((width, height), rasterizer.RESAMPLING))


def dither_and_pack_rows(gray: np.ndarray, repeats: int) -> list[Row]:
    """The compiled kernels against Pillow, and against the NumPy reference."""
    gray_image = Image.fromarray(gray, "L")
    expected = pillow_dither_and_pack(gray_image)
    assert rasterizer.dither_and_pack(gray) == expected, "compiled kernel differs from Pillow"
    assert reference.dither_and_pack(gray) == expected, "reference differs from Pillow"

    functions: dict[str, Callable[[], object]] = {"Pillow": lambda: pillow_dither_and_pack(gray_image)}
    for dither in rasterizer.DITHERS:
        functions[dither] = partial(rasterizer.dither_and_pack, gray, dither=dither)
    medians = interleaved_medians(functions, repeats)
    versus_reference = interleaved_medians(
        {"reference": lambda: reference.dither_and_pack(gray), "compiled": lambda: rasterizer.dither_and_pack(gray)},
        max(5, repeats // 30),
    )

    pixels, pillow, compiled = gray.size, medians["Pillow"], medians["floyd-steinberg"]
    slowdown = versus_reference["reference"] / versus_reference["compiled"]
    ours = f"voxprint {rasterizer.implementation}"
    # The reference is timed in a run of its own (it is 100× slower), beside the compiled kernel
    # again: its ratio is to the compiled time of that run, printed on the row above it.
    beside = f"{ours} Floyd–Steinberg, timed beside the reference"
    return [
        Row('Pillow convert("1") + tobytes("raw", "1;IR")', pillow, pixels),
        Row(
            f"{ours} Floyd–Steinberg dither_and_pack",
            compiled,
            pixels,
            "Pillow",
            compiled / pillow,
            f"≤ {MAX_RATIO_TO_PILLOW}×",
            compiled / pillow <= MAX_RATIO_TO_PILLOW,
        ),
        Row(beside, versus_reference["compiled"], pixels),
        Row(
            "voxprint NumPy reference Floyd–Steinberg",
            versus_reference["reference"],
            pixels,
            "the row above",
            slowdown,
            f"≥ {MIN_SPEEDUP_OVER_REFERENCE:.0f}×",
            slowdown >= MIN_SPEEDUP_OVER_REFERENCE,
        ),
    ] + [
        Row(f"{ours} {dither}", medians[dither], pixels, "Pillow FS", medians[dither] / pillow)
        for dither in rasterizer.DITHERS[1:]
    ]


def threads_rows(gray: np.ndarray, repeats: int) -> list[Row]:
    """Throughput on two threads against one: the kernel runs without the GIL, so it should scale
    with cores (both timed in one interleaved run, both printed)."""
    batch = [gray] * 8
    with ThreadPoolExecutor(max_workers=2) as pool:
        medians = interleaved_medians(
            {
                "serial": lambda: [rasterizer.dither_and_pack(image) for image in batch],
                "threaded": lambda: list(pool.map(rasterizer.dither_and_pack, batch)),
            },
            max(10, repeats // 10),
        )
    pixels = gray.size * len(batch)
    return [
        Row(f"{len(batch)} × Floyd–Steinberg on 1 thread", medians["serial"], pixels),
        Row(
            f"{len(batch)} × Floyd–Steinberg on 2 threads",
            medians["threaded"],
            pixels,
            "1 thread",
            medians["threaded"] / medians["serial"],
        ),
    ]


def pipeline_rows(png: bytes, width: int, repeats: int) -> list[Row]:
    """rasterize() on encoded bytes against the same steps done with Pillow alone (the target),
    the colour-first Pillow code, and the PNG decode that dominates them all."""
    assert rasterizer.rasterize(png, width=width).data == pillow_pipeline(png, width), "pipeline differs"
    medians = interleaved_medians(
        {
            "ours": lambda: rasterizer.rasterize(png, width=width),
            "pillow": lambda: pillow_pipeline(png, width),
            "pillow, colour resize": lambda: pillow_pipeline_resizing_colour(png, width),
            "decode": lambda: Image.open(io.BytesIO(png)).load(),
        },
        max(20, repeats // 5),  # decode dominates both, so the difference is small: more samples
    )
    pixels = PHOTO_SIDE * PHOTO_SIDE
    ratio = medians["ours"] / medians["pillow"]
    return [
        Row(f"Pillow-only pipeline, PNG {PHOTO_SIDE}² → {width}²", medians["pillow"], pixels),
        Row(
            f"voxprint rasterize(), PNG {PHOTO_SIDE}² → {width}²",
            medians["ours"],
            pixels,
            "Pillow pipeline",
            ratio,
            f"≤ {MAX_PIPELINE_RATIO}×",
            ratio <= MAX_PIPELINE_RATIO,
        ),
        Row(
            "Pillow-only, resizing in colour before the gray conversion",
            medians["pillow, colour resize"],
            pixels,
            "rasterize()",
            medians["pillow, colour resize"] / medians["ours"],
        ),
        Row("PNG decode alone", medians["decode"], pixels, "rasterize()", medians["decode"] / medians["ours"]),
    ]


def run(repeats: int) -> list[Row]:
    gray = realistic_print(*PRINT_SIZE)
    return (
        dither_and_pack_rows(gray, repeats)
        + threads_rows(gray, repeats)
        + pipeline_rows(realistic_photo_png(PHOTO_SIDE), PRINT_SIZE[0], repeats)
    )


def markdown(rows: list[Row]) -> str:
    lines = [
        "| Measurement | Median | ns/pixel | Ratio | Target |",
        "|---|---:|---:|---:|---|",
    ]
    for row in rows:
        ratio = f"{row.ratio:.2f}× {row.against}" if row.ratio is not None else ""
        verdict = "" if row.met is None else (" ✅" if row.met else " ❌")
        lines.append(
            f"| {row.name} | {row.seconds * 1e3:.3f} ms | {row.ns_per_pixel:.2f} | {ratio} | {row.target}{verdict} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=300, help="timed calls per measurement")
    repeats = parser.parse_args().repeats
    rows = run(repeats)
    width, height = PRINT_SIZE
    print(
        f"voxprint rasterizer benchmark — {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, NumPy {np.__version__}, "
        f"Pillow {Image.__version__}, implementation={rasterizer.implementation}"
    )
    print(
        f"dither+pack on a realistic {width}×{height} print; pipeline on a {PHOTO_SIDE}² RGB PNG; "
        f"medians of {repeats} interleaved calls (fewer for the slow ones); ns/pixel counts source "
        "pixels; ratio = this row's time ÷ the named row's (every one printed), both from the same interleaved run\n"
    )
    print(markdown(rows))
    failed = [row.name for row in rows if row.met is False]
    print("\nall targets met" if not failed else f"\nTARGETS MISSED: {'; '.join(failed)}")


if __name__ == "__main__":
    main()
