"""Find the cat printers in Bluetooth range, each with the destination that prints on it.

A cat printer advertises its model as its name ("GB01", "MX06", ...; NaitLee's ``scan`` matches
names that start with a known model) and, usually, its service ``ae30`` (rbaron discovers
printers by it, and also by ``af30``, which macOS reports for the same printers). A device that
matches either is listed; one whose name is no known model is listed without a model.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from bleak import BleakScanner
from bleak.backends.scanner import BaseBleakScanner
from bleak.exc import BleakError

from voxprint.clients.catprinter import protocol
from voxprint.clients.catprinter.destination import CatPrinter
from voxprint.clients.catprinter.transport import SERVICE, bleak_message
from voxprint.clients.printer_error import PrinterError

#: The service macOS reports for the same printers (rbaron's ``ble.py``).
MACOS_SERVICE = "0000af30-0000-1000-8000-00805f9b34fb"
DEFAULT_SECONDS = 5.0


@dataclass(frozen=True)
class FoundPrinter:
    address: str
    name: str
    model: protocol.Model | None
    rssi: int

    @property
    def destination(self) -> CatPrinter | None:
        """Where to print on it, with the model's own energy and speed (None: model unknown)."""
        if self.model is None:
            return None
        return CatPrinter(self.address, protocol.PrintSettings.for_model(self.model))


async def find_printers(
    seconds: float = DEFAULT_SECONDS, *, backend: type[BaseBleakScanner] | None = None
) -> list[FoundPrinter]:
    """Listen to advertisements for ``seconds``; the cat printers heard, strongest signal first.

    ``backend`` is bleak's switch for the platform's Bluetooth stack (the tests' fake airspace).
    """
    try:
        async with BleakScanner(backend=backend) as scanner:
            await asyncio.sleep(seconds)
    except BleakError as error:  # e.g. the adapter is off
        raise PrinterError(f"cannot scan: {bleak_message(error)}", "bluetooth") from None
    except OSError as error:  # no Bluetooth stack at all (BlueZ: no D-Bus system bus)
        raise PrinterError(
            f"cannot scan: Bluetooth is not available ({error.strerror or error})", "bluetooth"
        ) from None
    found = []
    for device, advertisement in scanner.discovered_devices_and_advertisement_data.values():
        name = advertisement.local_name or device.name or ""
        model = protocol.model_named(name)
        services = {uuid.lower() for uuid in advertisement.service_uuids}
        if model is not None or services & {SERVICE, MACOS_SERVICE}:
            found.append(FoundPrinter(device.address, name, model, advertisement.rssi))
    return sorted(found, key=lambda printer: -printer.rssi)
