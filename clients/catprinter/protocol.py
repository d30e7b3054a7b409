"""The cat printers' command language: frames, CRC-8, the per-model table, and a raster → bytes
encoder with no Bluetooth in it.

Written from the public references (none of them is the vendor's; they read the official
"iPrint" app's ``com.blueUtils`` module and watched the printers):

* rbaron/catprinter, ``catprinter/cmds.py`` — the fixed command frames as byte lists, the CRC-8
  table, the run-length row command ``0xBF``, and the feed at speed 25 after a picture;
* NaitLee/Cat-Printer, ``printer_lib/commander.py``, ``printer_lib/models.py`` and ``printer.py``
  — the job preamble (state, quality, speed, energy little-endian, apply, update, lattice), the
  flow-control notifications, and the model table: which models take the extra ``0x12`` start
  byte and run-length rows ("new kind": GB03), which cannot feed and get blank rows instead
  (MX05–MX10), and the default energy (0x4000) and speed (32) for pictures;
* JJJollyjim/catprinter, ``COMMANDS.md`` — what each command means: energy is 16 bits, low byte
  first; ``0xAE`` is flow control (0x10 stop, 0x00 go on); the status bits of ``0xA3``; and
  blueUtils' per-model energy ("moderation") and image-mode speed for GB01, GB02 and GT01.

A frame is ``51 78 CMD DIR LEN 00 PAYLOAD CRC FF``: DIR is 0 from the host and 1 from the
printer, LEN the payload's length (one byte: no command needs more), CRC the CRC-8 (polynomial
0x07, initial value 0, no reflection) of the payload alone. A row of dots is ``0xA2`` with
``width / 8`` bytes, the **leftmost dot in the least significant bit** of the first byte, a set
bit burning a black dot — exactly voxprint's LSB-first raster, so rows go out unchanged.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

from voxprint import rasterizer
from voxprint.clients.escpos import reverse_bits
from voxprint.clients.printer_error import PrinterError

MAGIC = b"\x51\x78"
END = 0xFF
FROM_HOST = 0x00
FROM_PRINTER = 0x01
#: Header (magic, command, direction, length, 0) and trailer (CRC, end) around a payload.
HEADER_SIZE = 6
TRAILER_SIZE = 2
MAX_PAYLOAD = 0xFF
CRC8_POLYNOMIAL = 0x07


class Command(enum.IntEnum):
    FEED = 0xA1
    PRINT_ROW = 0xA2
    DEVICE_STATE = 0xA3
    QUALITY = 0xA4
    LATTICE = 0xA6
    UPDATE_DEVICE = 0xA9
    FLOW_CONTROL = 0xAE
    ENERGY = 0xAF
    SPEED = 0xBD
    #: JJJollyjim calls it "drawing mode"; both printing programs send 1 after the energy, which
    #: rbaron found is what makes the printer use it.
    APPLY_ENERGY = 0xBE
    PRINT_ROW_RUN_LENGTH = 0xBF


class Status(enum.IntFlag):
    """The first payload byte of the printer's answer to ``DEVICE_STATE`` (JJJollyjim's table)."""

    NO_PAPER = 0x01
    COVER_OPEN = 0x02
    OVERHEATED = 0x04
    LOW_BATTERY = 0x08


#: ``0xAE`` payloads the printer notifies: stop sending (its buffer is full), go on.
FLOW_PAUSE = 0x10
FLOW_RESUME = 0x00
#: ``0xA4`` 0x32, which both rbaron ("200 dpi") and NaitLee send.
QUALITY_200_DPI = 0x32
#: ``0xA6`` payloads sent before and after the rows; always these exact bytes (JJJollyjim).
PRINT_LATTICE = bytes.fromhex("aa 55 17 38 44 5f 5f 5f 44 38 2c")
FINISH_LATTICE = bytes.fromhex("aa 55 17 00 00 00 00 00 00 00 17")
#: The speed iPrint sets before feeding blank paper (JJJollyjim; rbaron sends the same).
FEED_SPEED = 25
#: Paper fed after a picture so it clears the tear-off edge: 128 rows = 16 mm (NaitLee).
FEED_ROWS = 128
#: Dots in one row of every known cat printer's head.
HEAD_WIDTH = 384
#: NaitLee's defaults for pictures on models blueUtils has no table entry for.
DEFAULT_ENERGY = 0x4000
DEFAULT_SPEED = 32
#: The longest run one run-length byte holds; the top bit is the colour (rbaron).
MAX_RUN = 0x7F


def _crc8_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = ((crc << 1) ^ CRC8_POLYNOMIAL) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
        table.append(crc)
    return tuple(table)


_CRC8_TABLE = _crc8_table()


def crc8(data: bytes) -> int:
    """CRC-8 with polynomial 0x07, initial value 0 (CRC-8/SMBUS): what every frame ends with."""
    crc = 0
    for byte in data:
        crc = _CRC8_TABLE[crc ^ byte]
    return crc


def frame(command: int, payload: bytes = b"\x00", *, from_printer: bool = False) -> bytes:
    """One command: ``51 78 CMD DIR LEN 00 PAYLOAD CRC FF``. Commands that take no argument
    still carry one zero byte, as every reference sends them."""
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"a frame carries at most {MAX_PAYLOAD} bytes, not {len(payload)}")
    direction = FROM_PRINTER if from_printer else FROM_HOST
    return MAGIC + bytes([command, direction, len(payload), 0]) + payload + bytes([crc8(payload), END])


class FrameError(ValueError):
    """Bytes that are not one well-formed frame; the message says what is wrong."""


@dataclass(frozen=True)
class Frame:
    command: int
    payload: bytes
    from_printer: bool


def decode_frame(data: bytes) -> Frame:
    """Read exactly one frame, checking its magic, length, CRC and end byte."""
    if len(data) < HEADER_SIZE + TRAILER_SIZE or data[:2] != MAGIC:
        raise FrameError(f"not a frame: {data.hex(' ')}")
    command, direction, length = data[2], data[3], data[4]
    if len(data) != HEADER_SIZE + length + TRAILER_SIZE:
        raise FrameError(f"frame {command:#04x} says {length} payload bytes but has {len(data) - 8}")
    payload = data[HEADER_SIZE : HEADER_SIZE + length]
    crc, end = data[-2], data[-1]
    if crc != crc8(payload):
        raise FrameError(f"frame {command:#04x} has CRC {crc:#04x}, its payload's is {crc8(payload):#04x}")
    if end != END or direction not in (FROM_HOST, FROM_PRINTER):
        raise FrameError(f"frame {command:#04x} is malformed: {data.hex(' ')}")
    return Frame(command, payload, direction == FROM_PRINTER)


@dataclass(frozen=True)
class Model:
    """What sets one model's byte stream apart from another's."""

    name: str
    energy: int = DEFAULT_ENERGY
    speed: int = DEFAULT_SPEED
    #: Takes ``0xBF`` run-length rows (sent when shorter than the plain row).
    run_length_rows: bool = False
    #: Sent before a second state request to start the job ("new kind" printers).
    start_prefix: bytes = b""
    #: Ignores ``0xA1`` feeds: feed by printing blank rows instead.
    feeds_with_blank_rows: bool = False
    head_width: int = HEAD_WIDTH


#: Every model the references name (NaitLee's list), by advertised name.
MODELS: dict[str, Model] = {
    model.name: model
    for model in (
        # blueUtils' "moderation" energy and image-mode speed (JJJollyjim).
        Model("GB01", energy=12000, speed=35),
        Model("GB02", energy=12000, speed=26),
        Model("GT01", energy=12000, speed=30),
        Model("GB03", run_length_rows=True, start_prefix=b"\x12"),
        *(Model(name, feeds_with_blank_rows=True) for name in ("MX05", "MX06", "MX08", "MX09", "MX10")),
        Model("MX11"),
        Model("YT01"),
        Model("SC03h"),
    )
}


def model_named(name: str) -> Model | None:
    """The model a printer's advertised name starts with ("GB03", "MX06-1a2b"), if any."""
    for model in MODELS.values():
        if name.upper().startswith(model.name.upper()):
            return model
    return None


@dataclass(frozen=True)
class PrintSettings:
    """A model and how dark and how fast it prints: ``energy`` 0–65535 (heat put into each dot;
    higher is darker), ``speed`` 1–255 (lower is faster; slower gives the head time to heat)."""

    model: Model
    energy: int
    speed: int

    def __post_init__(self) -> None:
        if not 0 <= self.energy <= 0xFFFF:
            raise ValueError(f"energy must be 0..65535, not {self.energy}")
        if not 1 <= self.speed <= 0xFF:
            raise ValueError(f"speed must be 1..255, not {self.speed}")

    @classmethod
    def for_model(cls, model: Model, energy: int | None = None, speed: int | None = None) -> PrintSettings:
        """The model's own energy and speed where none is given."""
        return cls(model, model.energy if energy is None else energy, model.speed if speed is None else speed)


def energy(value: int) -> bytes:
    return frame(Command.ENERGY, value.to_bytes(2, "little"))


def speed(value: int) -> bytes:
    return frame(Command.SPEED, bytes([value]))


def feed(rows: int) -> bytes:
    """Advance the paper ``rows`` dots; the second byte is always 0 (JJJollyjim)."""
    return frame(Command.FEED, bytes([rows, 0]))


def run_lengths(row: bytes) -> bytes:
    """A packed LSB-first row as runs, left to right: one byte per run of up to 127 dots of one
    colour, ``colour << 7 | length`` (rbaron's ``run_length_encode``)."""
    dots = np.unpackbits(np.frombuffer(row, dtype=np.uint8), bitorder="little")
    edges = np.flatnonzero(np.diff(dots)) + 1
    out = bytearray()
    for start, stop in zip(np.concatenate(([0], edges)), np.concatenate((edges, [dots.size])), strict=True):
        colour = int(dots[start]) << 7
        whole, rest = divmod(int(stop - start), MAX_RUN)
        out += bytes([colour | MAX_RUN]) * whole
        if rest:
            out.append(colour | rest)
    return bytes(out)


def print_row(row: bytes, *, run_length: bool = False) -> bytes:
    """One row of dots: run-length coded when asked and shorter, as rbaron does, else as is."""
    if run_length:
        runs = run_lengths(row)
        if len(runs) <= len(row):
            return frame(Command.PRINT_ROW_RUN_LENGTH, runs)
    return frame(Command.PRINT_ROW, row)


def encode(raster: rasterizer.Raster, settings: PrintSettings) -> bytes:
    """The whole byte stream that prints ``raster`` on ``settings.model``, as NaitLee's driver
    orders it: state request (and the start byte of new-kind models), quality, speed, energy,
    apply, update, print lattice, one command per row, finish lattice, feed speed, feed, and a
    closing state request, whose answer tells the sender the printer has read everything.

    Raises :class:`PrinterError` (reason ``wrong_width``) unless every row is as wide as the head.
    """
    model = settings.model
    if raster.width != model.head_width:
        raise PrinterError(
            f"the picture is {raster.width} dots wide; a {model.name} prints rows of exactly "
            f"{model.head_width} dots (submit with --width {model.head_width})",
            reason="wrong_width",
        )
    data = reverse_bits(raster.data) if raster.bit_order == "msb" else raster.data
    out = bytearray(frame(Command.DEVICE_STATE))
    if model.start_prefix:
        out += model.start_prefix + frame(Command.DEVICE_STATE)
    out += frame(Command.QUALITY, bytes([QUALITY_200_DPI]))
    out += speed(settings.speed)
    out += energy(settings.energy)
    out += frame(Command.APPLY_ENERGY, b"\x01")
    out += frame(Command.UPDATE_DEVICE)
    out += frame(Command.LATTICE, PRINT_LATTICE)
    for top in range(0, len(data), raster.bytes_per_row):
        out += print_row(data[top : top + raster.bytes_per_row], run_length=model.run_length_rows)
    out += frame(Command.LATTICE, FINISH_LATTICE)
    out += speed(FEED_SPEED)
    if model.feeds_with_blank_rows:
        out += frame(Command.PRINT_ROW, bytes(raster.bytes_per_row)) * FEED_ROWS
    else:
        out += feed(FEED_ROWS)
    out += frame(Command.DEVICE_STATE)
    return bytes(out)
