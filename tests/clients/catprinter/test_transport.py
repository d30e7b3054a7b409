"""Printing over Bluetooth LE: the real `BleakClient`, with a fake printer as its backend."""

from __future__ import annotations

import logging
import math

import pytest

from tests.support.catprinter import Airspace, FakeCatPrinter
from voxprint import rasterizer
from voxprint.clients.catprinter import protocol, transport
from voxprint.clients.catprinter.protocol import PrintSettings, Status
from voxprint.clients.catprinter.transport import Timeouts
from voxprint.clients.printer_error import PrinterError

QUICK = Timeouts(connect=1.0, stall=0.3, finish=0.3)


def striped_raster(height: int = 40) -> rasterizer.Raster:
    """Rows that differ from each other and within themselves, so any lost or shifted dot shows."""
    rows = [bytes((row * 7 + column * 13) % 256 for column in range(48)) for row in range(height)]
    return rasterizer.Raster(b"".join(rows), 384, height, 48)


async def print_on(printer: FakeCatPrinter, raster: rasterizer.Raster | None = None, *, model: str = "GB01", **kwargs):
    """Prints ``raster`` (default: stripes) on ``printer`` through the transport; returns the bytes sent."""
    airspace = Airspace(printer)
    data = protocol.encode(raster or striped_raster(), PrintSettings.for_model(protocol.MODELS[model]))
    await transport.send(
        data,
        printer.address,
        protocol.MODELS[model],
        backend=airspace.client_backend,
        timeouts=kwargs.pop("timeouts", QUICK),
        chunk_interval=0,
        **kwargs,
    )
    return data


async def test_the_printed_paper_is_the_raster_dot_for_dot() -> None:
    printer, raster = FakeCatPrinter(), striped_raster()
    await print_on(printer, raster)
    assert printer.image == raster.data
    assert (printer.rejected, printer.ignored, printer.fed_rows) == ([], [], protocol.FEED_ROWS)


async def test_the_printer_gets_every_byte_exactly_once_in_order() -> None:
    printer = FakeCatPrinter()
    assert printer.received == await print_on(printer)


@pytest.mark.parametrize("max_write", [20, 182, 509])
async def test_writes_fill_the_links_largest_write_without_response(max_write: int) -> None:
    printer = FakeCatPrinter(max_write=max_write)
    data = await print_on(printer)
    assert printer.writes == math.ceil(len(data) / max_write)


async def test_nothing_is_written_while_the_printer_has_paused_the_transfer() -> None:
    printer = FakeCatPrinter(pause_every=200, resume_after=0.002)
    await print_on(printer)
    assert printer.pauses >= 10
    assert printer.overrun == 0


async def test_a_printer_that_pauses_and_resumes_still_prints_everything() -> None:
    printer, raster = FakeCatPrinter(pause_every=300, resume_after=0.002), striped_raster()
    await print_on(printer, raster)
    assert printer.image == raster.data


async def test_a_printer_that_never_resumes_ends_the_print_as_stalled() -> None:
    printer = FakeCatPrinter(pause_every=300, resume_after=None)
    with pytest.raises(
        PrinterError, match=r"paused the transfer and did not resume within 0\.3 s \(300 of \d+ bytes sent\)"
    ) as stalled:
        await print_on(printer)
    assert stalled.value.reason == "stalled"
    assert len(printer.received) == 300


async def test_a_printer_that_disconnects_halfway_is_one_clear_error() -> None:
    printer = FakeCatPrinter(disconnect_after=500)
    with pytest.raises(
        PrinterError, match=r"C0:FF:EE:00:00:01 disconnected mid-print \(500 of \d+ bytes sent\)"
    ) as lost:
        await print_on(printer)
    assert lost.value.reason == "disconnected"


async def test_an_address_nobody_answers_is_not_found() -> None:
    with pytest.raises(PrinterError, match="cat printer 11:22:33:44:55:66 not found: is it switched on") as missing:
        await transport.send(b"", "11:22:33:44:55:66", protocol.MODELS["GB01"], backend=Airspace().client_backend)
    assert missing.value.reason == "not_found"


@pytest.mark.parametrize(
    ("status", "reason", "message"),
    [
        (Status.NO_PAPER, "no_paper", "is out of paper"),
        (Status.COVER_OPEN, "cover_open", "has its lid open"),
        (Status.OVERHEATED, "overheated", "is overheated: let it cool down"),
    ],
)
async def test_a_problem_the_printer_reports_ends_the_print_before_any_row(status, reason, message) -> None:
    printer = FakeCatPrinter(status=status)
    with pytest.raises(PrinterError, match=f"cat printer C0:FF:EE:00:00:01 {message}") as reported:
        await print_on(printer)
    assert reported.value.reason == reason
    assert printer.rows == []


async def test_a_low_battery_only_warns(caplog: pytest.LogCaptureFixture) -> None:
    printer, raster = FakeCatPrinter(status=Status.LOW_BATTERY), striped_raster()
    with caplog.at_level(logging.WARNING):
        await print_on(printer, raster)
    assert printer.image == raster.data
    assert "battery low" in caplog.text


async def test_a_printer_that_names_itself_another_model_is_refused_before_any_byte() -> None:
    printer = FakeCatPrinter(name="GB03")
    with pytest.raises(PrinterError, match="is a GB03, not a GB01: use \\?model=GB03") as refused:
        await print_on(printer, model="GB01")
    assert refused.value.reason == "wrong_model"
    assert printer.received == b""


async def test_a_printer_whose_name_is_no_model_is_trusted_with_the_destinations_model() -> None:
    printer, raster = FakeCatPrinter(name="Cat Printer"), striped_raster()
    await print_on(printer, raster, model="GB01")
    assert printer.image == raster.data


async def test_a_printer_that_never_answers_state_requests_still_gets_the_whole_job() -> None:
    printer, raster = FakeCatPrinter(answers_state=False), striped_raster()
    await print_on(printer, raster)
    assert printer.image == raster.data


async def test_the_printer_is_let_go_after_the_job() -> None:
    printer = FakeCatPrinter()
    await print_on(printer)
    assert printer.link is None


async def test_the_printer_is_let_go_after_a_failure_too() -> None:
    printer = FakeCatPrinter(status=Status.NO_PAPER)
    with pytest.raises(PrinterError):
        await print_on(printer)
    assert printer.link is None


async def test_a_gb03_prints_its_run_length_rows_dot_for_dot() -> None:
    printer = FakeCatPrinter(name="GB03")
    raster = rasterizer.Raster(bytes(48 * 3) + b"\xff" * 48, 384, 4, 48)
    await print_on(printer, raster, model="GB03")
    assert printer.image == raster.data
    assert printer.start_bytes == 1


async def test_the_fake_printer_refuses_a_frame_whose_crc_is_wrong() -> None:
    # The check the other tests rely on: a wrong CRC costs a row, so the image comparison fails.
    printer, raster = FakeCatPrinter(), striped_raster(height=3)
    data = bytearray(protocol.encode(raster, PrintSettings.for_model(protocol.MODELS["GB01"])))
    second_row = data.index(protocol.print_row(raster.data[48:96]))
    data[second_row + protocol.HEADER_SIZE + 48] ^= 0xFF  # its CRC byte
    await transport.send(
        bytes(data),
        printer.address,
        protocol.MODELS["GB01"],
        backend=Airspace(printer).client_backend,
        chunk_interval=0,
    )
    assert any("CRC" in why for why in printer.rejected)
    assert printer.image == raster.data[:48] + raster.data[96:]
