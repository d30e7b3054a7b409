"""Recording assembly: order restored, duplicates and overlong recordings dropped, holes filled
with silence, devices never mixed, and recordings ended by their END flag or by silence.
Admission (quotas, eviction) and what a hostile datagram can make the assembler spend are in
tests/gateway/test_admission.py."""

from __future__ import annotations

import io
import wave

import pytest

from tests.support.gateway import FRAMES, part
from voxprint.clients.gateway.assembler import (
    RAW_FORMAT,
    Assembler,
    Ending,
    Limits,
    Recording,
    SessionKey,
    Verdict,
)
from voxprint.clients.gateway.counters import Counters
from voxprint.clients.gateway.protocol import Audio, AudioFlag, SampleFormat

ADDRESS = ("127.0.0.1", 40000)
OTHER_ADDRESS = ("127.0.0.1", 40001)
LIMITS = Limits(silence_timeout=1.0, reorder_grace=0.2, max_seconds=1.0)


def samples(recording: Recording) -> list[int]:
    pcm = recording.pcm
    return [int.from_bytes(pcm[i : i + 2], "little") for i in range(0, len(pcm), 2 * FRAMES)]


@pytest.fixture
def assembler(counters: Counters) -> Assembler:
    return Assembler(counters, LIMITS, wall_clock=lambda: 1_700_000_000.0)


def feed(assembler: Assembler, parts: list[Audio], now: float = 0.0) -> list[Verdict]:
    return [assembler.add(p, ADDRESS, now) for p in parts]


def test_recording_in_order_ends_on_its_end_flag_at_once(assembler: Assembler) -> None:
    feed(assembler, [part(i, last=3) for i in range(4)])
    [recording] = assembler.collect(now=0.0)
    assert samples(recording) == [1, 2, 3, 4]
    assert recording.ended_by is Ending.END_FLAG and recording.missing_datagrams == 0


def test_reordered_datagrams_are_put_back_in_order(assembler: Assembler) -> None:
    feed(assembler, [part(i, last=4) for i in (3, 0, 4, 2, 1)])
    [recording] = assembler.collect(now=0.0)
    assert samples(recording) == [1, 2, 3, 4, 5]


def test_duplicates_are_dropped_and_counted(assembler: Assembler, counters: Counters) -> None:
    verdicts = feed(assembler, [part(0), part(1), part(1), part(0), part(2, last=2)])
    [recording] = assembler.collect(now=0.0)
    assert verdicts.count(Verdict.DUPLICATE) == 2
    assert counters["datagrams.dropped.duplicate"] == 2
    assert samples(recording) == [1, 2, 3]


def test_holes_are_filled_with_silence_of_the_missing_length_and_counted(
    assembler: Assembler, counters: Counters
) -> None:
    feed(assembler, [part(0), part(3), part(5, last=5)])
    [recording] = assembler.collect(now=LIMITS.reorder_grace)
    assert samples(recording) == [1, 0, 0, 4, 0, 6]
    assert len(recording.pcm) == 6 * FRAMES * 2
    assert recording.missing_datagrams == 3 and counters["datagrams.gap_filled"] == 3


def test_unsigned_8_bit_holes_are_filled_with_its_silence_value(assembler: Assembler) -> None:
    feed(assembler, [part(0, fmt=SampleFormat.U8), part(2, last=2, fmt=SampleFormat.U8)])
    [recording] = assembler.collect(now=LIMITS.reorder_grace)
    assert recording.pcm[FRAMES : 2 * FRAMES] == b"\x80" * FRAMES


def test_end_flag_with_holes_waits_the_reorder_grace_for_stragglers(assembler: Assembler) -> None:
    feed(assembler, [part(0), part(2, last=2)])
    assert assembler.collect(now=LIMITS.reorder_grace / 2) == []
    feed(assembler, [part(1)], now=LIMITS.reorder_grace / 2)
    [recording] = assembler.collect(now=LIMITS.reorder_grace / 2)
    assert samples(recording) == [1, 2, 3] and recording.missing_datagrams == 0


def test_recording_without_end_flag_ends_after_the_silence_timeout(assembler: Assembler) -> None:
    feed(assembler, [part(0), part(1)])
    assert assembler.collect(now=LIMITS.silence_timeout - 0.01) == []
    [recording] = assembler.collect(now=LIMITS.silence_timeout)
    assert recording.ended_by is Ending.SILENCE_TIMEOUT and samples(recording) == [1, 2]


def test_each_datagram_restarts_the_silence_timeout(assembler: Assembler) -> None:
    feed(assembler, [part(0)], now=0.0)
    feed(assembler, [part(1)], now=0.5)
    assert assembler.collect(now=1.25) == []
    assert len(assembler.collect(now=1.5)) == 1


def test_two_devices_with_the_same_session_id_never_mix(assembler: Assembler) -> None:
    for i in range(3):
        assembler.add(part(i, device=1, last=2), ADDRESS, 0.0)
        assembler.add(
            Audio(
                2,
                1,
                i,
                16_000,
                1,
                SampleFormat.S16LE,
                b"\x63\x00" * FRAMES,
                AudioFlag.END if i == 2 else AudioFlag.NONE,
            ),
            OTHER_ADDRESS,
            0.0,
        )
    recordings = {r.key.device: r for r in assembler.collect(now=0.0)}
    assert samples(recordings[SessionKey.framed(1, 1).device]) == [1, 2, 3]
    assert samples(recordings[SessionKey.framed(2, 1).device]) == [0x63, 0x63, 0x63]
    assert recordings[SessionKey.framed(2, 1).device].address == OTHER_ADDRESS


def test_two_sessions_of_one_device_are_separate_recordings(assembler: Assembler) -> None:
    feed(assembler, [part(0, session=1), part(0, session=2), part(1, session=1, last=1)])
    [first] = assembler.collect(now=0.0)
    assert first.key == SessionKey.framed(1, 1) and samples(first) == [1, 2]
    assert assembler.open_sessions == 1


def test_overlong_recording_is_dropped_whole_and_counted(assembler: Assembler, counters: Counters) -> None:
    datagrams_per_second = 16_000 // FRAMES
    verdicts = feed(assembler, [part(i) for i in range(datagrams_per_second + 5)])
    assert Verdict.OVERLONG in verdicts
    assert assembler.collect(now=LIMITS.silence_timeout) == []
    assert counters["recordings.dropped.overlong"] == 1
    assert counters["recordings.assembled"] == 0


def test_a_sequence_number_far_beyond_the_cap_drops_the_recording(assembler: Assembler, counters: Counters) -> None:
    verdicts = feed(assembler, [part(0), part(10_000_000, last=10_000_000)])
    assert verdicts == [Verdict.ACCEPTED, Verdict.OVERLONG]
    assert assembler.collect(now=LIMITS.silence_timeout) == []
    assert counters["recordings.dropped.overlong"] == 1


def test_datagrams_arriving_after_the_recording_ended_are_dropped_as_late(
    assembler: Assembler, counters: Counters
) -> None:
    feed(assembler, [part(0), part(1, last=1)])
    assert len(assembler.collect(now=0.0)) == 1
    assert feed(assembler, [part(1, last=1)], now=0.1) == [Verdict.LATE]
    assert assembler.collect(now=5.0) == []
    assert counters["datagrams.dropped.late"] == 1


def test_a_session_changing_its_format_midway_has_those_datagrams_dropped(
    assembler: Assembler, counters: Counters
) -> None:
    verdicts = feed(assembler, [part(0), part(1, rate=8_000), part(2, last=2)])
    assert verdicts[1] is Verdict.FORMAT_CHANGED
    assert counters["datagrams.dropped.format_changed"] == 1


def test_recording_is_wrapped_as_a_wav_of_its_announced_format(assembler: Assembler) -> None:
    feed(assembler, [part(i, last=1, rate=22_050) for i in range(2)])
    [recording] = assembler.collect(now=0.0)
    with wave.open(io.BytesIO(recording.wav())) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (22_050, 1, 2)
        assert wav.readframes(wav.getnframes()) == recording.pcm


def test_raw_datagrams_are_keyed_by_sender_and_end_after_silence(assembler: Assembler) -> None:
    assembler.add_raw(b"\x01\x00" * 4, ADDRESS, 0.0)
    assembler.add_raw(b"\x09\x00" * 4, OTHER_ADDRESS, 0.0)
    assembler.add_raw(b"\x02\x00" * 4, ADDRESS, 0.5)
    [other] = assembler.collect(now=1.0)
    [mine] = assembler.collect(now=1.5)
    assert other.pcm == b"\x09\x00" * 4 and other.address == OTHER_ADDRESS
    assert mine.pcm == b"\x01\x00" * 4 + b"\x02\x00" * 4
    assert mine.format == RAW_FORMAT and mine.ended_by is Ending.SILENCE_TIMEOUT


def test_raw_sender_starts_a_new_recording_after_the_last_one_ended(assembler: Assembler) -> None:
    assembler.add_raw(b"\x01\x00", ADDRESS, 0.0)
    [first] = assembler.collect(now=1.0)
    assert assembler.add_raw(b"\x02\x00", ADDRESS, 1.0) is Verdict.ACCEPTED
    [second] = assembler.collect(now=2.0)
    assert second.pcm == b"\x02\x00" and second.key.device == first.key.device


def test_overlong_raw_recording_is_ignored_until_the_sender_goes_quiet(
    assembler: Assembler, counters: Counters
) -> None:
    second_of_audio = b"\x01\x00" * 16_000
    chunks = [second_of_audio[i : i + 1024] for i in range(0, len(second_of_audio), 1024)]
    for chunk in chunks + chunks[:3]:
        assembler.add_raw(chunk, ADDRESS, 0.0)
    assert assembler.collect(now=1.0) == []
    assert counters["recordings.dropped.overlong"] == 1
    assert assembler.add_raw(b"\x02\x00", ADDRESS, 1.0) is Verdict.ACCEPTED
