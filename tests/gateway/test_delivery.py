"""Printouts spooled to a directory: one ESC/POS file per job, with the permissions the umask
gives any new file (not the owner-only ones of a temporary file). Printouts on printers: a
Bluetooth cat printer (the fake airspace as this machine's Bluetooth) or ESC/POS, each counted
when sent and, by reason, when it fails; a failing printer never stops the gateway."""

from __future__ import annotations

import asyncio
import os
import stat
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.audio import wav_bytes
from tests.support.backends import ScriptedIllustrator, ScriptedTranscriber
from tests.support.catprinter import Airspace, FakeCatPrinter
from tests.support.clients import free_port
from tests.support.gateway import running_gateway
from voxprint.clients import escpos
from voxprint.clients.catprinter.protocol import Status
from voxprint.clients.device_sim import SimulatedDevice, read_wav
from voxprint.clients.gateway.counters import Counters
from voxprint.clients.gateway.delivery import Delivery, DirectoryDelivery, PrinterDelivery, UdpDelivery, destinations
from voxprint.clients.printers import PrinterError
from voxprint.v1 import voxprint_pb2

JOB = voxprint_pb2.Job(id=str(uuid.uuid4()), state=voxprint_pb2.JOB_STATE_COMPLETED)
RASTER = voxprint_pb2.FetchResponse(data=bytes(range(48)) * 4, width=384, height=4, bytes_per_row=48)


@pytest.fixture
def umask() -> Iterator[None]:
    """Restores the process umask a test sets."""
    previous = os.umask(0o022)
    os.umask(previous)
    yield
    os.umask(previous)


async def spool(directory: Path) -> Path:
    await DirectoryDelivery(directory, Counters()).deliver(None, JOB, RASTER)
    return directory / f"{JOB.id}.escpos"


async def test_a_spooled_printout_is_the_jobs_escpos(tmp_path: Path) -> None:
    printed = escpos.parse((await spool(tmp_path)).read_bytes())
    assert (printed.data, printed.height) == (RASTER.data, RASTER.height)


@pytest.mark.parametrize(("mask", "mode"), [(0o022, 0o644), (0o077, 0o600)])
async def test_a_spooled_printout_gets_the_permissions_the_umask_gives(
    tmp_path: Path, umask: None, mask: int, mode: int
) -> None:
    os.umask(mask)
    assert stat.S_IMODE((await spool(tmp_path)).stat().st_mode) == mode


# --- printers -------------------------------------------------------------------------------------

CAT_PRINTER = "C0:FF:EE:00:00:01"
CAT_DESTINATION = f"catprinter://{CAT_PRINTER}?model=GB01"


def printer_delivery(spec: str, counters: Counters) -> Delivery:
    """The delivery `--deliver spec` makes (a printer map builds its destinations the same way)."""
    udp = UdpDelivery(lambda datagram, address: None, counters, time.monotonic)
    (delivery,) = destinations([spec], udp, counters)
    return delivery


def cat_printer(airspace: Airspace, **behaviour) -> FakeCatPrinter:
    # A BLE 5 sized link keeps the references' pause between writes short.
    printer = FakeCatPrinter(address=CAT_PRINTER, max_write=509, **behaviour)
    airspace.add(printer)
    return printer


async def test_a_cat_printer_destination_prints_the_raster_and_counts_it(bluetooth: Airspace) -> None:
    printer, counters = cat_printer(bluetooth), Counters()
    delivery = printer_delivery(CAT_DESTINATION, counters)
    await delivery.deliver(None, JOB, RASTER)
    assert isinstance(delivery, PrinterDelivery) and delivery.name == CAT_DESTINATION
    assert printer.image == RASTER.data
    assert counters["deliveries.catprinter.sent"] == 1


async def test_a_failing_cat_printer_is_counted_by_its_reason(bluetooth: Airspace) -> None:
    cat_printer(bluetooth, status=Status.NO_PAPER)
    counters = Counters()
    with pytest.raises(PrinterError, match="is out of paper"):
        await printer_delivery(CAT_DESTINATION, counters).deliver(None, JOB, RASTER)
    assert (counters["deliveries.catprinter.failed.no_paper"], counters["deliveries.catprinter.sent"]) == (1, 0)


async def test_a_raster_too_wide_for_a_cat_printer_is_counted_and_never_sent(bluetooth: Airspace) -> None:
    printer, counters = cat_printer(bluetooth), Counters()
    wide = voxprint_pb2.FetchResponse(data=bytes(72), width=576, height=1, bytes_per_row=72)
    with pytest.raises(PrinterError, match="576 dots wide"):
        await printer_delivery(CAT_DESTINATION, counters).deliver(None, JOB, wide)
    assert counters["deliveries.catprinter.failed.wrong_width"] == 1
    assert printer.received == b""


async def test_two_printouts_for_one_cat_printer_print_one_after_the_other(bluetooth: Airspace) -> None:
    printer = cat_printer(bluetooth)
    delivery = printer_delivery(CAT_DESTINATION, Counters())
    await asyncio.gather(delivery.deliver(None, JOB, RASTER), delivery.deliver(None, JOB, RASTER))
    assert printer.image == RASTER.data * 2


async def test_an_unreachable_escpos_printer_is_counted_by_its_reason() -> None:
    counters = Counters()
    with pytest.raises(PrinterError):
        await printer_delivery(f"tcp://127.0.0.1:{free_port()}", counters).deliver(None, JOB, RASTER)
    assert counters["deliveries.escpos.failed.unreachable"] == 1


async def test_the_catprinter_file_destination_gets_the_bytes_that_print_the_raster(tmp_path: Path) -> None:
    path = tmp_path / "job.catprinter"
    await printer_delivery(f"catprinter+file://{path}?model=GB01", Counters()).deliver(None, JOB, RASTER)
    printer = FakeCatPrinter()
    printer.take(path.read_bytes())
    assert printer.image == RASTER.data


@pytest.fixture
def recording(tmp_path: Path) -> Path:
    path = tmp_path / "recording.wav"
    path.write_bytes(wav_bytes(0.5))
    return path


@pytest.fixture
def scripted_server(server_factory):
    return server_factory(transcriber=ScriptedTranscriber(), illustrator=ScriptedIllustrator())


async def test_a_gateway_with_deliver_catprinter_prints_each_recording_on_it(
    bluetooth: Airspace, scripted_server, recording: Path
) -> None:
    printer = cat_printer(bluetooth)
    async with running_gateway(scripted_server.target, deliver=("udp", CAT_DESTINATION)) as gateway:
        result = await SimulatedDevice(gateway.address, speed=8.0).run(read_wav(recording), timeout=60.0)
        # The device has its printout; the cat printer after it takes its own next.
        await asyncio.wait_for(counted(gateway.counters, "deliveries.catprinter.sent", 1), 10.0)
    assert result.raster is not None
    assert printer.image == result.raster.data


async def test_the_gateway_prints_past_a_missing_cat_printer_and_keeps_serving(
    bluetooth: Airspace, scripted_server, recording: Path, tmp_path: Path
) -> None:
    spool = tmp_path / "spool"
    spool.mkdir()
    async with running_gateway(scripted_server.target, deliver=("udp", CAT_DESTINATION, str(spool))) as gateway:
        jobs = []
        for _ in range(2):
            jobs.append((await SimulatedDevice(gateway.address, speed=8.0).run(read_wav(recording), 60.0)).job_id)
        await asyncio.wait_for(counted(gateway.counters, "deliveries.directory.written", 2), 10.0)
    assert sorted(path.name for path in spool.iterdir()) == sorted(f"{job}.escpos" for job in jobs)
    assert gateway.counters["deliveries.catprinter.failed.not_found"] == 2
    assert gateway.counters["deliveries.failed"] == 2


async def counted(counters: Counters, name: str, count: int) -> None:
    while counters[name] < count:
        await asyncio.sleep(0.01)
