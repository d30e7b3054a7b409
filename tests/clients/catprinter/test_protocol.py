"""The cat printer encoder, byte for byte against the public references.

Every expected byte string here is copied from a reference, or printed by the reference's own
code (run once, offline) for the argument shown:

* rbaron — rbaron/catprinter ``catprinter/cmds.py`` (the ``CMD_*`` byte lists and
  ``cmd_feed_paper``, ``cmd_apply_energy``, ``cmd_print_row``);
* NaitLee — NaitLee/Cat-Printer ``printer_lib/commander.py`` (``Commander.data_flow_pause`` and
  ``data_flow_resume``, ``set_energy``, ``set_speed``, ``update_device``, ``feed_paper``,
  ``start_printing_new``, ``draw_bitmap``, ``crc8``).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.catprinter import FakeCatPrinter
from voxprint import rasterizer
from voxprint.clients.catprinter import protocol
from voxprint.clients.catprinter.protocol import Command, PrintSettings
from voxprint.clients.printer_error import PrinterError

# rbaron, cmds.py: CMD_GET_DEV_STATE, CMD_SET_QUALITY_200_DPI, CMD_LATTICE_START, CMD_LATTICE_END,
# CMD_SET_PAPER (a 48-row feed), cmd_feed_paper(25) (which is the speed command 0xBD),
# cmd_apply_energy().
RBARON_STATE = "51 78 a3 00 01 00 00 00 ff"
RBARON_QUALITY = "51 78 a4 00 01 00 32 9e ff"
RBARON_LATTICE_START = "51 78 a6 00 0b 00 aa 55 17 38 44 5f 5f 5f 44 38 2c a1 ff"
RBARON_LATTICE_END = "51 78 a6 00 0b 00 aa 55 17 00 00 00 00 00 00 00 17 11 ff"
RBARON_FEED_48 = "51 78 a1 00 02 00 30 00 f9 ff"
RBARON_SPEED_25 = "51 78 bd 00 01 00 19 4f ff"
RBARON_APPLY_ENERGY = "51 78 be 00 01 00 01 07 ff"
# NaitLee, commander.py: set_energy(12000), set_speed(35), update_device(), feed_paper(128),
# start_printing_new(), data_flow_pause, data_flow_resume.
NAITLEE_ENERGY_12000 = "51 78 af 00 02 00 e0 2e 89 ff"
NAITLEE_SPEED_35 = "51 78 bd 00 01 00 23 e9 ff"
NAITLEE_UPDATE = "51 78 a9 00 01 00 00 00 ff"
NAITLEE_FEED_128 = "51 78 a1 00 02 00 80 00 b6 ff"
NAITLEE_START_NEW = "12 51 78 a3 00 01 00 00 00 ff"
NAITLEE_PAUSE = "51 78 ae 01 01 00 10 70 ff"
NAITLEE_RESUME = "51 78 ae 01 01 00 00 00 ff"
# rbaron, cmd_print_row([1 if x % 3 == 0 else 0 for x in range(384)]): too busy for runs, so 0xA2.
RBARON_ROW_EVERY_THIRD_DOT = "51 78 a2 00 30 00" + " 49 92 24" * 16 + " 9c ff"
# NaitLee, draw_bitmap(MSB-first 80 40 00 … 00 01) — dots 0, 9 and 383 black — reversed onto the wire.
NAITLEE_ROW_DOTS_0_9_383 = "51 78 a2 00 30 00 01 02" + " 00" * 45 + " 80 32 ff"
# rbaron, cmd_print_row of: ten black dots then 374 white; all white; all black (0xBF runs).
RBARON_RUNS_TEN_BLACK = "51 78 bf 00 04 00 8a 7f 7f 78 83 ff"
RBARON_RUNS_WHITE = "51 78 bf 00 04 00 7f 7f 7f 03 a8 ff"
RBARON_RUNS_BLACK = "51 78 bf 00 04 00 ff ff ff 83 ad ff"

GB01 = protocol.MODELS["GB01"]


def row_of(dots: list[int]) -> bytes:
    """A packed LSB-first 384-dot row with the given dots black."""
    pixels = np.zeros(384, dtype=np.uint8)
    pixels[dots] = 1
    return np.packbits(pixels, bitorder="little").tobytes()


def raster_of(*rows: bytes, width: int = 384) -> rasterizer.Raster:
    return rasterizer.Raster(b"".join(rows), width, len(rows), width // 8)


EVERY_THIRD_DOT = row_of(list(range(0, 384, 3)))
DOTS_0_9_383 = row_of([0, 9, 383])


def test_crc8_gives_the_catalogued_check_value():
    # CRC-8/SMBUS (poly 0x07, init 0) of "123456789" is 0xF4; NaitLee's crc8 gives the same.
    assert protocol.crc8(b"123456789") == 0xF4


@pytest.mark.parametrize(
    ("payload", "crc"),
    [
        (b"\x32", 0x9E),  # rbaron CMD_SET_QUALITY_200_DPI
        (protocol.PRINT_LATTICE, 0xA1),  # rbaron CMD_LATTICE_START
        (protocol.FINISH_LATTICE, 0x11),  # rbaron CMD_LATTICE_END
        (b"\x30\x00", 0xF9),  # rbaron CMD_SET_PAPER
        (b"\x01", 0x07),  # rbaron cmd_apply_energy
        (b"\x10", 0x70),  # NaitLee data_flow_pause
        (b"\x00", 0x00),  # rbaron CMD_GET_DEV_STATE
    ],
)
def test_crc8_matches_the_references_frames(payload, crc):
    assert protocol.crc8(payload) == crc


@pytest.mark.parametrize(
    ("made", "reference"),
    [
        pytest.param(protocol.frame(Command.DEVICE_STATE), RBARON_STATE, id="state"),
        pytest.param(protocol.frame(Command.QUALITY, bytes([protocol.QUALITY_200_DPI])), RBARON_QUALITY, id="quality"),
        pytest.param(protocol.frame(Command.LATTICE, protocol.PRINT_LATTICE), RBARON_LATTICE_START, id="lattice-start"),
        pytest.param(protocol.frame(Command.LATTICE, protocol.FINISH_LATTICE), RBARON_LATTICE_END, id="lattice-end"),
        pytest.param(protocol.feed(48), RBARON_FEED_48, id="feed-48"),
        pytest.param(protocol.speed(protocol.FEED_SPEED), RBARON_SPEED_25, id="feed-speed"),
        pytest.param(protocol.frame(Command.APPLY_ENERGY, b"\x01"), RBARON_APPLY_ENERGY, id="apply-energy"),
        pytest.param(protocol.energy(12000), NAITLEE_ENERGY_12000, id="energy"),
        pytest.param(protocol.speed(35), NAITLEE_SPEED_35, id="speed"),
        pytest.param(protocol.frame(Command.UPDATE_DEVICE), NAITLEE_UPDATE, id="update"),
        pytest.param(protocol.feed(protocol.FEED_ROWS), NAITLEE_FEED_128, id="feed-128"),
        pytest.param(protocol.print_row(EVERY_THIRD_DOT), RBARON_ROW_EVERY_THIRD_DOT, id="row"),
        pytest.param(
            protocol.print_row(EVERY_THIRD_DOT, run_length=True), RBARON_ROW_EVERY_THIRD_DOT, id="row-busier-than-runs"
        ),
        pytest.param(protocol.print_row(DOTS_0_9_383), NAITLEE_ROW_DOTS_0_9_383, id="row-naitlee"),
        pytest.param(
            protocol.print_row(row_of(list(range(10))), run_length=True), RBARON_RUNS_TEN_BLACK, id="runs-ten-black"
        ),
        pytest.param(protocol.print_row(row_of([]), run_length=True), RBARON_RUNS_WHITE, id="runs-white"),
        pytest.param(protocol.print_row(row_of(list(range(384))), run_length=True), RBARON_RUNS_BLACK, id="runs-black"),
    ],
)
def test_each_command_is_the_references_frame(made, reference):
    assert made.hex(" ") == reference


def test_the_leftmost_dot_is_the_least_significant_bit_of_the_first_byte():
    frame = protocol.print_row(DOTS_0_9_383)
    assert frame[protocol.HEADER_SIZE : protocol.HEADER_SIZE + 2] == bytes([0b0000_0001, 0b0000_0010])


def test_energy_goes_low_byte_first():
    # JJJollyjim: "a sixteen bit integer with the low byte first"; 0x1234 tells the orders apart.
    assert protocol.energy(0x1234)[protocol.HEADER_SIZE : protocol.HEADER_SIZE + 2] == b"\x34\x12"


@pytest.mark.parametrize(
    ("notification", "command", "payload"),
    [(NAITLEE_PAUSE, Command.FLOW_CONTROL, b"\x10"), (NAITLEE_RESUME, Command.FLOW_CONTROL, b"\x00")],
)
def test_the_printers_flow_control_notifications_decode(notification, command, payload):
    assert protocol.decode_frame(bytes.fromhex(notification)) == protocol.Frame(command, payload, from_printer=True)


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        ("51 78 a3 00 01 00 00 01 ff", "CRC 0x01, its payload's is 0x00"),
        ("51 78 a3 00 02 00 00 00 ff", "says 2 payload bytes but has 1"),
        ("51 79 a3 00 01 00 00 00 ff", "not a frame"),
        ("51 78 a3 00 01 00 00 00 fe", "malformed"),
    ],
)
def test_a_damaged_frame_does_not_decode(frame, message):
    with pytest.raises(protocol.FrameError, match=message):
        protocol.decode_frame(bytes.fromhex(frame))


def test_a_small_gb01_job_is_the_references_commands_in_naitlees_order():
    job = protocol.encode(raster_of(EVERY_THIRD_DOT, DOTS_0_9_383), PrintSettings.for_model(GB01))
    expected = [
        RBARON_STATE,  # what state is the printer in (its answer may stop the job)
        RBARON_QUALITY,
        NAITLEE_SPEED_35,  # GB01's image-mode speed (JJJollyjim)
        NAITLEE_ENERGY_12000,  # GB01's "moderation" energy (JJJollyjim)
        RBARON_APPLY_ENERGY,
        NAITLEE_UPDATE,
        RBARON_LATTICE_START,
        RBARON_ROW_EVERY_THIRD_DOT,
        NAITLEE_ROW_DOTS_0_9_383,
        RBARON_LATTICE_END,
        RBARON_SPEED_25,
        NAITLEE_FEED_128,
        RBARON_STATE,  # answered once the printer has read everything
    ]
    assert job.hex(" ") == " ".join(expected)


def test_a_gb03_job_starts_with_the_new_kind_start_byte_and_sends_rows_as_runs():
    job = protocol.encode(raster_of(row_of(list(range(10)))), PrintSettings.for_model(protocol.MODELS["GB03"]))
    assert job.hex(" ").startswith(f"{RBARON_STATE} {NAITLEE_START_NEW} {RBARON_QUALITY}")
    assert RBARON_RUNS_TEN_BLACK in job.hex(" ")


@pytest.mark.parametrize("name", ["MX05", "MX06", "MX08", "MX09", "MX10"])
def test_models_that_cannot_feed_get_128_blank_rows_instead(name):
    job = protocol.encode(raster_of(DOTS_0_9_383), PrintSettings.for_model(protocol.MODELS[name]))
    blank_rows = protocol.print_row(bytes(48)).hex(" ")
    assert job.hex(" ").endswith(f"{RBARON_LATTICE_END} {RBARON_SPEED_25} " + f"{blank_rows} " * 128 + RBARON_STATE)


def test_an_msb_first_raster_prints_the_same_dots():
    msb = rasterizer.Raster(bytes(reversed_bits(DOTS_0_9_383)), 384, 1, 48, bit_order="msb")
    settings = PrintSettings.for_model(GB01)
    assert protocol.encode(msb, settings) == protocol.encode(raster_of(DOTS_0_9_383), settings)


def reversed_bits(row: bytes) -> bytes:
    return np.packbits(np.unpackbits(np.frombuffer(row, dtype=np.uint8), bitorder="little")).tobytes()


@pytest.mark.parametrize("width", [576, 192])
def test_a_raster_wider_or_narrower_than_the_head_is_refused(width):
    with pytest.raises(
        PrinterError, match=f"the picture is {width} dots wide; a GB01 prints rows of exactly 384"
    ) as refused:
        protocol.encode(raster_of(bytes(width // 8), width=width), PrintSettings.for_model(GB01))
    assert refused.value.reason == "wrong_width"


@pytest.mark.parametrize(
    ("name", "energy", "speed"),
    [("GB01", 12000, 35), ("GB02", 12000, 26), ("GT01", 12000, 30), ("GB03", 0x4000, 32), ("MX06", 0x4000, 32)],
)
def test_each_model_prints_at_its_own_energy_and_speed_unless_told(name, energy, speed):
    assert PrintSettings.for_model(protocol.MODELS[name]) == PrintSettings(protocol.MODELS[name], energy, speed)
    assert PrintSettings.for_model(protocol.MODELS[name], energy=17500, speed=40).energy == 17500


@pytest.mark.parametrize(("energy", "speed"), [(-1, 32), (0x10000, 32), (0x4000, 0), (0x4000, 256)])
def test_energy_and_speed_out_of_range_are_refused(energy, speed):
    with pytest.raises(ValueError):
        PrintSettings(GB01, energy, speed)


@pytest.mark.parametrize(("advertised", "model"), [("GB03", "GB03"), ("MX06-1a2b", "MX06"), ("sc03h", "SC03h")])
def test_an_advertised_name_names_its_model(advertised, model):
    assert protocol.model_named(advertised) == protocol.MODELS[model]


def test_a_name_that_is_no_model_names_none():
    assert protocol.model_named("Pixel 8") is None


rows = st.lists(st.binary(min_size=48, max_size=48), min_size=1, max_size=12)


@given(rows, st.sampled_from(sorted(protocol.MODELS)))
def test_a_printer_reading_the_job_prints_the_raster_dot_for_dot(raster_rows, name):
    printer = FakeCatPrinter(name=name)
    printer.take(protocol.encode(raster_of(*raster_rows), PrintSettings.for_model(protocol.MODELS[name])))
    assert printer.image == b"".join(raster_rows)
    assert (printer.rejected, printer.ignored, printer.fed_rows) == ([], [], protocol.FEED_ROWS)
