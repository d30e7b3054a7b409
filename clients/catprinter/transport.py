"""Send a cat printer's byte stream over Bluetooth LE with `bleak`, honouring its flow control.

The printer is a GATT server with service ``ae30``: the host writes commands *without response*
to characteristic ``ae01`` and hears the printer on ``ae02`` notifications (rbaron's ``ble.py``,
NaitLee's ``printer.py``). Writes go in chunks of the link's largest write-without-response, a
pause between chunks as both references keep (the printer has a small buffer and prints slower
than BLE sends). When its buffer is full the printer notifies ``0xAE 0x10`` and nothing more is
written until it notifies ``0xAE 0x00``; a printer that stays paused longer than
``Timeouts.stall`` ends the print with an error, as does a printer that reports no paper, an open
lid or an overheated head in its answer to a state request, or one that disconnects.

Every failure is one :class:`PrinterError` line with a ``reason``: ``not_found``, ``bluetooth``,
``wrong_model``, ``no_paper``, ``cover_open``, ``overheated``, ``stalled``, ``disconnected``.

``backend`` is bleak's own switch for the platform's Bluetooth stack (``BleakClient(...,
backend=...)``); the tests pass a fake printer there, so this module runs unchanged against it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from bleak import BleakClient
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient
from bleak.exc import BleakDeviceNotFoundError, BleakError

from voxprint.clients.catprinter import protocol
from voxprint.clients.printer_error import PrinterError

logger = logging.getLogger(__name__)

SERVICE = "0000ae30-0000-1000-8000-00805f9b34fb"
WRITE_CHARACTERISTIC = "0000ae01-0000-1000-8000-00805f9b34fb"
NOTIFY_CHARACTERISTIC = "0000ae02-0000-1000-8000-00805f9b34fb"
#: Between chunks, as rbaron and NaitLee wait: without it a printer's buffer overruns before
#: its pause notification can arrive.
CHUNK_INTERVAL = 0.02

_STATUS_PROBLEMS = (
    (protocol.Status.NO_PAPER, "no_paper", "is out of paper"),
    (protocol.Status.COVER_OPEN, "cover_open", "has its lid open"),
    (protocol.Status.OVERHEATED, "overheated", "is overheated: let it cool down and print again"),
)


def bleak_message(error: BleakError) -> str:
    """bleak's own words, without the reason code some of its errors carry as a second argument."""
    return str(error.args[0]) if error.args else type(error).__name__


@dataclass(frozen=True)
class Timeouts:
    """Seconds to wait for: a connection; a paused printer to resume (or a write to return);
    the printer's answer to the closing state request (it has read everything by then)."""

    connect: float = 20.0
    stall: float = 30.0
    finish: float = 10.0


class _Link:
    """What the printer has told us on ``ae02``, and whether it is still there."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.paused = False
        self.problem: PrinterError | None = None
        self.disconnected = False
        self.state_answers = 0
        self._changed = asyncio.Event()

    def on_notification(self, _characteristic: BleakGATTCharacteristic, data: bytearray) -> None:
        try:
            notification = protocol.decode_frame(bytes(data))
        except protocol.FrameError as error:
            logger.debug("cat printer %s: ignoring a notification: %s", self.address, error)
            return
        command = notification.command
        argument = notification.payload[0] if notification.payload else None
        if command == protocol.Command.FLOW_CONTROL and argument in (protocol.FLOW_PAUSE, protocol.FLOW_RESUME):
            self.paused = argument == protocol.FLOW_PAUSE
        elif command == protocol.Command.DEVICE_STATE and argument is not None:
            self._read_state(protocol.Status(argument))
        self._changed.set()

    def on_disconnect(self, _client: BleakClient) -> None:
        self.disconnected = True
        self._changed.set()

    def _read_state(self, status: protocol.Status) -> None:
        self.state_answers += 1
        if protocol.Status.LOW_BATTERY in status:
            logger.warning("cat printer %s: battery low, prints will fade: charge it", self.address)
        for flag, reason, problem in _STATUS_PROBLEMS:
            if flag in status and self.problem is None:
                self.problem = PrinterError(f"cat printer {self.address} {problem}", reason)

    async def clear_to_send(self, timeout: float, progress: str) -> None:
        """Return once the printer takes more bytes; raise if it cannot, or went away."""
        try:
            await asyncio.wait_for(self._until(lambda: not self.paused), timeout)
        except asyncio.TimeoutError:
            raise PrinterError(
                f"cat printer {self.address} paused the transfer and did not resume within {timeout:g} s ({progress})",
                "stalled",
            ) from None
        if self.problem is not None:
            raise self.problem
        if self.disconnected:
            raise self.lost(progress)

    async def wait_for_state_answer(self, answers_before: int, timeout: float) -> None:
        """Wait for an answer to the closing state request. A printer that gives none (or goes
        away now) has had every byte anyway, so that is only logged; a reported problem raises."""
        try:
            await asyncio.wait_for(self._until(lambda: self.state_answers > answers_before), timeout)
        except asyncio.TimeoutError:
            logger.info("cat printer %s: no answer to the closing state request in %g s", self.address, timeout)
        if self.problem is not None:
            raise self.problem

    def lost(self, progress: str) -> PrinterError:
        return PrinterError(f"cat printer {self.address} disconnected mid-print ({progress})", "disconnected")

    async def _until(self, condition: Callable[[], bool]) -> None:
        while not (condition() or self.disconnected or self.problem):
            self._changed.clear()
            await self._changed.wait()


async def send(
    data: bytes,
    address: str,
    model: protocol.Model,
    *,
    backend: type[BaseBleakClient] | None = None,
    timeouts: Timeouts = Timeouts(),
    chunk_interval: float = CHUNK_INTERVAL,
) -> None:
    """Connect to the cat printer at ``address``, write ``data`` (what :func:`protocol.encode`
    made for ``model``) and disconnect. Raises :class:`PrinterError` saying what went wrong."""
    link = _Link(address)
    client = BleakClient(address, link.on_disconnect, timeout=timeouts.connect, backend=backend)
    await _connect(client, address, timeouts.connect)
    try:
        _check_model(client, address, model)
        await _write_all(client, link, data, timeouts, chunk_interval)
    finally:
        await _disconnect(client)


async def _connect(client: BleakClient, address: str, timeout: float) -> None:
    try:
        await client.connect()
    except BleakDeviceNotFoundError:
        raise PrinterError(
            f"cat printer {address} not found: is it switched on, in range, and not connected to a phone?", "not_found"
        ) from None
    # Before OSError: from Python 3.11 on, asyncio's TimeoutError is the builtin, an OSError.
    except (asyncio.TimeoutError, TimeoutError):
        raise PrinterError(
            f"cat printer {address} did not answer within {timeout:g} s: is it switched on and in range?", "not_found"
        ) from None
    except BleakError as error:
        raise PrinterError(f"cannot connect to cat printer {address}: {bleak_message(error)}", "bluetooth") from None
    except OSError as error:  # no Bluetooth stack at all (BlueZ: no D-Bus system bus)
        raise PrinterError(
            f"cannot reach cat printer {address}: Bluetooth is not available ({error.strerror or error})", "bluetooth"
        ) from None


def _check_model(client: BleakClient, address: str, model: protocol.Model) -> None:
    """Refuse a printer that names itself another model: its bytes would differ (start byte,
    run-length rows, feeding). A name that is no known model proves nothing, so it passes."""
    named = protocol.model_named(client.name)
    if named is not None and named != model:
        raise PrinterError(
            f"cat printer {address} is a {client.name}, not a {model.name}: use ?model={named.name}", "wrong_model"
        )


async def _write_all(client: BleakClient, link: _Link, data: bytes, timeouts: Timeouts, chunk_interval: float) -> None:
    address = link.address
    try:
        await client.start_notify(NOTIFY_CHARACTERISTIC, link.on_notification)
    except BleakError as error:
        raise PrinterError(f"{address} is no cat printer: {bleak_message(error)}", "wrong_model") from None
    characteristic = client.services.get_characteristic(WRITE_CHARACTERISTIC)
    if characteristic is None:
        raise PrinterError(
            f"{address} is no cat printer: it has no characteristic {WRITE_CHARACTERISTIC}", "wrong_model"
        )
    chunk_size = characteristic.max_write_without_response_size
    answers_before_last = 0
    for start in range(0, len(data), chunk_size):
        progress = f"{start} of {len(data)} bytes sent"
        await link.clear_to_send(timeouts.stall, progress)
        answers_before_last = link.state_answers
        try:
            write = client.write_gatt_char(characteristic, data[start : start + chunk_size], response=False)
            await asyncio.wait_for(write, timeouts.stall)
        except asyncio.TimeoutError:
            raise PrinterError(
                f"cat printer {address} took no data for {timeouts.stall:g} s ({progress})", "stalled"
            ) from None
        except BleakError as error:
            if link.disconnected or not client.is_connected:
                raise link.lost(progress) from None
            raise PrinterError(
                f"cannot write to cat printer {address}: {bleak_message(error)} ({progress})", "bluetooth"
            ) from None
        await asyncio.sleep(chunk_interval)
    await link.wait_for_state_answer(answers_before_last, timeouts.finish)


async def _disconnect(client: BleakClient) -> None:
    try:
        await client.disconnect()
    except (BleakError, OSError) as error:
        # The printout has succeeded or failed by now; a link that will not close changes neither.
        logger.debug("cat printer %s: disconnecting failed: %s", client.address, error)
