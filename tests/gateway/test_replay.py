"""Replay protection: senders stamp ever higher counters, the gateway takes each counter of a device
once (overtaken ones within a window too), and what it kept survives a restart."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from voxprint.clients.gateway.replay import STATE_FILE, WINDOW, ReplayGuard, ReplayStateError, SendCounter

DEVICE, OTHER_DEVICE = 0xD1CE, 0xBEEF


def test_each_counter_is_higher_than_the_last_while_the_clock_stands_still() -> None:
    counter = SendCounter(clock_ns=lambda: 5_000)
    assert [counter.next() for _ in range(3)] == [5, 6, 7]


def test_counters_catch_up_with_the_clock_so_a_restarted_sender_starts_above_its_last_run() -> None:
    now = [5_000]
    counter = SendCounter(clock_ns=lambda: now[0])
    counter.next()
    now[0] = 90_000
    assert counter.next() == 90


def test_a_counter_is_taken_once() -> None:
    guard = ReplayGuard(None)
    assert guard.take(DEVICE, 100) and not guard.take(DEVICE, 100)


def test_a_counter_overtaken_on_the_way_is_taken_once_within_the_window() -> None:
    guard = ReplayGuard(None)
    guard.take(DEVICE, 100)
    assert guard.take(DEVICE, 100 + WINDOW - 1)
    assert guard.take(DEVICE, 100) is False
    assert guard.take(DEVICE, 101) and not guard.take(DEVICE, 101)


def test_a_counter_older_than_the_window_is_refused() -> None:
    guard = ReplayGuard(None)
    guard.take(DEVICE, 100 + WINDOW)
    assert guard.take(DEVICE, 100) is False


def test_a_jump_far_ahead_is_taken_and_leaves_everything_before_it_refused() -> None:
    guard = ReplayGuard(None)
    guard.take(DEVICE, 1)
    assert guard.take(DEVICE, 2**63)
    assert not guard.take(DEVICE, 2)


def test_each_device_has_a_window_of_its_own() -> None:
    guard = ReplayGuard(None)
    guard.take(DEVICE, 100)
    assert guard.take(OTHER_DEVICE, 100)


def test_a_restarted_gateway_refuses_every_counter_up_to_the_highest_it_kept(tmp_path: Path) -> None:
    guard = ReplayGuard(tmp_path)
    for counter in (100, 102, 101):
        guard.take(DEVICE, counter)
    guard.keep()
    guard.take(DEVICE, 103)  # taken after the last keep: a restart forgets it
    restarted = ReplayGuard(tmp_path)
    assert not any(restarted.take(DEVICE, counter) for counter in (100, 101, 102, 102 - WINDOW))
    assert restarted.take(DEVICE, 103) and restarted.take(OTHER_DEVICE, 1)


def test_the_kept_counters_are_readable_by_the_gateways_user_only(tmp_path: Path) -> None:
    guard = ReplayGuard(tmp_path / "state")
    guard.take(DEVICE, 1)
    guard.keep()
    assert stat.S_IMODE((tmp_path / "state" / STATE_FILE).stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "state").stat().st_mode) == 0o700


def test_a_damaged_counters_file_is_refused_naming_its_line(tmp_path: Path) -> None:
    (tmp_path / STATE_FILE).write_text("000000000000d1ce 100\nnot a counter\n")
    with pytest.raises(ReplayStateError, match="line 2"):
        ReplayGuard(tmp_path)
