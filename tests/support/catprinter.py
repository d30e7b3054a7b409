"""Cat printers without hardware: fake printers in a fake airspace, reached through real `bleak`.

``FakeCatPrinter`` is one printer as the references describe it (rbaron/catprinter, NaitLee/
Cat-Printer, JJJollyjim/catprinter's COMMANDS.md; see `voxprint.clients.catprinter.protocol`).
It reads every byte it is written as frames — magic, length, CRC-8, end byte, checked by
``protocol.decode_frame`` — and refuses a frame whose CRC is wrong (as a printer would, its row
never prints). It answers state requests with its status, fills its buffer and pauses the writer
(``0xAE 0x10``), resumes it (``0xAE 0x00``) or never does, and may drop the link halfway. What
it prints is rebuilt as paper: the rows between the print and finish lattices, bytes taken as
the wire carries them (leftmost dot in the least significant bit) or decoded from runs, plus
the rows of paper it fed. What the printer knows of models is written here from the references,
not taken from the code under test: GB03 takes the ``0x12`` start byte and run-length rows;
MX05–MX10 cannot feed.

``Airspace`` is the devices in range. Its ``client_backend`` and ``scanner_backend`` are bleak
backends (``BaseBleakClient``, ``BaseBleakScanner``) bound to it: tests pass them as
``BleakClient(address, backend=...)`` / ``backend=``; the ``bluetooth`` fixture installs them as
the platform's Bluetooth stack for code that takes no backend (the CLI, the gateway).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar

import bleak
import numpy as np
import pytest
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakDeviceNotFoundError, BleakError

from voxprint.clients.catprinter import protocol

SERVICE = "0000ae30-0000-1000-8000-00805f9b34fb"
WRITE = "0000ae01-0000-1000-8000-00805f9b34fb"
NOTIFY = "0000ae02-0000-1000-8000-00805f9b34fb"
#: NaitLee's ``Commander.data_flow_pause`` / ``data_flow_resume``, byte for byte.
PAUSE = bytes.fromhex("51 78 ae 01 01 00 10 70 ff")
RESUME = bytes.fromhex("51 78 ae 01 01 00 00 00 ff")
#: rbaron's ``CMD_LATTICE_START`` / ``CMD_LATTICE_END`` payloads.
PRINT_LATTICE = bytes.fromhex("aa 55 17 38 44 5f 5f 5f 44 38 2c")
FINISH_LATTICE = bytes.fromhex("aa 55 17 00 00 00 00 00 00 00 17")
#: NaitLee's ``start_printing_new``: GB03 ("new kind") takes this byte before a state request.
START_BYTE = 0x12
TAKES_START_BYTE_AND_RUNS = {"GB03"}
CANNOT_FEED = {"MX05", "MX06", "MX08", "MX09", "MX10"}
HEAD_DOTS = 384


@dataclass(eq=False)
class FakeCatPrinter:
    """One printer: how it behaves (the fields a test sets) and what it saw (the rest)."""

    address: str = "C0:FF:EE:00:00:01"
    name: str = "GB01"
    rssi: int = -60
    #: Services it advertises; a clone may advertise none and be known by its name only.
    advertised_services: tuple[str, ...] = (SERVICE,)
    #: The link's largest write without response (BlueZ before 5.62 always says 20).
    max_write: int = 20
    #: Its answer to state requests: `protocol.Status` bits (0 = ready).
    status: int = 0
    answers_state: bool = True
    #: Bytes its buffer takes before it pauses the writer (None: it never pauses).
    pause_every: int | None = None
    #: Seconds until it resumes a paused writer (None: it never does).
    resume_after: float | None = 0.005
    #: Bytes after which it drops the link (None: it stays).
    disconnect_after: int | None = None

    received: bytearray = field(default_factory=bytearray)
    writes: int = 0
    frames: list[protocol.Frame] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    ignored: list[protocol.Frame] = field(default_factory=list)
    rows: list[bytes] = field(default_factory=list)
    fed_rows: int = 0
    start_bytes: int = 0
    pauses: int = 0
    #: Bytes written after it told the writer to pause, before it resumed it.
    overrun: int = 0
    link: FakeCatPrinterClient | None = None

    def __post_init__(self) -> None:
        self._buffer = bytearray()
        self._in_lattice = False
        self._full = False
        self._writer_paused = False
        self._since_resumed = 0
        self._subscriber: NotifyCallback | None = None

    @property
    def image(self) -> bytes:
        """The printed rows, LSB-first, 48 bytes each: comparable to a raster's data."""
        return b"".join(self.rows)

    @property
    def energy(self) -> int | None:
        values = [f.payload for f in self.frames if f.command == protocol.Command.ENERGY]
        return int.from_bytes(values[-1], "little") if values else None

    @property
    def speeds(self) -> list[int]:
        return [f.payload[0] for f in self.frames if f.command == protocol.Command.SPEED]

    # --- the link ---------------------------------------------------------------------------

    def connect(self, client: FakeCatPrinterClient) -> None:
        if self.link is not None:
            raise BleakError(f"{self.address} is connected to another host")
        self.link = client

    def disconnect(self) -> None:
        self.link, self._subscriber = None, None

    def subscribe(self, callback: NotifyCallback | None) -> None:
        self._subscriber = callback

    def take(self, data: bytes) -> None:
        """A write without response: bytes into its buffer, read as frames."""
        if self._writer_paused:
            self.overrun += len(data)
        self.received += data
        self._buffer += data
        self._read_frames()
        self._since_resumed += len(data)
        if self.pause_every is not None and not self._full and self._since_resumed >= self.pause_every:
            self._pause()
        if self.disconnect_after is not None and len(self.received) >= self.disconnect_after:
            self._drop_link()

    def _notify(self, notification: bytes) -> None:
        # Notifications arrive later than the write that caused them, as over the air.
        subscriber = self._subscriber
        if subscriber is not None:
            asyncio.get_running_loop().call_soon(subscriber, bytearray(notification))

    def _pause(self) -> None:
        self._full = True
        self.pauses += 1

        def heard() -> None:
            self._writer_paused = True
            if self._subscriber is not None:
                self._subscriber(bytearray(PAUSE))

        loop = asyncio.get_running_loop()
        loop.call_soon(heard)
        if self.resume_after is not None:
            loop.call_later(self.resume_after, self._resume)

    def _resume(self) -> None:
        self._full = self._writer_paused = False
        self._since_resumed = 0
        if self._subscriber is not None:
            self._subscriber(bytearray(RESUME))

    def _drop_link(self) -> None:
        client = self.link
        self.disconnect()
        if client is not None and client.disconnected_callback is not None:
            asyncio.get_running_loop().call_soon(client.disconnected_callback)

    # --- the printer -------------------------------------------------------------------------

    def _read_frames(self) -> None:
        buffer = self._buffer
        while buffer:
            if buffer[0] == START_BYTE and self.name in TAKES_START_BYTE_AND_RUNS:
                self.start_bytes += 1
                del buffer[0]
            elif not buffer.startswith(protocol.MAGIC[: len(buffer)]):
                self.rejected.append(f"stray byte {buffer[0]:#04x}")
                del buffer[0]
            elif len(buffer) < 6 or len(buffer) < 8 + buffer[4]:
                return  # the rest of the frame is in a later write
            else:
                raw = bytes(buffer[: 8 + buffer[4]])
                del buffer[: len(raw)]
                try:
                    self._obey(protocol.decode_frame(raw))
                except protocol.FrameError as error:
                    self.rejected.append(str(error))

    def _obey(self, frame: protocol.Frame) -> None:
        self.frames.append(frame)
        command, payload = frame.command, frame.payload
        if frame.from_printer:
            self.rejected.append(f"frame {command:#04x} claims to come from the printer")
        elif command == protocol.Command.LATTICE and payload in (PRINT_LATTICE, FINISH_LATTICE):
            self._in_lattice = payload == PRINT_LATTICE
        elif command == protocol.Command.PRINT_ROW:
            self._print(payload)
        elif command == protocol.Command.PRINT_ROW_RUN_LENGTH and self.name in TAKES_START_BYTE_AND_RUNS:
            self._print(self._unrun(payload))
        elif command == protocol.Command.FEED and self.name not in CANNOT_FEED:
            self.fed_rows += payload[0]
        elif command == protocol.Command.DEVICE_STATE:
            if self.answers_state:
                self._notify(protocol.frame(protocol.Command.DEVICE_STATE, bytes([self.status]), from_printer=True))
        elif command not in KNOWN_SETTINGS:
            self.ignored.append(frame)

    def _print(self, row: bytes) -> None:
        if len(row) != HEAD_DOTS // 8:
            self.rejected.append(f"a row of {len(row)} bytes for a {HEAD_DOTS}-dot head")
        elif self._in_lattice:
            self.rows.append(row)
        elif not any(row):
            self.fed_rows += 1  # a blank row outside the lattice feeds paper (NaitLee's MX workaround)
        else:
            self.rejected.append("dots outside the print lattice")

    def _unrun(self, runs: bytes) -> bytes:
        """rbaron's runs back into a packed row: each byte ``colour << 7 | length``."""
        dots = np.concatenate([np.full(run & 0x7F, run >> 7, dtype=np.uint8) for run in runs] or [np.empty(0)])
        if dots.size != HEAD_DOTS:
            self.rejected.append(f"runs of {dots.size} dots for a {HEAD_DOTS}-dot head")
            return b""
        return np.packbits(dots, bitorder="little").tobytes()


#: Commands that set the printer up; the fake keeps them in `frames` and needs nothing more.
KNOWN_SETTINGS = {
    protocol.Command.QUALITY,
    protocol.Command.SPEED,
    protocol.Command.ENERGY,
    protocol.Command.APPLY_ENERGY,
    protocol.Command.UPDATE_DEVICE,
}


@dataclass(frozen=True)
class OtherDevice:
    """Something else in range that advertises: a phone, headphones."""

    address: str
    name: str | None
    rssi: int = -50
    advertised_services: tuple[str, ...] = ()


class FakeCatPrinterClient(BaseBleakClient):
    """bleak's client backend for the airspace's printers (`BleakClient(..., backend=...)`)."""

    airspace: ClassVar[Airspace]

    def __init__(self, address_or_ble_device: Any, *, disconnected_callback: Callable[[], None] | None, **kwargs: Any):
        super().__init__(address_or_ble_device, disconnected_callback=disconnected_callback, timeout=kwargs["timeout"])
        self.printer: FakeCatPrinter | None = None

    @property
    def disconnected_callback(self) -> Callable[[], None] | None:
        return self._disconnected_callback

    @property
    def name(self) -> str:
        if self.printer is None:
            raise BleakError("Not connected")
        return self.printer.name

    @property
    def mtu_size(self) -> int:
        return self._connected().max_write + 3

    @property
    def is_connected(self) -> bool:
        return self.printer is not None and self.printer.link is self

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        printer = self.airspace.printers.get(self.address.upper())
        if printer is None:
            raise BleakDeviceNotFoundError(self.address, f"Device with address {self.address} was not found.")
        printer.connect(self)
        self.printer = printer
        self.services = _gatt(printer)

    async def disconnect(self) -> None:
        if self.is_connected:
            self._connected().disconnect()

    async def write_gatt_char(self, characteristic: BleakGATTCharacteristic, data: Any, response: bool) -> None:
        printer = self._connected()
        if characteristic.uuid != WRITE:
            raise BleakError(f"{characteristic.uuid} is not writable")
        if response:
            raise BleakError("the printer is written without response")
        if len(data) > printer.max_write:
            raise BleakError(f"{len(data)} bytes do not fit a write of at most {printer.max_write}")
        printer.writes += 1
        printer.take(bytes(data))

    async def start_notify(self, characteristic: BleakGATTCharacteristic, callback: NotifyCallback, **kwargs: Any):
        if characteristic.uuid != NOTIFY:
            raise BleakError(f"{characteristic.uuid} does not notify")
        self._connected().subscribe(callback)

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        self._connected().subscribe(None)

    def _connected(self) -> FakeCatPrinter:
        if not self.is_connected:
            raise BleakError("Not connected")
        assert self.printer is not None
        return self.printer

    # A cat printer has nothing to read, no descriptors to write, and needs no pairing.

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError

    async def unpair(self) -> None:
        raise NotImplementedError

    async def read_gatt_char(self, characteristic: BleakGATTCharacteristic, **kwargs: Any) -> bytearray:
        raise NotImplementedError

    async def read_gatt_descriptor(self, descriptor: BleakGATTDescriptor, **kwargs: Any) -> bytearray:
        raise NotImplementedError

    async def write_gatt_descriptor(self, descriptor: BleakGATTDescriptor, data: Any) -> None:
        raise NotImplementedError


def _gatt(printer: FakeCatPrinter) -> BleakGATTServiceCollection:
    """Service ae30 with ae01 (write) and ae02 (notify), as rbaron's and NaitLee's code use them."""
    services = BleakGATTServiceCollection()
    service = BleakGATTService(None, 1, SERVICE)
    services.add_service(service)
    services.add_characteristic(
        BleakGATTCharacteristic(None, 2, WRITE, ["write-without-response", "write"], lambda: printer.max_write, service)
    )
    services.add_characteristic(BleakGATTCharacteristic(None, 4, NOTIFY, ["notify"], lambda: 20, service))
    return services


class FakeScanner(BaseBleakScanner):
    """bleak's scanner backend: hears every device of the airspace advertise once."""

    airspace: ClassVar[Airspace]

    def __init__(self, detection_callback: Any, service_uuids: list[str] | None, *args: Any, **kwargs: Any) -> None:
        super().__init__(detection_callback, service_uuids)

    async def start(self) -> None:
        self.seen_devices = {}
        for device in self.airspace.devices():
            advertisement = AdvertisementData(
                local_name=device.name,
                manufacturer_data={},
                service_data={},
                service_uuids=list(device.advertised_services),
                tx_power=None,
                rssi=device.rssi,
                platform_data=(),
            )
            if self.is_allowed_uuid(advertisement.service_uuids):
                found = self.create_or_update_device(device.address, device.address, device.name, None, advertisement)
                self.call_detection_callbacks(found, advertisement)

    async def stop(self) -> None:
        pass


class Airspace:
    """The Bluetooth devices in range, and bleak backends that reach them."""

    def __init__(self, *devices: FakeCatPrinter | OtherDevice) -> None:
        self.printers: dict[str, FakeCatPrinter] = {}
        self.others: list[OtherDevice] = []
        for device in devices:
            self.add(device)

    def add(self, device: FakeCatPrinter | OtherDevice) -> FakeCatPrinter | OtherDevice:
        if isinstance(device, FakeCatPrinter):
            self.printers[device.address.upper()] = device
        else:
            self.others.append(device)
        return device

    def devices(self) -> Iterator[FakeCatPrinter | OtherDevice]:
        yield from self.printers.values()
        yield from self.others

    @cached_property
    def client_backend(self) -> type[FakeCatPrinterClient]:
        return type("AirspaceClient", (FakeCatPrinterClient,), {"airspace": self})

    @cached_property
    def scanner_backend(self) -> type[FakeScanner]:
        return type("AirspaceScanner", (FakeScanner,), {"airspace": self})


@pytest.fixture
def airspace() -> Airspace:
    """An empty airspace; a test adds the printers (and other devices) it needs."""
    return Airspace()


@pytest.fixture
def bluetooth(airspace: Airspace, monkeypatch: pytest.MonkeyPatch) -> Airspace:
    """The airspace as this machine's Bluetooth: `BleakClient`/`BleakScanner` made without a
    backend (by the CLI, by the gateway) reach its devices, through bleak's own classes."""
    monkeypatch.setattr(bleak, "get_platform_client_backend_type", lambda: (airspace.client_backend, "airspace"))
    monkeypatch.setattr(bleak, "get_platform_scanner_backend_type", lambda: (airspace.scanner_backend, "airspace"))
    return airspace
