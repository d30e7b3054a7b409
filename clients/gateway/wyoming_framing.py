"""Reading Wyoming events within limits, and the refusals a Wyoming client is sent.

An event is a JSON header line, then `data_length` bytes of JSON data and `payload_length` bytes of
payload. The `wyoming` library reads them (`async_read_event`), trusting every length it is told:
a header claiming a 10 GB payload has it buffer until memory runs out, and a length that is not a
number escapes as a TypeError. So the library reads through a guard that checks each header before
the library acts on it — the limits below — and turns whatever the library cannot parse into a
:class:`Refusal` naming the problem. The library's own reader and events are used unchanged.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

from wyoming.event import Event, async_read_event


@dataclass(frozen=True)
class FrameLimits:
    # Also the stream's buffer limit: a longer line is never held whole.
    header_bytes: int = 64 * 1024
    # JSON data: a transcript and its context, an audio format.
    data_bytes: int = 64 * 1024
    # Audio in one chunk (Home Assistant sends a few KiB at a time; this is half a minute at 16 kHz).
    payload_bytes: int = 1024 * 1024


class Refusal(Exception):
    """Something a Wyoming client sent that voxprint will not serve: `code` and `text` go back in an
    `error` event; `close` ends the connection (the stream or the conversation cannot go on)."""

    def __init__(self, code: str, text: str, *, close: bool = True) -> None:
        super().__init__(text)
        self.code = code
        self.text = text
        self.close = close


class _Guard:
    """The reader `async_read_event` is handed: the stream, with each header checked first.

    A refusal is kept and raised to the library as a ValueError, the one error it treats as "no
    event"; `read_event` then raises the kept refusal instead of mistaking it for a closed stream.
    """

    def __init__(self, reader: asyncio.StreamReader, limits: FrameLimits) -> None:
        self._reader = reader
        self._limits = limits
        self.refusal: Refusal | None = None
        self.ended = False

    async def readline(self) -> bytes:
        try:
            line = await self._reader.readline()
        except ValueError:  # asyncio's LimitOverrunError, as readline reports it
            raise self._refuse(
                "too-large", f"an event header is longer than {self._limits.header_bytes} bytes"
            ) from None
        if not line.endswith(b"\n"):
            # End of stream, perhaps in the middle of a header: nothing more will come.
            self.ended = True
            return b""
        self._check(line)
        return line

    async def readexactly(self, count: int) -> bytes:
        return await self._reader.readexactly(count)

    def _check(self, line: bytes) -> None:
        try:
            header = json.loads(line)
        except (ValueError, RecursionError):
            raise self._refuse("bad-event", "an event header is not a JSON line") from None
        if not isinstance(header, dict) or not isinstance(header.get("type"), str):
            raise self._refuse("bad-event", "an event header is not a JSON object with a type")
        if not isinstance(header.get("data", {}), dict):
            raise self._refuse("bad-event", f"the data of a {header['type']!r} event is not a JSON object")
        for field, limit in (("data_length", self._limits.data_bytes), ("payload_length", self._limits.payload_bytes)):
            length = header.get(field)
            if length is None:
                continue
            if not isinstance(length, int) or isinstance(length, bool) or length < 0:
                raise self._refuse("bad-event", f"{field} of a {header['type']!r} event is not a byte count")
            if length > limit:
                raise self._refuse("too-large", f"{field} {length} of a {header['type']!r} event is over {limit} bytes")

    def _refuse(self, code: str, text: str) -> ValueError:
        self.refusal = Refusal(code, text)
        return ValueError(text)


async def read_event(reader: asyncio.StreamReader, limits: FrameLimits) -> Event | None:
    """The next event; None once the client has closed the connection (even mid-event: nobody is
    left to tell). Raises :class:`Refusal` for anything that is not a Wyoming event within `limits`."""
    guard = _Guard(reader, limits)
    try:
        # The guard has the two methods the library reads with.
        event = await async_read_event(guard)  # type: ignore[arg-type]
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    except Exception as error:
        # The library parses data it was not built to distrust (a JSON list where an object belongs).
        raise Refusal("bad-event", f"an event could not be read ({type(error).__name__})") from None
    if event is None:
        if guard.refusal is not None:
            raise guard.refusal
        if guard.ended:
            return None
        raise Refusal("bad-event", "the data of an event is not a JSON object")
    if not isinstance(event.data, dict):
        raise Refusal("bad-event", f"the data of a {event.type!r} event is not a JSON object")
    return event
