"""Turning a stream of datagrams into whole recordings, one per device and session.

Framed datagrams carry a sequence number, so they are put back in order, duplicates dropped and
holes filled with silence of the length the missing datagrams would have had. Raw (headerless)
datagrams have no sequence: they are appended in arrival order, keyed by the sender's address.
A recording ends on its END flag (after a short grace for stragglers if holes remain) or when
the device has been silent for the silence timeout. Every decision is counted.

Nothing a datagram claims is trusted with memory: a sequence number beyond what the recording's
limit allows drops the recording, the projected size is computed from the payloads that really
arrived, and holes are filled only when the recording is assembled. Sessions are admitted fairly:
each source endpoint and each source address may hold only a few, and when a quota is full the
idlest unfinished session within it makes room.

The assembler is pure bookkeeping: the caller passes the time, so tests control the clock.
"""

from __future__ import annotations

import enum
import io
import time
import wave
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from voxprint.clients.gateway.counters import Counters
from voxprint.clients.gateway.protocol import Audio, AudioFlag, SampleFormat

Address = tuple[str, int]


@dataclass(frozen=True)
class SessionKey:
    """Which recording a datagram belongs to. `device` is "dev:<16 hex digits>" for framed
    devices and "raw:<host>:<port>" for headerless senders, so the two can never collide."""

    device: str
    session: int

    @classmethod
    def framed(cls, device_id: int, session_id: int) -> SessionKey:
        return cls(f"dev:{device_id:016x}", session_id)

    @classmethod
    def raw(cls, address: Address, session: int) -> SessionKey:
        return cls(f"raw:{address[0]}:{address[1]}", session)

    @property
    def device_id(self) -> int | None:
        """The framed device's id; None for a raw sender, which has no protocol to reply in."""
        return int(self.device[4:], 16) if self.device.startswith("dev:") else None


@dataclass(frozen=True)
class AudioFormat:
    sample_rate: int
    channels: int
    sample_format: SampleFormat

    @property
    def frame_size(self) -> int:
        return self.channels * self.sample_format.width

    def silence(self, nbytes: int) -> bytes:
        return self.sample_format.silence * (nbytes // self.sample_format.width)


# What raw-mode (ESPHome-style) firmware sends: 16 kHz, 16-bit, mono.
RAW_FORMAT = AudioFormat(16_000, 1, SampleFormat.S16LE)


class Ending(str, enum.Enum):
    END_FLAG = "end_flag"
    SILENCE_TIMEOUT = "silence_timeout"


@dataclass(frozen=True)
class Recording:
    key: SessionKey
    format: AudioFormat
    pcm: bytes
    ended_by: Ending
    missing_datagrams: int
    address: Address  # where the device's latest accepted datagram came from: where replies go

    @property
    def duration(self) -> float:
        return len(self.pcm) / (self.format.frame_size * self.format.sample_rate)

    def wav(self) -> bytes:
        """The recording as a WAV file, the form the server accepts."""
        buffer = io.BytesIO()
        with wave.open(buffer, "wb") as out:
            out.setnchannels(self.format.channels)
            out.setsampwidth(self.format.sample_format.width)
            out.setframerate(self.format.sample_rate)
            out.writeframes(self.pcm)
        return buffer.getvalue()


@dataclass(frozen=True)
class Limits:
    # A device silent this long has finished (the only ending raw senders have).
    silence_timeout: float = 1.0
    # After the END flag, how long to wait for reordered stragglers before filling holes.
    reorder_grace: float = 0.2
    max_seconds: float = 30.0
    max_bytes: int = 8 * 1024 * 1024
    # Each stored datagram costs ~100 bytes of bookkeeping beyond its payload: without this cap, a
    # recording of one-frame datagrams would cost 50 times its size.
    max_datagrams: int = 16_384
    # A recording more than this fraction of which would be silence filled in for lost datagrams
    # is dropped: it says nothing, and two datagrams must not make a 30-second job.
    max_missing_fraction: float = 0.5
    max_sessions: int = 64
    # One device records one session at a time (two while the previous one ends); a site behind
    # one NAT address has several devices. Neither can take every slot of the gateway.
    max_sessions_per_endpoint: int = 4
    max_sessions_per_address: int = 16
    # How long a finished session's datagrams are recognised as late rather than starting anew.
    finished_memory: float = 60.0
    finished_capacity: int = 4096

    def max_recording_bytes(self, fmt: AudioFormat) -> int:
        return min(self.max_bytes, int(self.max_seconds * fmt.sample_rate) * fmt.frame_size)

    def max_sequence(self, fmt: AudioFormat) -> int:
        """The highest sequence number a recording within the limits can reach: every datagram
        before the last one carries at least one frame."""
        return min(self.max_datagrams - 1, self.max_recording_bytes(fmt) // fmt.frame_size)


class Verdict(str, enum.Enum):
    """What the assembler did with a datagram; everything but ACCEPTED is a drop reason."""

    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    LATE = "late"
    FORMAT_CHANGED = "format_changed"
    OVERLONG = "overlong"
    TOO_MANY_SESSIONS = "too_many_sessions"


@dataclass
class _Session:
    format: AudioFormat
    # Where the session started: the source its admission quota is charged to.
    origin: Address
    # Where the device's latest accepted datagram came from: where replies go.
    address: Address
    last_heard: float
    parts: dict[int, bytes] = field(default_factory=dict)
    highest: int = -1
    size: int = 0
    # Payload size of a full datagram: every datagram but the END one carries the same amount.
    datagram_size: int = 0
    end_sequence: int | None = None
    # Overlong: its datagrams are dropped until the device goes quiet, then it is forgotten.
    discarded: bool = False

    @property
    def complete(self) -> bool:
        return self.end_sequence is not None and len(self.parts) == self.end_sequence + 1

    @property
    def hole_size(self) -> int:
        """Bytes of silence a missing datagram stands for; one frame until a full datagram came."""
        return self.datagram_size or self.format.frame_size

    def projected_size(self) -> int:
        """Bytes the recording will have once holes up to the highest sequence are filled."""
        return self.highest * self.hole_size + len(self.parts[self.highest])

    def pcm(self) -> bytes:
        """The payloads in sequence order with each hole filled, built only now: a hole costs
        memory only once the recording is known to fit."""
        pcm = bytearray()
        expected = 0
        for sequence in sorted(self.parts):
            pcm += self.format.silence(self.hole_size) * (sequence - expected)
            pcm += self.parts[sequence]
            expected = sequence + 1
        return bytes(pcm)


class Assembler:
    def __init__(
        self, counters: Counters, limits: Limits = Limits(), wall_clock: Callable[[], float] = time.time
    ) -> None:
        self._counters = counters
        self._limits = limits
        self._wall_clock = wall_clock
        self._sessions: dict[SessionKey, _Session] = {}
        self._raw_sessions: dict[Address, SessionKey] = {}
        self._finished: OrderedDict[SessionKey, float] = OrderedDict()

    @property
    def open_sessions(self) -> int:
        return len(self._sessions)

    def add(self, audio: Audio, address: Address, now: float) -> Verdict:
        """Take one framed datagram."""
        key = SessionKey.framed(audio.device_id, audio.session_id)
        fmt = AudioFormat(audio.sample_rate, audio.channels, audio.sample_format)
        verdict = self._admit(key, fmt, address, now)
        if verdict is Verdict.ACCEPTED:
            verdict = self._place(key, audio)
        if verdict is Verdict.ACCEPTED:
            # Only a datagram that brought something new moves the replies: a copy replayed from
            # elsewhere must not take a recording's notices and raster with it.
            self._sessions[key].address = address
        return self._count(verdict)

    def add_raw(self, payload: bytes, address: Address, now: float) -> Verdict:
        """Take one headerless datagram (RAW_FORMAT PCM), keyed by the sender's address."""
        key = self._raw_sessions.get(address)
        if key is None:
            key = SessionKey.raw(address, int(self._wall_clock() * 1000))
        verdict = self._admit(key, RAW_FORMAT, address, now)
        if verdict is Verdict.ACCEPTED:
            self._raw_sessions[address] = key
            session = self._sessions[key]
            session.datagram_size = max(session.datagram_size, len(payload))
            verdict = self._store(session, len(session.parts), payload)
        return self._count(verdict)

    def collect(self, now: float) -> list[Recording]:
        """Recordings that have ended by `now`, oldest first; they leave the assembler."""
        self._forget_finished(now)
        done = []
        for key, session in list(self._sessions.items()):
            quiet = now - session.last_heard
            if session.discarded:
                if quiet >= self._limits.silence_timeout:
                    del self._sessions[key]
                    self._remember_finished(key, session, now)
            elif session.complete or (session.end_sequence is not None and quiet >= self._limits.reorder_grace):
                done.append(self._finish(key, session, Ending.END_FLAG, now))
            elif quiet >= self._limits.silence_timeout:
                done.append(self._finish(key, session, Ending.SILENCE_TIMEOUT, now))
        return [recording for recording in done if recording is not None]

    def _admit(self, key: SessionKey, fmt: AudioFormat, address: Address, now: float) -> Verdict:
        if key in self._finished:
            return Verdict.LATE
        session = self._sessions.get(key)
        if session is None:
            if not self._make_room(address, now):
                return Verdict.TOO_MANY_SESSIONS
            self._sessions[key] = _Session(fmt, address, address, now)
            self._counters.incr("sessions.opened")
            return Verdict.ACCEPTED
        if session.format != fmt:
            return Verdict.FORMAT_CHANGED
        session.last_heard = now
        return Verdict.OVERLONG if session.discarded else Verdict.ACCEPTED

    def _make_room(self, origin: Address, now: float) -> bool:
        """Whether a new session from `origin` fits every quota, evicting to make it fit: within
        each full quota the idlest unfinished session goes (an overlong one before any other)."""
        quotas: list[tuple[Callable[[_Session], bool], int]] = [
            (lambda session: session.origin == origin, self._limits.max_sessions_per_endpoint),
            (lambda session: session.origin[0] == origin[0], self._limits.max_sessions_per_address),
            (lambda session: True, self._limits.max_sessions),
        ]
        for charged, quota in quotas:
            holders = [(key, session) for key, session in self._sessions.items() if charged(session)]
            if len(holders) < quota:
                continue
            unfinished = [(key, session) for key, session in holders if not session.complete]
            if len(holders) - len(unfinished) >= quota:
                return False
            key, session = min(unfinished, key=lambda held: (not held[1].discarded, held[1].last_heard))
            del self._sessions[key]
            self._remember_finished(key, session, now)
            self._counters.incr("sessions.evicted")
        return True

    def _place(self, key: SessionKey, audio: Audio) -> Verdict:
        session = self._sessions[key]
        if audio.sequence in session.parts:
            return Verdict.DUPLICATE
        if session.end_sequence is not None and audio.sequence > session.end_sequence:
            return Verdict.LATE
        if AudioFlag.END in audio.flags:
            if session.highest > audio.sequence:
                return Verdict.LATE
            session.end_sequence = audio.sequence
        else:
            session.datagram_size = max(session.datagram_size, len(audio.payload))
        return self._store(session, audio.sequence, audio.payload)

    def _store(self, session: _Session, sequence: int, payload: bytes) -> Verdict:
        if sequence > self._limits.max_sequence(session.format):
            return self._discard(session)
        session.parts[sequence] = payload
        session.highest = max(session.highest, sequence)
        session.size += len(payload)
        if max(session.size, session.projected_size()) > self._limits.max_recording_bytes(session.format):
            return self._discard(session)
        return Verdict.ACCEPTED

    def _discard(self, session: _Session) -> Verdict:
        # An overlong recording is dropped whole: a truncated sentence would print nonsense.
        session.discarded = True
        session.parts.clear()
        self._counters.incr("recordings.dropped.overlong")
        return Verdict.OVERLONG

    def _finish(self, key: SessionKey, session: _Session, ending: Ending, now: float) -> Recording | None:
        del self._sessions[key]
        self._remember_finished(key, session, now)
        if not session.size:
            self._counters.incr("recordings.dropped.empty")
            return None
        missing = session.highest + 1 - len(session.parts)
        if missing > self._limits.max_missing_fraction * (session.highest + 1):
            self._counters.incr("recordings.dropped.mostly_missing")
            return None
        if missing:
            self._counters.incr("recordings.with_gaps")
            self._counters.incr("datagrams.gap_filled", missing)
        self._counters.incr("recordings.assembled")
        self._counters.incr(f"recordings.ended_by.{ending.value}")
        return Recording(key, session.format, session.pcm(), ending, missing, session.address)

    def _remember_finished(self, key: SessionKey, session: _Session, now: float) -> None:
        if self._raw_sessions.get(session.address) == key:
            # The next raw datagram from this address starts a new recording, not a late one.
            del self._raw_sessions[session.address]
        else:
            self._finished[key] = now + self._limits.finished_memory
            while len(self._finished) > self._limits.finished_capacity:
                self._finished.popitem(last=False)

    def _forget_finished(self, now: float) -> None:
        while self._finished and next(iter(self._finished.values())) <= now:
            self._finished.popitem(last=False)

    def _count(self, verdict: Verdict) -> Verdict:
        if verdict is not Verdict.ACCEPTED:
            self._counters.incr(f"datagrams.dropped.{verdict.value}")
        return verdict
