"""The UDP wire format: every message round-trips, anything else is refused with a reason; and
the gateway's side of delivering a raster in numbered chunks on a device's reply path."""

from __future__ import annotations

import asyncio
import struct
import uuid
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support import REPOSITORY
from voxprint.clients.gateway import protocol
from voxprint.clients.gateway.counters import Counters
from voxprint.clients.gateway.delivery import Recipient, UdpDelivery
from voxprint.clients.gateway.path_validation import ReplyPath
from voxprint.clients.gateway.protocol import (
    Ack,
    Audio,
    AudioFlag,
    DropReason,
    JobFlag,
    JobNotice,
    ProtocolError,
    Query,
    RasterChunk,
    Resend,
    SampleFormat,
    Signing,
)
from voxprint.v1 import voxprint_pb2

DEVICE = 0x0123456789ABCDEF
SESSION = 0xCAFE0001
JOB = uuid.UUID("6f1c2a4e-8d3b-4c5a-9e7f-102030405060")

ids = st.integers(0, 2**64 - 1)
u32 = st.integers(0, 2**32 - 1)
u16 = st.integers(0, 2**16 - 1)
cookies = st.binary(min_size=protocol.COOKIE_SIZE, max_size=protocol.COOKIE_SIZE)
COOKIE = bytes.fromhex("a1b2c3d4e5f60718")


def audio(**overrides: object) -> Audio:
    fields: dict[str, object] = {
        "device_id": DEVICE,
        "session_id": SESSION,
        "sequence": 7,
        "sample_rate": 16_000,
        "channels": 1,
        "sample_format": SampleFormat.S16LE,
        "payload": b"\x01\x02" * 4,
        "flags": AudioFlag.START,
    }
    fields.update(overrides)
    return Audio(**fields)  # type: ignore[arg-type]


@given(
    device=ids,
    session=u32,
    sequence=u32,
    rate=st.integers(protocol.MIN_SAMPLE_RATE, protocol.MAX_SAMPLE_RATE),
    channels=st.integers(1, 2),
    fmt=st.sampled_from(SampleFormat),
    frames=st.integers(0, 100),
    flags=st.sampled_from([0, 1, 2, 3]),
)
def test_audio_round_trips(
    device: int, session: int, sequence: int, rate: int, channels: int, fmt: SampleFormat, frames: int, flags: int
) -> None:
    payload = b"\x07" * (frames * channels * fmt.width)
    message = Audio(device, session, sequence, rate, channels, fmt, payload, AudioFlag(flags))
    assert protocol.decode(protocol.encode(message)) == message


@given(state=st.integers(0, 7), text=st.text(max_size=200), flags=st.sampled_from([0, 1, 2, 3]), cookie=cookies)
def test_job_notice_round_trips(state: int, text: str, flags: int, cookie: bytes) -> None:
    message = JobNotice(DEVICE, SESSION, JOB, state, text, JobFlag(flags), cookie)
    assert protocol.decode(protocol.encode(message)) == message


def test_job_notice_text_is_cut_to_fit_one_datagram_on_a_character_boundary() -> None:
    long = JobNotice(DEVICE, SESSION, JOB, 6, "ü" * 2000)
    datagram = protocol.encode(long)
    decoded = protocol.decode(datagram)
    assert len(datagram) <= protocol.MAX_DATAGRAM_SIZE
    assert isinstance(decoded, JobNotice) and decoded.text and set(decoded.text) == {"ü"}


@given(
    width=u16,
    height=u16,
    bpr=u16,
    size=u16,
    index=u32,
    count=u32,
    crc=u32,
    payload=st.binary(max_size=protocol.MAX_RASTER_PAYLOAD),
)
def test_raster_chunk_round_trips(
    width: int, height: int, bpr: int, size: int, index: int, count: int, crc: int, payload: bytes
) -> None:
    message = RasterChunk(DEVICE, SESSION, JOB, width, height, bpr, size, index, count, crc, payload)
    assert protocol.decode(protocol.encode(message)) == message


@given(indices=st.lists(u32, max_size=protocol.MAX_RESEND_INDICES), cookie=cookies)
def test_resend_round_trips(indices: list[int], cookie: bytes) -> None:
    message = Resend(DEVICE, SESSION, tuple(indices), cookie)
    assert protocol.decode(protocol.encode(message)) == message


@given(cookie=cookies, padding=st.integers(0, protocol.MAX_DATAGRAM_SIZE - protocol.QUERY_SIZE))
def test_query_round_trips_with_its_padding(cookie: bytes, padding: int) -> None:
    message = Query(DEVICE, SESSION, cookie, padding)
    assert protocol.decode(protocol.encode(message)) == message


@given(cookie=cookies)
def test_ack_round_trips(cookie: bytes) -> None:
    message = Ack(DEVICE, SESSION, cookie)
    assert protocol.decode(protocol.encode(message)) == message


def test_a_query_padded_to_the_limit_fills_one_datagram_exactly() -> None:
    padding = protocol.MAX_DATAGRAM_SIZE - protocol.QUERY_SIZE
    assert len(protocol.encode(Query(DEVICE, SESSION, padding=padding))) == protocol.MAX_DATAGRAM_SIZE


def test_a_cookie_of_the_wrong_size_is_refused_when_encoding() -> None:
    with pytest.raises(ValueError):
        protocol.encode(Query(DEVICE, SESSION, cookie=b"short"))


# 2026-01-01 00:00:00 UTC in microseconds: a counter as a device with a clock starts it.
DOCUMENTED_COUNTER = 1_767_225_600_000_000


def documented_examples() -> list[bytes]:
    """The datagrams of docs/udp-protocol.md's worked example, one per code block."""
    text = (REPOSITORY / "docs" / "udp-protocol.md").read_text()
    section = text.split("## Worked example", 1)[1].split("\n## ", 1)[0]
    datagrams = []
    for block in section.split("```")[1::2]:
        tokens = []
        for line in block.splitlines():
            for token in line.split():
                if len(token) != 2 or any(c not in "0123456789abcdef" for c in token):
                    break  # the rest of the line annotates the bytes
                tokens.append(token)
        datagrams.append(bytes.fromhex("".join(tokens)))
    return datagrams


def test_worked_examples_in_the_protocol_doc_are_exact() -> None:
    assert documented_examples() == [
        protocol.encode(audio(payload=bytes.fromhex("0000ff7f0080"))),
        protocol.encode(JobNotice(DEVICE, SESSION, JOB, 6, "two penguins", JobFlag.RASTER_FOLLOWS, COOKIE)),
        protocol.encode(RasterChunk(DEVICE, SESSION, JOB, 384, 512, 48, 1024, 3, 24, 0x89ABCDEF, bytes(4))),
        protocol.encode(Resend(DEVICE, SESSION, (3, 17), COOKIE)),
        protocol.encode(Query(DEVICE, SESSION, COOKIE), Signing(bytes(range(32)), DOCUMENTED_COUNTER)),
    ]


def test_encoding_refuses_a_message_larger_than_one_datagram() -> None:
    with pytest.raises(ValueError):
        protocol.encode(audio(payload=bytes(protocol.MAX_AUDIO_PAYLOAD + 2)))


def reason(datagram: bytes) -> DropReason:
    with pytest.raises(ProtocolError) as refused:
        protocol.decode(datagram)
    return refused.value.reason


def test_wrong_magic_is_refused() -> None:
    assert reason(b"XXPR" + protocol.encode(audio())[4:]) is DropReason.BAD_MAGIC


def test_empty_datagram_is_refused_as_bad_magic() -> None:
    assert reason(b"") is DropReason.BAD_MAGIC


@pytest.mark.parametrize("version", [1, 3])
def test_another_version_is_refused(version: int) -> None:
    datagram = bytearray(protocol.encode(audio()))
    datagram[4] = version
    assert reason(bytes(datagram)) is DropReason.BAD_VERSION


def test_unknown_kind_is_refused() -> None:
    datagram = bytearray(protocol.encode(Query(DEVICE, SESSION)))
    datagram[5] = 99
    assert reason(bytes(datagram)) is DropReason.BAD_KIND


@pytest.mark.parametrize("cut", [5, protocol.COMMON_HEADER_SIZE + 3, protocol.AUDIO_HEADER_SIZE + 1])
def test_truncated_audio_is_refused(cut: int) -> None:
    assert reason(protocol.encode(audio())[:cut]) is DropReason.TRUNCATED


def test_truncated_raster_chunk_is_refused() -> None:
    chunk = RasterChunk(DEVICE, SESSION, JOB, 384, 2, 48, 96, 0, 1, 0, bytes(96))
    assert reason(protocol.encode(chunk)[:-1]) is DropReason.TRUNCATED


def test_bytes_after_the_announced_payload_are_refused() -> None:
    assert reason(protocol.encode(audio()) + b"\0\0") is DropReason.BAD_FORMAT


def test_oversized_datagram_is_refused() -> None:
    assert reason(protocol.encode(audio()) + bytes(protocol.MAX_DATAGRAM_SIZE)) is DropReason.OVERSIZED


@pytest.mark.parametrize(
    "bad",
    [
        {"sample_format": 9},
        {"sample_rate": 100},
        {"sample_rate": 1_000_000},
        {"channels": 0},
        {"channels": 9},
    ],
)
def test_impossible_audio_formats_are_refused(bad: dict[str, int]) -> None:
    fields = {"sequence": 0, "sample_rate": 16_000, "channels": 1, "sample_format": 1}
    fields.update(bad)
    datagram = (
        struct.pack(">4sBBBBQI", b"VXPR", protocol.VERSION, 1, 0, 0, DEVICE, SESSION)
        + struct.pack(
            ">IIBBH", fields["sequence"], fields["sample_rate"], fields["channels"], fields["sample_format"], 2
        )
        + b"\0\0"
    )
    assert reason(datagram) is DropReason.BAD_FORMAT


def test_payload_that_is_not_whole_frames_is_refused() -> None:
    datagram = bytearray(protocol.encode(audio(payload=b"\x01\x02\x03\x04")))
    datagram[29] = SampleFormat.S24LE  # 4 bytes of 3-byte samples: one and a third frames
    assert reason(bytes(datagram)) is DropReason.MISALIGNED


def test_resend_naming_too_many_chunks_is_refused() -> None:
    datagram = protocol.encode(Resend(DEVICE, SESSION))[:-2] + struct.pack(">H", protocol.MAX_RESEND_INDICES + 1)
    assert reason(datagram) is DropReason.BAD_FORMAT


@pytest.mark.parametrize("message", [Resend(DEVICE, SESSION), Query(DEVICE, SESSION), Ack(DEVICE, SESSION)])
def test_a_request_without_room_for_its_cookie_is_refused(message: protocol.Message) -> None:
    assert reason(protocol.encode(message)[: protocol.COMMON_HEADER_SIZE + 4]) is DropReason.TRUNCATED


@given(st.binary(max_size=2000))
def test_random_bytes_never_raise_anything_but_protocol_error(data: bytes) -> None:
    try:
        protocol.decode(data)
    except ProtocolError:
        pass


@given(st.binary(min_size=1, max_size=64))
def test_random_bytes_after_a_valid_header_never_raise_anything_but_protocol_error(tail: bytes) -> None:
    try:
        protocol.decode(protocol.encode(Query(DEVICE, SESSION))[:6] + tail)
    except ProtocolError:
        pass


# Device authentication: a replay counter and an HMAC-SHA256 tag over the whole datagram, option
# bit TAGGED.

SECRET = bytes(range(32))
KEYS = {DEVICE: SECRET}
SIGNED = Signing(SECRET, 41)


@pytest.mark.parametrize(
    "message", [audio(), Query(DEVICE, SESSION, COOKIE, 5), Resend(DEVICE, SESSION, (1, 2), COOKIE)]
)
def test_a_tagged_datagram_round_trips_with_the_devices_key(message: protocol.Message) -> None:
    datagram = protocol.encode(message, SIGNED)
    assert datagram[7] & protocol.Option.TAGGED
    assert protocol.decode(datagram, KEYS) == message


def test_a_tagged_datagram_carries_its_counter_under_the_tag() -> None:
    datagram = bytearray(protocol.encode(Query(DEVICE, SESSION), SIGNED))
    assert protocol.counter(bytes(datagram)) == SIGNED.counter
    datagram[-protocol.TRAILER_SIZE + 7] ^= 0x01  # the counter's last byte: 41 becomes 40
    assert reason_with_keys(bytes(datagram)) is DropReason.BAD_TAG


def test_an_untagged_datagram_has_no_counter() -> None:
    with pytest.raises(ValueError):
        protocol.counter(protocol.encode(Query(DEVICE, SESSION)))


def test_without_keys_a_tag_is_skipped_so_tagged_and_untagged_devices_both_work() -> None:
    assert protocol.decode(protocol.encode(audio(), SIGNED)) == protocol.decode(protocol.encode(audio()))


def test_with_keys_an_untagged_datagram_is_refused() -> None:
    assert reason_with_keys(protocol.encode(audio())) is DropReason.UNTAGGED


def test_with_keys_a_datagram_changed_after_tagging_is_refused() -> None:
    datagram = bytearray(protocol.encode(audio(), SIGNED))
    datagram[protocol.AUDIO_HEADER_SIZE] ^= 0x01
    assert reason_with_keys(bytes(datagram)) is DropReason.BAD_TAG


def test_with_keys_a_datagram_tagged_with_another_secret_is_refused() -> None:
    assert reason_with_keys(protocol.encode(audio(), Signing(bytes(32), 41))) is DropReason.BAD_TAG


def test_with_keys_a_device_without_a_key_is_refused() -> None:
    assert reason_with_keys(protocol.encode(audio(device_id=DEVICE + 1), SIGNED)) is DropReason.UNKNOWN_DEVICE


def test_with_keys_a_tagged_datagram_with_its_option_bit_cleared_is_refused() -> None:
    datagram = bytearray(protocol.encode(Query(DEVICE, SESSION), SIGNED))
    datagram[7] = 0
    assert reason_with_keys(bytes(datagram)) is DropReason.UNTAGGED


def test_a_tagged_job_notice_cuts_its_text_to_leave_room_for_the_counter_and_tag() -> None:
    datagram = protocol.encode(JobNotice(DEVICE, SESSION, JOB, 6, "x" * 2000), SIGNED)
    assert len(datagram) == protocol.MAX_DATAGRAM_SIZE
    assert protocol.decode(datagram, KEYS).text == "x" * (protocol.MAX_JOB_TEXT - protocol.TRAILER_SIZE)


def reason_with_keys(datagram: bytes) -> DropReason:
    with pytest.raises(ProtocolError) as refused:
        protocol.decode(datagram, KEYS)
    return refused.value.reason


# The delivery protocol, gateway side: numbered chunks on the device's reply path, RESEND, ACK,
# retention. Every path has budget here: withholding is the gateway's (test_path_validation.py).

DEVICE_ADDRESS = ("127.0.0.1", 40000)
ELSEWHERE = ("127.0.0.1", 40001)
Sent = list[tuple[bytes, tuple[str, int]]]


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def sent() -> Sent:
    return []


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def udp_delivery(sent: Sent, clock: FakeClock, counters: Counters, **settings: Any) -> UdpDelivery:
    def send(datagram: bytes, path: ReplyPath) -> bool:
        sent.append((datagram, path.address))
        return True

    return UdpDelivery(send, counters, clock, chunk_size=100, chunk_interval=0.0, retention=10.0, **settings)


@pytest.fixture
def udp(sent: Sent, clock: FakeClock, counters: Counters) -> UdpDelivery:
    return udp_delivery(sent, clock, counters, resend_rounds=2)


RASTER = bytes(range(256)) * 3  # 768 bytes: 8 chunks of 100, the last of 68
JOB_MESSAGE = voxprint_pb2.Job(id=str(JOB), state=voxprint_pb2.JOB_STATE_COMPLETED)
FETCHED = voxprint_pb2.FetchResponse(data=RASTER, width=128, height=48, bytes_per_row=16)


@pytest.fixture
async def delivered(udp: UdpDelivery, sent: Sent) -> Recipient:
    """The device the raster was delivered to; what was sent is cleared."""
    recipient = Recipient(DEVICE, SESSION, ReplyPath(DEVICE_ADDRESS))
    await udp.deliver(recipient, JOB_MESSAGE, FETCHED)
    sent.clear()
    return recipient


def proven(address: tuple[str, int] = DEVICE_ADDRESS) -> ReplyPath:
    return ReplyPath(address, proven=True)


async def resend(udp: UdpDelivery, request: Resend, path: ReplyPath) -> None:
    udp.resend(request, path)
    await asyncio.sleep(0.01)


def chunks(sent: Sent) -> list[RasterChunk]:
    decoded = [protocol.decode(data) for data, _ in sent]
    assert all(isinstance(chunk, RasterChunk) for chunk in decoded)
    return decoded  # type: ignore[return-value]


async def test_raster_goes_to_the_device_in_numbered_chunks_that_rebuild_it(udp: UdpDelivery, sent: Sent) -> None:
    await udp.deliver(Recipient(DEVICE, SESSION, ReplyPath(DEVICE_ADDRESS)), JOB_MESSAGE, FETCHED)
    received = chunks(sent)
    assert [c.chunk_index for c in received] == list(range(8))
    assert {(c.chunk_count, c.width, c.height, c.bytes_per_row, c.job_id) for c in received} == {(8, 128, 48, 16, JOB)}
    rebuilt = b"".join(c.payload for c in received)
    assert rebuilt == RASTER and received[0].crc32 == protocol.raster_crc32(rebuilt)
    assert {address for _, address in sent} == {DEVICE_ADDRESS}


async def test_a_proven_resend_gets_exactly_the_named_chunks_and_moves_the_session_there(
    udp: UdpDelivery, sent: Sent, delivered: Recipient
) -> None:
    await resend(udp, Resend(DEVICE, SESSION, (2, 7, 99)), proven(ELSEWHERE))
    assert [c.chunk_index for c in chunks(sent)] == [2, 7]
    assert {address for _, address in sent} == {ELSEWHERE}
    assert delivered.path == proven(ELSEWHERE)


async def test_an_unproven_resend_is_answered_where_it_came_from_and_moves_nothing(
    udp: UdpDelivery, sent: Sent, delivered: Recipient
) -> None:
    await resend(udp, Resend(DEVICE, SESSION, (2,)), ReplyPath(ELSEWHERE))
    assert [c.chunk_index for c in chunks(sent)] == [2]
    assert {address for _, address in sent} == {ELSEWHERE}
    assert delivered.path == ReplyPath(DEVICE_ADDRESS)


async def test_a_chunk_named_many_times_in_one_resend_is_sent_once(
    udp: UdpDelivery, sent: Sent, delivered: Recipient
) -> None:
    await resend(udp, Resend(DEVICE, SESSION, (2, 2, 7, 2, 7) * 50), proven())
    assert [c.chunk_index for c in chunks(sent)] == [2, 7]


async def test_a_resend_arriving_while_one_is_being_answered_is_dropped_and_counted(
    udp: UdpDelivery, sent: Sent, counters: Counters, delivered: Recipient
) -> None:
    for _ in range(10):
        udp.resend(Resend(DEVICE, SESSION), proven())
    await asyncio.sleep(0.01)
    await resend(udp, Resend(DEVICE, SESSION, (3,)), proven())  # the first one is done: answered
    assert [c.chunk_index for c in chunks(sent)] == [*range(8), 3]
    assert counters["resends.dropped_busy"] == 9


async def test_resend_without_indices_sends_every_chunk(udp: UdpDelivery, sent: Sent, delivered: Recipient) -> None:
    await resend(udp, Resend(DEVICE, SESSION), proven())
    assert [c.chunk_index for c in chunks(sent)] == list(range(8))


async def test_resends_beyond_the_rasters_allowance_are_dropped_and_counted(
    udp: UdpDelivery, sent: Sent, counters: Counters, delivered: Recipient
) -> None:
    for _ in range(2):  # resend_rounds=2: every chunk twice over
        await resend(udp, Resend(DEVICE, SESSION), proven())
    await resend(udp, Resend(DEVICE, SESSION, (0,)), proven())
    assert len(chunks(sent)) == 16
    assert counters["resends.over_limit"] == 1


async def test_a_resent_chunk_to_a_device_with_a_key_is_tagged_with_a_new_counter(
    sent: Sent, clock: FakeClock, counters: Counters
) -> None:
    counter = iter(range(1, 100))
    udp = udp_delivery(sent, clock, counters, signing=lambda device: Signing(SECRET, next(counter)))
    await udp.deliver(Recipient(DEVICE, SESSION, proven()), JOB_MESSAGE, FETCHED)
    await resend(udp, Resend(DEVICE, SESSION, (0,)), proven())
    first, again = sent[0][0], sent[-1][0]
    assert protocol.decode(first, KEYS) == protocol.decode(again, KEYS)
    assert (protocol.counter(first), protocol.counter(again)) == (1, 9)


async def test_after_ack_the_raster_is_forgotten(udp: UdpDelivery, sent: Sent, delivered: Recipient) -> None:
    udp.acknowledge(delivered.key)
    await resend(udp, Resend(DEVICE, SESSION), proven())
    assert sent == []


async def test_a_raster_is_kept_for_the_retention_time_after_its_delivery_however_often_it_is_asked_for(
    udp: UdpDelivery, sent: Sent, clock: FakeClock, delivered: Recipient
) -> None:
    clock.now = 9.0
    udp.expire()
    await resend(udp, Resend(DEVICE, SESSION, (0,)), proven())
    clock.now = 10.5
    udp.expire()
    await resend(udp, Resend(DEVICE, SESSION, (1,)), proven())
    assert [c.chunk_index for c in chunks(sent)] == [0]
