"""What a datagram can make the gateway spend: sessions are admitted by fair quotas with the idlest
unfinished one evicted, sequence numbers and projected sizes are bounded before anything is
stored, holes cost memory only at assembly, and every source is held to a token-bucket rate."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable

import pytest

from tests.support.gateway import FRAMES, part
from voxprint.clients.gateway.assembler import Assembler, Limits, Verdict
from voxprint.clients.gateway.counters import Counters
from voxprint.clients.gateway.rate_limit import RateLimit, RateLimiter

DEVICE = ("10.0.0.1", 40000)
SAME_DEVICE_OTHER_PORT = ("10.0.0.1", 40001)
OTHER_DEVICE = ("10.0.0.2", 40000)
ONE_SECOND = Limits(max_seconds=1.0)  # 32000 bytes of 16 kHz 16-bit mono
MAX_SEQUENCE_U32 = 0xFFFF_FFFF


def start(assembler: Assembler, session: int, source: tuple[str, int], now: float, device: int = 1) -> Verdict:
    return assembler.add(part(0, device=device, session=session), source, now)


def peak_allocation(action: Callable[[], object]) -> int:
    """Bytes allocated at the peak while `action` runs, beyond what was allocated before."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        action()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - before


def test_a_source_over_its_quota_evicts_its_own_idlest_session(counters: Counters) -> None:
    assembler = Assembler(counters, Limits(max_sessions_per_endpoint=2))
    for session in range(3):
        assert start(assembler, session, DEVICE, now=session) is Verdict.ACCEPTED
    assert assembler.open_sessions == 2 and counters["sessions.evicted"] == 1
    assert assembler.add(part(1, session=0), DEVICE, 3.0) is Verdict.LATE


def test_ports_of_one_address_share_the_address_quota(counters: Counters) -> None:
    assembler = Assembler(counters, Limits(max_sessions_per_endpoint=2, max_sessions_per_address=3))
    start(assembler, 1, DEVICE, now=0.0)
    start(assembler, 2, DEVICE, now=1.0)
    start(assembler, 3, SAME_DEVICE_OTHER_PORT, now=2.0)
    start(assembler, 4, SAME_DEVICE_OTHER_PORT, now=3.0)
    assert assembler.open_sessions == 3
    assert assembler.add(part(1, session=1), DEVICE, 4.0) is Verdict.LATE


def test_a_flooding_source_never_evicts_another_sources_session(counters: Counters) -> None:
    assembler = Assembler(counters, Limits())
    start(assembler, 1, OTHER_DEVICE, now=0.0, device=2)
    for session in range(200):
        start(assembler, session, DEVICE, now=1.0 + session / 1000)
    assert assembler.add(part(1, device=2, session=1, last=1), OTHER_DEVICE, 2.0) is Verdict.ACCEPTED
    [recording] = [r for r in assembler.collect(now=2.0) if r.address == OTHER_DEVICE]
    assert len(recording.pcm) == 2 * FRAMES * 2


def test_a_full_gateway_evicts_the_idlest_unfinished_session_of_any_source(counters: Counters) -> None:
    assembler = Assembler(counters, Limits(max_sessions=2))
    start(assembler, 1, DEVICE, now=0.0)
    start(assembler, 1, OTHER_DEVICE, now=1.0, device=2)
    assembler.add(part(1, session=1), DEVICE, 2.0)  # the first device is active again
    start(assembler, 1, ("10.0.0.3", 40000), now=3.0, device=3)
    assert assembler.add(part(1, device=2, session=1), OTHER_DEVICE, 4.0) is Verdict.LATE
    assert assembler.add(part(2, session=1), DEVICE, 4.0) is Verdict.ACCEPTED


def test_an_overlong_session_is_evicted_before_an_idler_one(counters: Counters) -> None:
    assembler = Assembler(counters, Limits(max_seconds=1.0, max_sessions_per_endpoint=2))
    start(assembler, 1, DEVICE, now=0.0)
    assert assembler.add(part(MAX_SEQUENCE_U32, session=2), DEVICE, 1.0) is Verdict.OVERLONG
    start(assembler, 3, DEVICE, now=2.0)
    assert assembler.add(part(1, session=1), DEVICE, 3.0) is Verdict.ACCEPTED


def test_a_complete_recording_awaiting_collection_is_never_evicted(counters: Counters) -> None:
    assembler = Assembler(counters, Limits(max_sessions=1))
    assembler.add(part(0, session=1, last=0), DEVICE, 0.0)
    assert start(assembler, 2, OTHER_DEVICE, now=1.0, device=2) is Verdict.TOO_MANY_SESSIONS
    assert counters["datagrams.dropped.too_many_sessions"] == 1
    assert len(assembler.collect(now=1.0)) == 1


def test_an_evicted_recording_is_never_assembled(counters: Counters) -> None:
    assembler = Assembler(counters, Limits(max_sessions_per_endpoint=1))
    start(assembler, 1, DEVICE, now=0.0)
    start(assembler, 2, DEVICE, now=1.0)
    assert [r.key.session for r in assembler.collect(now=10.0)] == [2]


def test_an_end_with_the_largest_sequence_number_allocates_nothing(counters: Counters) -> None:
    assembler = Assembler(counters, Limits())
    verdicts: list[Verdict] = []

    def bomb() -> None:
        verdicts.append(assembler.add(part(MAX_SEQUENCE_U32, last=MAX_SEQUENCE_U32), DEVICE, 0.0))
        assembler.collect(now=10.0)

    assert peak_allocation(bomb) < 64 * 1024
    assert verdicts == [Verdict.OVERLONG] and counters["recordings.assembled"] == 0


def test_a_hole_costs_memory_only_when_the_recording_is_assembled(counters: Counters) -> None:
    assembler = Assembler(counters, Limits(max_seconds=1.0, max_missing_fraction=1.0))
    last = 1999  # 2000 datagrams of 16 bytes: exactly the 32000-byte limit
    assert peak_allocation(lambda: assembler.add(part(last, last=last), DEVICE, 0.0)) < 16 * 1024
    assembler.add(part(0), DEVICE, 0.0)
    [recording] = assembler.collect(now=1.0)
    assert len(recording.pcm) == 32_000 and recording.missing_datagrams == last - 1


def test_a_recording_mostly_made_of_holes_is_dropped(counters: Counters) -> None:
    assembler = Assembler(counters, ONE_SECOND)
    assembler.add(part(0), DEVICE, 0.0)
    assembler.add(part(1999, last=1999), DEVICE, 0.0)
    assert assembler.collect(now=1.0) == []
    assert counters["recordings.dropped.mostly_missing"] == 1


def test_the_projected_size_counts_the_real_datagram_size(counters: Counters) -> None:
    assembler = Assembler(counters, ONE_SECOND)
    assembler.add(part(0), DEVICE, 0.0)
    assert assembler.add(part(2000), DEVICE, 0.0) is Verdict.OVERLONG  # 2001 × 16 bytes > 32000


def test_sequence_numbers_beyond_the_datagram_cap_drop_the_recording(counters: Counters) -> None:
    assembler = Assembler(counters, Limits(max_datagrams=10))
    assert assembler.add(part(9, session=1), DEVICE, 0.0) is Verdict.ACCEPTED
    assert assembler.add(part(10, session=2), DEVICE, 0.0) is Verdict.OVERLONG


@pytest.fixture
def limiter() -> RateLimiter:
    return RateLimiter(RateLimit(rate=8.0, burst=5.0, max_sources=2))


def allowed(limiter: RateLimiter, source: tuple[str, int], count: int, now: float) -> int:
    return sum(limiter.allow(source, now) for _ in range(count))


def test_a_source_may_burst_then_is_held_to_its_rate(limiter: RateLimiter) -> None:
    assert allowed(limiter, DEVICE, 10, now=0.0) == 5
    assert allowed(limiter, DEVICE, 10, now=0.25) == 2
    assert allowed(limiter, DEVICE, 10, now=60.0) == 5  # never more than the burst


def test_each_source_endpoint_has_its_own_bucket(limiter: RateLimiter) -> None:
    assert allowed(limiter, DEVICE, 10, now=0.0) == 5
    assert allowed(limiter, SAME_DEVICE_OTHER_PORT, 10, now=0.0) == 5


def test_only_the_most_recent_sources_are_remembered(limiter: RateLimiter) -> None:
    allowed(limiter, DEVICE, 5, now=0.0)
    allowed(limiter, SAME_DEVICE_OTHER_PORT, 1, now=0.0)
    allowed(limiter, OTHER_DEVICE, 1, now=0.0)
    # Forgotten, the first source starts again with a full bucket: what an idle source has.
    assert allowed(limiter, DEVICE, 10, now=0.0) == 5
