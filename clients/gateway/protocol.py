"""The voxprint UDP wire format (version 2): the one place datagrams are encoded and decoded.

docs/udp-protocol.md describes the same format for firmware authors; the layouts below are its
source of truth. Every datagram starts with a 20-byte common header (network byte order):

    magic "VXPR" | version u8 | kind u8 | flags u8 | options u8 | device_id u64 | session_id u32

followed by a kind-specific body and, for AUDIO and RASTER, a payload whose length the body
announces, so a truncated datagram is detected instead of silently shortening a recording.
JOB notices carry a cookie that RESEND, QUERY and ACK echo (path_validation.py says why), always
at offset 20. With option TAGGED, a replay counter and an HMAC-SHA256 tag over everything before
the tag, keyed by the device's shared secret, end the datagram.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import struct
import uuid
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MAGIC = b"VXPR"
# Version 2 added the cookie and the replay counter; a version-1 datagram is dropped as bad_version.
VERSION = 2
# Ethernet MTU (1500) minus IPv4 (20) and UDP (8) headers: the largest datagram that is never
# fragmented on a LAN. Anything larger is refused as oversized.
MAX_DATAGRAM_SIZE = 1472
# RESEND may name at most this many chunks, which keeps the request well under the MTU.
MAX_RESEND_INDICES = 256
TAG_SIZE = hashlib.sha256().digest_size
COOKIE_SIZE = 8
# What a device that has no cookie (yet) sends in its place.
NO_COOKIE = bytes(COOKIE_SIZE)

_COMMON = struct.Struct(">4sBBBBQI")
_AUDIO = struct.Struct(">IIBBH")
_COOKIE = struct.Struct(f">{COOKIE_SIZE}s")
_JOB = struct.Struct(f">{COOKIE_SIZE}s16sBBH")
_RASTER = struct.Struct(">16sHHHHIIIH")
_RESEND = struct.Struct(f">{COOKIE_SIZE}sH")
_INDEX = struct.Struct(">I")
_COUNTER = struct.Struct(">Q")

COMMON_HEADER_SIZE = _COMMON.size
AUDIO_HEADER_SIZE = _COMMON.size + _AUDIO.size
JOB_HEADER_SIZE = _COMMON.size + _JOB.size
RASTER_HEADER_SIZE = _COMMON.size + _RASTER.size
QUERY_SIZE = _COMMON.size + _COOKIE.size
# A TAGGED datagram ends with the replay counter and the tag.
TRAILER_SIZE = _COUNTER.size + TAG_SIZE
MAX_AUDIO_PAYLOAD = MAX_DATAGRAM_SIZE - AUDIO_HEADER_SIZE
MAX_RASTER_PAYLOAD = MAX_DATAGRAM_SIZE - RASTER_HEADER_SIZE
MAX_JOB_TEXT = MAX_DATAGRAM_SIZE - JOB_HEADER_SIZE


class Kind(enum.IntEnum):
    """What a datagram is; AUDIO, RESEND, QUERY and ACK go device → gateway, the rest back."""

    AUDIO = 1
    JOB = 2
    RASTER = 3
    RESEND = 4
    QUERY = 5
    ACK = 6


class Option(enum.IntFlag):
    """Header byte 7: framing options that apply to every kind."""

    NONE = 0x00
    # The last TRAILER_SIZE bytes are a replay counter (u64) and HMAC-SHA256(device secret, every
    # byte before the tag, the counter included).
    TAGGED = 0x01


class AudioFlag(enum.IntFlag):
    NONE = 0x00
    START = 0x01
    END = 0x02


class JobFlag(enum.IntFlag):
    NONE = 0x00
    # The gateway will send the raster to the device in RASTER chunks once the job completes.
    RASTER_FOLLOWS = 0x01
    # `text` is an error message rather than the transcript.
    TEXT_IS_ERROR = 0x02


class SampleFormat(enum.IntEnum):
    """PCM sample encodings; samples are little-endian and interleaved, exactly as in a WAV."""

    S16LE = 1
    U8 = 2
    S24LE = 3
    S32LE = 4

    @property
    def width(self) -> int:
        """Bytes per sample."""
        return _SAMPLE_WIDTHS[self]

    @property
    def silence(self) -> bytes:
        """One sample of silence (unsigned 8-bit PCM is centred on 128)."""
        return b"\x80" if self is SampleFormat.U8 else bytes(self.width)


_SAMPLE_WIDTHS = {SampleFormat.S16LE: 2, SampleFormat.U8: 1, SampleFormat.S24LE: 3, SampleFormat.S32LE: 4}

MIN_SAMPLE_RATE = 4_000
MAX_SAMPLE_RATE = 192_000
MAX_CHANNELS = 8


class DropReason(str, enum.Enum):
    """Why a datagram was refused; each reason is a counter the gateway logs."""

    OVERSIZED = "oversized"
    TRUNCATED = "truncated"
    BAD_MAGIC = "bad_magic"
    BAD_VERSION = "bad_version"
    BAD_KIND = "bad_kind"
    BAD_FORMAT = "bad_format"
    MISALIGNED = "misaligned"
    # With device keys configured: no tag, a tag that does not verify, a device without a key.
    UNTAGGED = "untagged"
    BAD_TAG = "bad_tag"
    UNKNOWN_DEVICE = "unknown_device"


# Device id → shared secret.
DeviceKeys = Mapping[int, bytes]


@dataclass(frozen=True)
class Signing:
    """How a datagram is tagged: the sender's shared secret, and the replay counter this datagram
    carries (each tagged datagram a sender sends has a higher one than the last: replay.py)."""

    key: bytes
    counter: int


class ProtocolError(ValueError):
    """A datagram that is not a valid voxprint message; `reason` names the counter it feeds."""

    def __init__(self, reason: DropReason, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason


@dataclass(frozen=True)
class Audio:
    """A slice of a recording, device → gateway."""

    device_id: int
    session_id: int
    sequence: int
    sample_rate: int
    channels: int
    sample_format: SampleFormat
    payload: bytes
    flags: AudioFlag = AudioFlag.NONE

    @property
    def frame_size(self) -> int:
        """Bytes per frame (one sample of every channel)."""
        return self.channels * self.sample_format.width


@dataclass(frozen=True)
class JobNotice:
    """What became of a recording, gateway → device. A nil job id means no job exists yet
    (the gateway is still submitting) or ever (state FAILED: the submission was refused)."""

    device_id: int
    session_id: int
    job_id: uuid.UUID
    state: int  # a voxprint.v1.JobState number
    text: str = ""
    flags: JobFlag = JobFlag.NONE
    # Proof of the address this notice is sent to, for the device to echo in its requests.
    cookie: bytes = NO_COOKIE


@dataclass(frozen=True)
class RasterChunk:
    """One numbered slice of the job's raster (Fetch RAW bytes), gateway → device."""

    device_id: int
    session_id: int
    job_id: uuid.UUID
    width: int
    height: int
    bytes_per_row: int
    chunk_size: int
    chunk_index: int
    chunk_count: int
    crc32: int  # of the whole raster, so the device can check what it rebuilt
    payload: bytes


@dataclass(frozen=True)
class Resend:
    """Device → gateway: send these raster chunks again; an empty list means all of them."""

    device_id: int
    session_id: int
    chunk_indices: tuple[int, ...] = ()
    cookie: bytes = NO_COOKIE


@dataclass(frozen=True)
class Query:
    """Device → gateway: repeat the latest JobNotice for this session. `padding` bytes (zeros)
    follow the cookie: what an address that has not proven itself pays for its answer with."""

    device_id: int
    session_id: int
    cookie: bytes = NO_COOKIE
    padding: int = 0


@dataclass(frozen=True)
class Ack:
    """Device → gateway: the raster arrived whole; the gateway may forget it."""

    device_id: int
    session_id: int
    cookie: bytes = NO_COOKIE


# The requests a device makes about its job, each echoing the cookie of its latest notice.
Request = Resend | Query | Ack


Message = Audio | JobNotice | RasterChunk | Resend | Query | Ack


def encode(message: Message, signing: Signing | None = None) -> bytes:
    """The datagram for `message`, tagged as `signing` says if it is given. Raises ValueError if
    it cannot fit in one datagram."""
    kind, flags, body = _body(message, MAX_JOB_TEXT - (TRAILER_SIZE if signing is not None else 0))
    options = Option.TAGGED if signing is not None else Option.NONE
    data = _COMMON.pack(MAGIC, VERSION, kind, flags, options, message.device_id, message.session_id) + body
    if signing is not None:
        data += _COUNTER.pack(signing.counter)
        data += _tag(signing.key, data)
    if len(data) > MAX_DATAGRAM_SIZE:
        raise ValueError(f"{len(data)}-byte datagram exceeds {MAX_DATAGRAM_SIZE}")
    return data


def _body(message: Message, max_text: int) -> tuple[Kind, int, bytes]:
    """What follows the common header: the kind, its flags and the kind's body."""
    if isinstance(message, Audio):
        audio = _AUDIO.pack(
            message.sequence, message.sample_rate, message.channels, message.sample_format, len(message.payload)
        )
        return Kind.AUDIO, message.flags, audio + message.payload
    if isinstance(message, JobNotice):
        # Cut to fit one datagram, then drop a multi-byte character the cut split in two.
        text = message.text.encode("utf-8")[:max_text].decode("utf-8", "ignore").encode("utf-8")
        job = _JOB.pack(_cookie(message.cookie), message.job_id.bytes, message.state, 0, len(text))
        return Kind.JOB, message.flags, job + text
    if isinstance(message, RasterChunk):
        raster = _RASTER.pack(
            message.job_id.bytes,
            message.width,
            message.height,
            message.bytes_per_row,
            message.chunk_size,
            message.chunk_index,
            message.chunk_count,
            message.crc32,
            len(message.payload),
        )
        return Kind.RASTER, 0, raster + message.payload
    if isinstance(message, Resend):
        if len(message.chunk_indices) > MAX_RESEND_INDICES:
            raise ValueError(f"at most {MAX_RESEND_INDICES} chunks per RESEND")
        indices = b"".join(_INDEX.pack(i) for i in message.chunk_indices)
        return Kind.RESEND, 0, _RESEND.pack(_cookie(message.cookie), len(message.chunk_indices)) + indices
    if isinstance(message, Query):
        return Kind.QUERY, 0, _cookie(message.cookie) + bytes(message.padding)
    if isinstance(message, Ack):
        return Kind.ACK, 0, _cookie(message.cookie)
    raise TypeError(f"not a protocol message: {message!r}")


def _cookie(cookie: bytes) -> bytes:
    if len(cookie) != COOKIE_SIZE:
        raise ValueError(f"a cookie is {COOKIE_SIZE} bytes, not {len(cookie)}")
    return cookie


def decode(data: bytes, keys: DeviceKeys | None = None) -> Message:
    """Parse one datagram. Raises ProtocolError naming why it is not a valid message.

    With `keys`, only datagrams tagged with their device's key are valid; without, a tag is
    skipped unchecked, so tagged and untagged devices both work. Whether a tagged datagram is new
    is for the receiver to decide from its `counter()`.
    """
    if len(data) > MAX_DATAGRAM_SIZE:
        raise ProtocolError(DropReason.OVERSIZED, f"{len(data)} bytes > {MAX_DATAGRAM_SIZE}")
    if len(data) < len(MAGIC) or data[: len(MAGIC)] != MAGIC:
        raise ProtocolError(DropReason.BAD_MAGIC, f"starts with {data[:4]!r}")
    if len(data) < _COMMON.size:
        raise ProtocolError(DropReason.TRUNCATED, f"{len(data)}-byte header")
    _, version, kind, flags, options, device_id, session_id = _COMMON.unpack_from(data)
    if version != VERSION:
        raise ProtocolError(DropReason.BAD_VERSION, f"version {version}")
    body = memoryview(_verified(data, options, device_id, keys))[_COMMON.size :]
    if kind == Kind.AUDIO:
        return _decode_audio(body, flags, device_id, session_id)
    if kind == Kind.JOB:
        cookie, job_id, state, _, length = _unpack(_JOB, body)
        text = _payload(body[_JOB.size :], length)
        return JobNotice(
            device_id,
            session_id,
            uuid.UUID(bytes=job_id),
            state,
            text.decode("utf-8", "replace"),
            JobFlag(flags & 0x03),
            cookie,
        )
    if kind == Kind.RASTER:
        job_id, width, height, bpr, chunk_size, index, count, crc, length = _unpack(_RASTER, body)
        payload = _payload(body[_RASTER.size :], length)
        return RasterChunk(
            device_id, session_id, uuid.UUID(bytes=job_id), width, height, bpr, chunk_size, index, count, crc, payload
        )
    if kind == Kind.RESEND:
        cookie, count = _unpack(_RESEND, body)
        if count > MAX_RESEND_INDICES:
            raise ProtocolError(DropReason.BAD_FORMAT, f"RESEND of {count} chunks")
        indices = _payload(body[_RESEND.size :], count * _INDEX.size)
        return Resend(device_id, session_id, tuple(i for (i,) in _INDEX.iter_unpack(indices)), cookie)
    if kind == Kind.QUERY:
        (cookie,) = _unpack(_COOKIE, body)
        return Query(device_id, session_id, cookie, padding=len(body) - _COOKIE.size)
    if kind == Kind.ACK:
        (cookie,) = _unpack(_COOKIE, body)
        return Ack(device_id, session_id, cookie)
    raise ProtocolError(DropReason.BAD_KIND, f"kind {kind}")


def counter(datagram: bytes) -> int:
    """The replay counter of a TAGGED datagram. Trust it only once `decode` with keys has verified
    the tag around it (which also makes sure there is one)."""
    if len(datagram) < _COMMON.size + TRAILER_SIZE or not datagram[7] & Option.TAGGED:
        raise ValueError("an untagged datagram has no counter")
    (value,) = _COUNTER.unpack_from(datagram, len(datagram) - TRAILER_SIZE)
    return int(value)


def _verified(data: bytes, options: int, device_id: int, keys: DeviceKeys | None) -> bytes:
    """`data` without its counter and tag, after checking the tag when `keys` are configured."""
    if not options & Option.TAGGED:
        if keys is not None:
            raise ProtocolError(DropReason.UNTAGGED, f"device {device_id:016x} sent no tag")
        return data
    if len(data) < _COMMON.size + TRAILER_SIZE:
        raise ProtocolError(DropReason.TRUNCATED, f"{len(data)} bytes cannot hold a counter and a tag")
    signed, tag = data[:-TAG_SIZE], data[-TAG_SIZE:]
    if keys is not None:
        key = keys.get(device_id)
        if key is None:
            raise ProtocolError(DropReason.UNKNOWN_DEVICE, f"no key for device {device_id:016x}")
        if not hmac.compare_digest(_tag(key, signed), tag):
            raise ProtocolError(DropReason.BAD_TAG, f"tag does not verify for device {device_id:016x}")
    return data[:-TRAILER_SIZE]


def _tag(key: bytes, signed: bytes) -> bytes:
    return hmac.new(key, signed, hashlib.sha256).digest()


def _decode_audio(body: memoryview, flags: int, device_id: int, session_id: int) -> Audio:
    sequence, sample_rate, channels, sample_format, length = _unpack(_AUDIO, body)
    try:
        fmt = SampleFormat(sample_format)
    except ValueError:
        raise ProtocolError(DropReason.BAD_FORMAT, f"sample format {sample_format}") from None
    if not MIN_SAMPLE_RATE <= sample_rate <= MAX_SAMPLE_RATE:
        raise ProtocolError(DropReason.BAD_FORMAT, f"sample rate {sample_rate}")
    if not 1 <= channels <= MAX_CHANNELS:
        raise ProtocolError(DropReason.BAD_FORMAT, f"{channels} channels")
    payload = _payload(body[_AUDIO.size :], length)
    if length % (channels * fmt.width):
        raise ProtocolError(DropReason.MISALIGNED, f"{length} bytes is not whole frames")
    return Audio(device_id, session_id, sequence, sample_rate, channels, fmt, payload, AudioFlag(flags & 0x03))


def _unpack(layout: struct.Struct, body: memoryview) -> tuple[Any, ...]:
    if len(body) < layout.size:
        raise ProtocolError(DropReason.TRUNCATED, f"{len(body)}-byte body, need {layout.size}")
    return layout.unpack_from(body)


def _payload(rest: memoryview, length: int) -> bytes:
    # Exact length: a short datagram was cut in transit, a long one is not what the sender wrote.
    if len(rest) < length:
        raise ProtocolError(DropReason.TRUNCATED, f"payload {len(rest)} of {length} bytes")
    if len(rest) > length:
        raise ProtocolError(DropReason.BAD_FORMAT, f"{len(rest) - length} bytes after payload")
    return bytes(rest)


def raster_crc32(raster: bytes) -> int:
    """The checksum RASTER chunks carry (zlib's CRC-32, as in PNG and Ethernet)."""
    return zlib.crc32(raster) & 0xFFFFFFFF
