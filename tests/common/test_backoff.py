"""The one retry policy (voxprint.common.backoff): how long it waits, and what makes it stop."""

from __future__ import annotations

import asyncio
import time

import pytest

from voxprint.common.backoff import Backoff, call_with_retries, call_with_retries_async

NO_JITTER = Backoff(attempts=None, initial_delay=0.01, max_delay=0.05, jitter=0.0)


class Transient(Exception):
    pass


class Permanent(Exception):
    pass


def is_transient(error: Exception) -> bool:
    return isinstance(error, Transient)


def failing(times: int, error: Exception, result: str = "done"):
    """An operation that raises ``error`` ``times`` times, then returns ``result``; it counts its calls."""
    calls: list[int] = []

    def operation() -> str:
        calls.append(1)
        if len(calls) <= times:
            raise error
        return result

    return operation, calls


def test_waits_double_from_the_first_delay_up_to_the_ceiling():
    assert [NO_JITTER.delay(retry) for retry in range(1, 6)] == [0.01, 0.02, 0.04, 0.05, 0.05]


def test_jitter_adds_at_most_its_own_amount_to_each_wait():
    backoff = Backoff(initial_delay=1.0, max_delay=100.0, jitter=0.5)
    waits = [backoff.delay(1) for _ in range(200)]
    assert all(1.0 <= wait <= 1.5 for wait in waits)
    assert len(set(waits)) > 1


def test_attempts_counts_failures_in_a_row():
    retries = Backoff(attempts=3, initial_delay=0.0, jitter=0.0).start()
    assert [retries.next_delay(), retries.next_delay(), retries.next_delay()] == [0.0, 0.0, None]
    assert retries.exhausted()


def test_a_success_starts_the_count_of_failures_again():
    retries = Backoff(attempts=2, initial_delay=0.0, jitter=0.0).start()
    assert retries.next_delay() == 0.0
    retries.succeeded()
    assert retries.next_delay() == 0.0
    assert retries.next_delay() is None


def test_a_wait_that_would_end_past_the_deadline_stops_the_trying():
    retries = Backoff(attempts=None, initial_delay=1.0, jitter=0.0).start(deadline=time.monotonic() + 0.5)
    assert retries.next_delay() is None
    assert not retries.exhausted()


def test_give_up_after_is_a_deadline_counted_from_the_start():
    retries = Backoff(attempts=None, initial_delay=1.0, jitter=0.0, give_up_after=10.0).start()
    assert 9.0 < retries.remaining() <= 10.0
    assert retries.next_delay() == 1.0


def test_the_earlier_of_give_up_after_and_the_callers_deadline_wins():
    retries = Backoff(give_up_after=10.0).start(deadline=time.monotonic() + 1.0)
    assert retries.remaining() <= 1.0


def test_a_transient_failure_is_retried_until_the_call_succeeds():
    operation, calls = failing(2, Transient())
    assert call_with_retries(operation, backoff=NO_JITTER, is_transient=is_transient) == "done"
    assert len(calls) == 3


def test_a_permanent_failure_is_raised_at_once():
    operation, calls = failing(1, Permanent("no"))
    with pytest.raises(Permanent):
        call_with_retries(operation, backoff=NO_JITTER, is_transient=is_transient)
    assert len(calls) == 1


def test_the_last_transient_failure_is_raised_unchanged_when_the_attempts_run_out():
    error = Transient("still down")
    operation, calls = failing(10, error)
    with pytest.raises(Transient) as raised:
        call_with_retries(
            operation, backoff=Backoff(attempts=3, initial_delay=0.0, jitter=0.0), is_transient=is_transient
        )
    assert raised.value is error
    assert len(calls) == 3


def test_the_coroutine_version_retries_and_reports_every_retry():
    operation, calls = failing(2, Transient())
    reported: list[int] = []

    async def call() -> str:
        return operation()

    result = asyncio.run(
        call_with_retries_async(call, backoff=NO_JITTER, is_transient=is_transient, on_retry=lambda: reported.append(1))
    )
    assert (result, len(calls), len(reported)) == ("done", 3, 2)


@pytest.mark.parametrize(
    "settings",
    [{"attempts": 0}, {"initial_delay": -1.0}, {"multiplier": 0.5}, {"jitter": -0.1}, {"give_up_after": -1.0}],
)
def test_a_policy_that_cannot_work_is_refused(settings):
    with pytest.raises(ValueError):
        Backoff(**settings)
