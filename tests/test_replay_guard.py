"""The memory of accepted Slack signatures: a signature is acted on once while it can still verify."""

from __future__ import annotations

import threading

import pytest

from functions.slack_app.replay_guard import ReplayGuard, Verdict

WINDOW_S = 300.0
T0 = 1_700_000_000.0


def test_a_signature_is_first_once_and_a_replay_after_that() -> None:
    guard = ReplayGuard(WINDOW_S)
    assert guard.admit("v0=abc", T0, T0) is Verdict.FIRST
    assert [guard.admit("v0=abc", T0, T0 + s) for s in (1, 60, 299)] == [Verdict.REPLAY] * 3
    assert guard.admit("v0=def", T0, T0) is Verdict.FIRST


def test_a_signature_is_remembered_until_its_timestamp_leaves_the_window() -> None:
    guard = ReplayGuard(WINDOW_S)
    guard.admit("v0=abc", T0, T0 + 10)
    assert guard.admit("v0=abc", T0, T0 + WINDOW_S) is Verdict.REPLAY
    assert len(guard) == 1
    # Past the window the signature check refuses the request by age; the memory can let it go.
    guard.admit("v0=other", T0 + WINDOW_S + 1, T0 + WINDOW_S + 1)
    assert len(guard) == 1


def test_a_timestamp_from_a_clock_running_ahead_is_remembered_as_long_as_it_verifies() -> None:
    guard = ReplayGuard(WINDOW_S)
    guard.admit("v0=abc", T0 + 200, T0)  # slack_sdk accepts timestamps up to 5 minutes in the future
    assert guard.admit("v0=abc", T0 + 200, T0 + 450) is Verdict.REPLAY


def test_case_and_surrounding_blanks_do_not_make_a_replay_new() -> None:
    guard = ReplayGuard(WINDOW_S)
    guard.admit("v0=abc", T0, T0)
    assert guard.admit(" V0=ABC ", T0, T0) is Verdict.REPLAY


def test_a_full_memory_refuses_new_requests_rather_than_forgetting_a_live_one() -> None:
    guard = ReplayGuard(WINDOW_S, capacity=2)
    guard.admit("v0=a", T0, T0)
    guard.admit("v0=b", T0, T0)
    assert guard.admit("v0=c", T0, T0 + 1) is Verdict.FULL
    assert guard.admit("v0=a", T0, T0 + 1) is Verdict.REPLAY
    assert guard.admit("v0=c", T0 + 400, T0 + 400) is Verdict.FIRST  # a and b expired meanwhile


def test_concurrent_replays_admit_exactly_one() -> None:
    guard = ReplayGuard(WINDOW_S)
    verdicts: list[Verdict] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def send() -> None:
        start.wait()
        verdict = guard.admit("v0=same", T0, T0)
        with lock:
            verdicts.append(verdict)

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(v.value for v in verdicts) == ["first"] + ["replay"] * 7


@pytest.mark.parametrize(("window", "capacity"), [(0, 1), (300, 0)])
def test_a_guard_needs_a_window_and_room(window: float, capacity: int) -> None:
    with pytest.raises(ValueError):
        ReplayGuard(window, capacity)
