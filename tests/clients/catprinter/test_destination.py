"""Cat printer destinations: what `--deliver`, `voxprint print --to` and printer maps accept."""

from __future__ import annotations

from pathlib import Path

import pytest

from voxprint.clients import printers
from voxprint.clients.catprinter import protocol
from voxprint.clients.catprinter.destination import CatPrinter, CatPrinterFile
from voxprint.clients.catprinter.protocol import PrintSettings
from voxprint.clients.printer_error import PrinterError

GB01 = protocol.MODELS["GB01"]


@pytest.mark.parametrize(
    ("text", "destination"),
    [
        ("catprinter://AA:BB:CC:DD:EE:FF?model=GB01", CatPrinter("AA:BB:CC:DD:EE:FF", PrintSettings(GB01, 12000, 35))),
        ("catprinter://aa:bb:cc:dd:ee:ff?model=gb01", CatPrinter("AA:BB:CC:DD:EE:FF", PrintSettings(GB01, 12000, 35))),
        (
            "catprinter://AA:BB:CC:DD:EE:FF?model=GB01&energy=17500&speed=40",
            CatPrinter("AA:BB:CC:DD:EE:FF", PrintSettings(GB01, 17500, 40)),
        ),
        (
            "catprinter://AA:BB:CC:DD:EE:FF?model=GB01&energy=0x4000",
            CatPrinter("AA:BB:CC:DD:EE:FF", PrintSettings(GB01, 0x4000, 35)),
        ),
        (
            "catprinter://09480c21-65b5-477b-b475-c797cd0d6b1c?model=GT01",
            CatPrinter("09480C21-65B5-477B-B475-C797CD0D6B1C", PrintSettings.for_model(protocol.MODELS["GT01"])),
        ),
        (
            "catprinter+file:///tmp/job.catprinter?model=GB03",
            CatPrinterFile(Path("/tmp/job.catprinter"), PrintSettings.for_model(protocol.MODELS["GB03"])),
        ),
    ],
)
def test_cat_printer_destinations_come_out_of_parse_destination(text, destination):
    assert printers.parse_destination(text) == destination


@pytest.mark.parametrize(
    "text",
    [
        "catprinter://AA:BB:CC:DD:EE:FF?model=GB01",
        "catprinter://AA:BB:CC:DD:EE:FF?model=MX06&energy=20000&speed=40",
        "catprinter+file:///var/spool/a%20job.bin?model=GB03",
        "catprinter+file:relative.bin?model=GB02",
    ],
)
def test_a_destination_reads_back_as_itself(text):
    assert str(printers.parse_destination(text)) == text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("catprinter://AA:BB:CC:DD:EE:FF", "needs \\?model= one of GB01, GB02"),
        ("catprinter://AA:BB:CC:DD:EE:FF?model=XX99", "needs \\?model="),
        ("catprinter://AA:BB:CC?model=GB01", "expected a Bluetooth address AA:BB:CC:DD:EE:FF"),
        ("catprinter://AA:BB:CC:DD:EE:FF/queue?model=GB01", "expected a Bluetooth address"),
        ("catprinter://AA:BB:CC:DD:EE:FF?model=GB01&model=GB02", "each of model, energy, speed at most once"),
        ("catprinter://AA:BB:CC:DD:EE:FF?model=GB01&darkness=3", "each of model, energy, speed at most once"),
        ("catprinter://AA:BB:CC:DD:EE:FF?model=GB01&energy=70000", "energy must be 0..65535, not 70000"),
        ("catprinter://AA:BB:CC:DD:EE:FF?model=GB01&speed=fast", "speed must be a whole number, not 'fast'"),
        ("catprinter+file://host/job.bin?model=GB01", "expected catprinter://"),
    ],
)
def test_a_bad_cat_printer_destination_is_one_clear_error(text, message):
    with pytest.raises(PrinterError, match=message) as refused:
        printers.parse_destination(text)
    assert refused.value.reason == "bad_destination"


def test_escpos_bytes_are_not_sent_to_a_cat_printer():
    with pytest.raises(PrinterError, match="is a cat printer: it takes cat printer commands, not ESC/POS"):
        printers.send(b"\x1b@", "catprinter://AA:BB:CC:DD:EE:FF?model=GB01")
