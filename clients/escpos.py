"""ESC/POS for a voxprint raster: the byte stream a receipt printer prints, and a parser for it.

The stream is ``ESC @`` (reset), the picture as ``GS v 0`` raster bands, ``ESC d n`` (feed the
printed picture past the tear bar) and optionally ``GS V 66 0`` (feed to the cutter and cut).

``GS v 0 m xL xH yL yH d…``: m = 0 (normal size), x = bytes per row, y = rows in the band, then
x·y bytes, rows top to bottom, the leftmost dot in the most significant bit, 1 = black. voxprint's
raster (Fetch RAW, ``rasterizer.rasterize``) is LSB-first, so every byte is bit-reversed.

Why bands: cheap 58/80 mm printers have receive buffers of a few KiB and some of them drop or
garble bytes when one ``GS v 0`` image is larger than that, while the head is busy. A band of
:data:`DEFAULT_BAND_ROWS` = 24 rows is 1152 bytes at 384 dots and 1728 bytes at 576 dots: under
the smallest (2 KiB) buffers seen on such printers, and 24 dots is their native head band height.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

ESC = 0x1B
GS = 0x1D

INITIALIZE = bytes([ESC, ord("@")])
RASTER_IMAGE = bytes([GS, ord("v"), ord("0")])
FEED_LINES = bytes([ESC, ord("d")])
#: GS V 66 n: feed n more dots to the cutting position, then (partial) cut.
FEED_AND_CUT = bytes([GS, ord("V"), 66])

DEFAULT_BAND_ROWS = 24
DEFAULT_FEED_LINES = 4

#: BIT_REVERSAL[b] is b with its bit order reversed: LSB-first ↔ MSB-first.
BIT_REVERSAL: np.ndarray = np.array([int(f"{value:08b}"[::-1], 2) for value in range(256)], dtype=np.uint8)


class RasterLike(Protocol):
    """Anything with a packed 1-bit raster: ``rasterizer.Raster``, a Fetch RAW response."""

    @property
    def data(self) -> bytes: ...

    @property
    def height(self) -> int: ...

    @property
    def bytes_per_row(self) -> int: ...


class EscPosError(ValueError):
    """The byte stream is not ESC/POS this module understands, or is truncated."""


def reverse_bits(data: bytes) -> bytes:
    """Swap bit order in every byte (LSB-first ↔ MSB-first); its own inverse."""
    return BIT_REVERSAL[np.frombuffer(data, dtype=np.uint8)].tobytes()


def encode(
    raster: RasterLike,
    *,
    band_rows: int = DEFAULT_BAND_ROWS,
    feed_lines: int = DEFAULT_FEED_LINES,
    cut: bool = False,
) -> bytes:
    """The complete ESC/POS job that prints ``raster`` (rows of ``bytes_per_row`` bytes).

    ``band_rows`` caps the rows per ``GS v 0`` command, ``feed_lines`` is the blank feed after
    the picture, ``cut`` adds a cut command for printers with a cutter.
    """
    bytes_per_row, height = raster.bytes_per_row, raster.height
    if not 1 <= band_rows <= 0xFFFF:
        raise ValueError(f"band_rows must be 1..65535, not {band_rows}")
    if not 0 <= feed_lines <= 0xFF:
        raise ValueError(f"feed_lines must be 0..255, not {feed_lines}")
    if not 1 <= bytes_per_row <= 0xFFFF:
        raise ValueError(f"bytes_per_row must be 1..65535, not {bytes_per_row}")
    if len(raster.data) != bytes_per_row * height:
        raise ValueError(f"raster has {len(raster.data)} bytes, expected {bytes_per_row} x {height}")
    # Fetch RAW is always LSB-first; a rasterizer.Raster says which order it was packed in.
    bit_order = getattr(raster, "bit_order", "lsb")
    msb_first = raster.data if bit_order == "msb" else reverse_bits(raster.data)
    out = bytearray(INITIALIZE)
    for top in range(0, height, band_rows):
        rows = min(band_rows, height - top)
        out += RASTER_IMAGE + bytes([0]) + bytes_per_row.to_bytes(2, "little") + rows.to_bytes(2, "little")
        out += msb_first[top * bytes_per_row : (top + rows) * bytes_per_row]
    out += FEED_LINES + bytes([feed_lines])
    if cut:
        out += FEED_AND_CUT + bytes([0])
    return bytes(out)


@dataclass(frozen=True)
class PrintedImage:
    """What a printer would put on paper for a byte stream, rebuilt as an LSB-first raster."""

    data: bytes
    bytes_per_row: int
    height: int
    #: Rows in each ``GS v 0`` band, in order.
    bands: tuple[int, ...]
    initialized: bool
    feed_lines: int
    cut: bool

    @property
    def width(self) -> int:
        """Dots per row (ESC/POS only knows whole bytes)."""
        return self.bytes_per_row * 8


def parse(stream: bytes) -> PrintedImage:
    """Read a stream made of ``ESC @``, ``GS v 0`` bands, ``ESC d n`` and ``GS V`` commands.

    Bands must share one width (they stack into one picture). Anything else, or a command cut
    short, raises :class:`EscPosError` naming the offset.
    """
    rows: list[bytes] = []
    bands: list[int] = []
    bytes_per_row: int | None = None
    initialized, feed_lines, cut = False, 0, False
    position = 0

    def take(count: int, what: str) -> bytes:
        nonlocal position
        if position + count > len(stream):
            raise EscPosError(f"{what} at offset {position} is truncated")
        chunk = stream[position : position + count]
        position += count
        return chunk

    while position < len(stream):
        start = position
        command = take(2, "command")
        if command == INITIALIZE:
            initialized = True
        elif command == FEED_LINES:
            feed_lines += take(1, "ESC d")[0]
        elif command == RASTER_IMAGE[:2]:
            header = take(6, "GS v 0 header")
            if header[0] != RASTER_IMAGE[2]:
                raise EscPosError(f"GS v at offset {start} is not GS v 0")
            mode, x_low, x_high, y_low, y_high = header[1:]
            if mode != 0:
                raise EscPosError(f"GS v 0 at offset {start} uses scaling mode {mode}, not 0")
            band_bytes_per_row, band_rows = x_low + 256 * x_high, y_low + 256 * y_high
            if bytes_per_row is not None and band_bytes_per_row != bytes_per_row:
                raise EscPosError(
                    f"band at offset {start} is {band_bytes_per_row} bytes wide, earlier bands {bytes_per_row}"
                )
            bytes_per_row = band_bytes_per_row
            rows.append(take(bytes_per_row * band_rows, "GS v 0 image data"))
            bands.append(band_rows)
        elif command == FEED_AND_CUT[:2]:
            function = take(1, "GS V")[0]
            if function in (65, 66):
                take(1, "GS V feed")
            cut = True
        else:
            raise EscPosError(f"unsupported command {command.hex(' ')} at offset {start}")

    data = reverse_bits(b"".join(rows))
    return PrintedImage(data, bytes_per_row or 0, sum(bands), tuple(bands), initialized, feed_lines, cut)
