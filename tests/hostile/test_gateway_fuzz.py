"""Random bytes and random datagrams: the parser raises nothing but ProtocolError, with or without
device keys, and no sequence of datagrams makes the assembler fail or assemble a recording over
its limit."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from voxprint.clients.gateway import protocol
from voxprint.clients.gateway.assembler import Assembler, Limits
from voxprint.clients.gateway.counters import Counters
from voxprint.clients.gateway.protocol import Audio, AudioFlag, Option, ProtocolError, SampleFormat

DEVICE = 0x0123456789ABCDEF
KEYS = {DEVICE: bytes(range(32))}
LIMITS = Limits(max_seconds=0.5)
TAGGED_HEADER = protocol.encode(protocol.Query(DEVICE, 1))[:7] + bytes([Option.TAGGED])


def decodes_or_refuses(datagram: bytes, keys: protocol.DeviceKeys | None) -> None:
    try:
        protocol.decode(datagram, keys)
    except ProtocolError:
        pass


@given(st.binary(max_size=protocol.MAX_DATAGRAM_SIZE + 100))
def test_random_bytes_with_keys_raise_nothing_but_protocol_error(datagram: bytes) -> None:
    decodes_or_refuses(datagram, KEYS)


@given(st.binary(max_size=protocol.MAX_DATAGRAM_SIZE))
def test_random_bytes_after_a_tagged_header_raise_nothing_but_protocol_error(tail: bytes) -> None:
    decodes_or_refuses(TAGGED_HEADER + tail, KEYS)
    decodes_or_refuses(TAGGED_HEADER + tail, None)


datagrams = st.builds(
    Audio,
    device_id=st.integers(0, 3),
    session_id=st.integers(0, 3),
    sequence=st.one_of(st.integers(0, 50), st.integers(0, 2**32 - 1)),
    sample_rate=st.sampled_from([8_000, 16_000]),
    channels=st.just(1),
    sample_format=st.sampled_from([SampleFormat.S16LE, SampleFormat.U8]),
    payload=st.integers(0, 700).map(lambda frames: b"\x01" * (2 * frames)),
    flags=st.sampled_from(AudioFlag),
)


@given(st.lists(st.tuples(datagrams, st.integers(40000, 40003), st.floats(0, 0.1)), max_size=60))
def test_no_sequence_of_datagrams_fails_the_assembler_or_passes_its_limit(
    arrivals: list[tuple[Audio, int, float]],
) -> None:
    assembler = Assembler(Counters(), LIMITS)
    now = 0.0
    for audio, port, pause in arrivals:
        now += pause
        assembler.add(audio, ("127.0.0.1", port), now)
    for recording in assembler.collect(now + LIMITS.silence_timeout):
        assert len(recording.pcm) <= LIMITS.max_recording_bytes(recording.format)
