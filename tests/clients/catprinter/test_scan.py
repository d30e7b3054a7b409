"""`find_printers`: the cat printers in range, through the real `BleakScanner` on a fake airspace."""

from __future__ import annotations

from tests.support.catprinter import Airspace, FakeCatPrinter, OtherDevice
from voxprint.clients.catprinter import protocol, scan

MACOS_SERVICE = "0000af30-0000-1000-8000-00805f9b34fb"


async def found_in(*devices: FakeCatPrinter | OtherDevice) -> list[scan.FoundPrinter]:
    return await scan.find_printers(0.01, backend=Airspace(*devices).scanner_backend)


async def test_a_cat_printer_is_found_with_the_destination_that_prints_on_it() -> None:
    (found,) = await found_in(FakeCatPrinter(address="C0:FF:EE:00:00:01", name="GB01", rssi=-58))
    assert (found.name, found.model, found.rssi) == ("GB01", protocol.MODELS["GB01"], -58)
    assert str(found.destination) == "catprinter://C0:FF:EE:00:00:01?model=GB01"


async def test_other_devices_in_range_are_left_out() -> None:
    found = await found_in(
        FakeCatPrinter(address="C0:FF:EE:00:00:01"),
        OtherDevice("11:22:33:44:55:66", "Pixel 8", advertised_services=("0000180f-0000-1000-8000-00805f9b34fb",)),
        OtherDevice("11:22:33:44:55:67", None),
    )
    assert [printer.address for printer in found] == ["C0:FF:EE:00:00:01"]


async def test_printers_are_listed_strongest_signal_first() -> None:
    found = await found_in(
        FakeCatPrinter(address="C0:FF:EE:00:00:01", rssi=-80),
        FakeCatPrinter(address="C0:FF:EE:00:00:02", name="MX06", rssi=-40),
    )
    assert [printer.name for printer in found] == ["MX06", "GB01"]


async def test_a_clone_that_advertises_no_service_is_found_by_its_model_name() -> None:
    (found,) = await found_in(FakeCatPrinter(name="GB03", advertised_services=()))
    assert found.model == protocol.MODELS["GB03"]


async def test_a_printer_with_an_unknown_name_is_found_by_its_service_without_a_model() -> None:
    (found,) = await found_in(FakeCatPrinter(name="Cat Printer"))
    assert (found.model, found.destination) == (None, None)


async def test_the_service_macos_reports_counts_too() -> None:
    (found,) = await found_in(OtherDevice("C0:FF:EE:00:00:09", "Printer", advertised_services=(MACOS_SERVICE,)))
    assert found.address == "C0:FF:EE:00:00:09"
