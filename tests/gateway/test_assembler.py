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


def test_replies_follow_a_device_whose_new_datagrams_come_from_a_new_address(assembler: Assembler) -> None:
    assembler.add(part(0, last=1), ADDRESS, 0.0)
    assembler.add(part(1, last=1), OTHER_ADDRESS, 0.0)
    [recording] = assembler.collect(now=0.0)
    assert recording.address == OTHER_ADDRESS


@pytest.mark.parametrize(
    ("replayed", "verdict"), [(part(0, last=2), Verdict.DUPLICATE), (part(3, last=2), Verdict.LATE)]
)
def test_a_datagram_that_brings_nothing_new_does_not_move_the_replies(
    assembler: Assembler, replayed: Audio, verdict: Verdict
) -> None:
    feed(assembler, [part(0, last=2), part(2, last=2)])  # a hole: the recording waits its grace
    assert assembler.add(replayed, OTHER_ADDRESS, 0.1) is verdict
    [recording] = assembler.collect(now=0.5)
    assert recording.address == ADDRESS


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


def test_each_session_and_recording_is_counted_by_how_it_went(assembler: Assembler, counters: Counters) -> None:
    feed(assembler, [part(i, session=1, last=2) for i in range(3)])
    feed(assembler, [part(i, session=2, last=3) for i in (0, 1, 3)])
    assembler.add(part(0, session=3, frames=0), ADDRESS, 0.0)
    assembler.collect(now=LIMITS.silence_timeout)

    assert (counters["sessions.opened"], counters["recordings.assembled"]) == (3, 2)
    assert (counters["recordings.with_gaps"], counters["datagrams.gap_filled"]) == (1, 1)
    assert (counters["recordings.ended_by.end_flag"], counters["recordings.dropped.empty"]) == (2, 1)


def test_a_recording_missing_its_first_datagram_starts_with_its_silence(assembler: Assembler) -> None:
    feed(assembler, [part(1), part(2, last=2)])
    [recording] = assembler.collect(now=LIMITS.reorder_grace)

    assert samples(recording) == [0, 2, 3] and recording.missing_datagrams == 1


def test_a_recording_missing_two_of_its_three_datagrams_is_dropped(assembler: Assembler, counters: Counters) -> None:
    feed(assembler, [part(2, last=2)])

    assert assembler.collect(now=LIMITS.reorder_grace) == []
    assert counters["recordings.dropped.mostly_missing"] == 1


def test_an_end_datagram_without_audio_ends_a_recording_that_keeps_the_audio_before_it(
    assembler: Assembler,
) -> None:
    feed(assembler, [part(0), part(1), part(2, last=2, frames=0)])
    [recording] = assembler.collect(now=0.0)

    assert samples(recording) == [1, 2]


FINISHED_MEMORY = 10.0


@pytest.fixture
def forgetful(counters: Counters) -> Assembler:
    """Remembers finished sessions for FINISHED_MEMORY seconds, and at most two of them."""
    return Assembler(counters, Limits(silence_timeout=1.0, finished_memory=FINISHED_MEMORY, finished_capacity=2))


def finish(assembler: Assembler, session: int, now: float) -> None:
    assembler.add(part(0, session=session, last=0), ADDRESS, now)
    assert len(assembler.collect(now)) == 1


def test_a_finished_sessions_datagrams_are_late_for_the_finished_memory_then_start_anew(forgetful: Assembler) -> None:
    finish(forgetful, session=1, now=0.0)
    finish(forgetful, session=2, now=5.0)

    assert forgetful.add(part(0, session=1), ADDRESS, FINISHED_MEMORY - 1) is Verdict.LATE
    forgetful.collect(now=FINISHED_MEMORY)
    assert forgetful.add(part(0, session=1), ADDRESS, FINISHED_MEMORY) is Verdict.ACCEPTED
    assert forgetful.add(part(0, session=2), ADDRESS, FINISHED_MEMORY) is Verdict.LATE


def test_beyond_its_capacity_the_oldest_finished_session_is_forgotten_first(forgetful: Assembler) -> None:
    for session, now in ((1, 0.0), (2, 1.0), (3, 2.0)):
        finish(forgetful, session, now)

    verdicts = [forgetful.add(part(0, session=session), ADDRESS, 3.0) for session in (3, 2, 1)]
    assert verdicts == [Verdict.LATE, Verdict.LATE, Verdict.ACCEPTED]


def test_a_raw_senders_recordings_are_told_apart_by_their_start_time_in_milliseconds(counters: Counters) -> None:
    clock = iter([1_700_000_000.0, 1_700_000_000.25, 1_700_000_009.5])
    assembler = Assembler(counters, LIMITS, wall_clock=lambda: next(clock))
    for now in (0.0, 0.1, 0.2):
        assembler.add_raw(b"\x01\x00", ADDRESS, now)
    [first] = assembler.collect(now=2.0)
    assembler.add_raw(b"\x02\x00", ADDRESS, 9.0)
    [second] = assembler.collect(now=11.0)

    assert first.key == SessionKey("raw:127.0.0.1:40000", 1_700_000_000_000) and first.pcm == b"\x01\x00" * 3
    assert second.key == SessionKey("raw:127.0.0.1:40000", 1_700_000_000_250)
