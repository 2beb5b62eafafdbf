"""Lifecycle: alerts group into incidents; duplicates and out-of-order notifications change nothing."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from functions.core.model import Alert, AlertState, ConditionKind, IncidentStatus, Severity
from functions.incidents.lifecycle import (
    LedgerEntry,
    SurfaceState,
    Transition,
    apply_alert,
    entry_from_json,
    entry_to_json,
    resolve_manually,
)
from functions.incidents.service import EntryChange, IncidentService, Services
from tests.builders import at

KEY = "proj/staging"
WINDOW = timedelta(hours=24)


def alert(incident_id: str = "0.a", state: AlertState = AlertState.OPEN, minute: float = 0) -> Alert:
    return Alert(
        incident_id=incident_id,
        state=state,
        policy_name=f"policy {incident_id}",
        condition_name="c",
        condition_kind=ConditionKind.THRESHOLD,
        project_id="proj",
        started_at=at(minute),
        ended_at=at(minute + 10) if state is AlertState.CLOSED else None,
        severity=Severity.ERROR,
        environment="staging",
    )


def fold(*alerts: Alert, entry: LedgerEntry | None = None, now_minute: float = 60) -> list[Transition]:
    transitions = []
    for a in alerts:
        transition, entry = apply_alert(entry, a, KEY, at(now_minute), WINDOW)
        transitions.append(transition)
    return transitions


def test_first_alert_opens_an_incident() -> None:
    transition, entry = apply_alert(None, alert(), KEY, at(1), WINDOW)
    assert transition is Transition.OPENED
    assert entry is not None and entry.status is IncidentStatus.ACTIVE and entry.generation == 1


@pytest.mark.parametrize(
    ("sequence", "expected"),
    [
        ([alert(), alert()], [Transition.OPENED, Transition.DUPLICATE]),
        ([alert(), alert("0.b")], [Transition.OPENED, Transition.JOINED]),
        (
            [alert(), alert("0.b"), alert(state=AlertState.CLOSED), alert("0.b", AlertState.CLOSED)],
            [Transition.OPENED, Transition.JOINED, Transition.ALERT_CLOSED, Transition.RESOLVED],
        ),
        # a redelivered OPEN after its CLOSED is out of order: ignored
        ([alert(), alert(state=AlertState.CLOSED), alert()], [Transition.OPENED, Transition.RESOLVED,
                                                              Transition.STALE]),
        ([alert(state=AlertState.CLOSED)], [Transition.STALE]),
        ([alert(), alert(state=AlertState.CLOSED), alert(state=AlertState.CLOSED)],
         [Transition.OPENED, Transition.RESOLVED, Transition.DUPLICATE]),
        # the CLOSED of a second alert overtakes its OPEN: the late OPEN must not reopen it
        ([alert(), alert("0.b", AlertState.CLOSED), alert("0.b")],
         [Transition.OPENED, Transition.UPDATED, Transition.STALE]),
        ([alert(), alert(state=AlertState.CLOSED), alert("0.c")],
         [Transition.OPENED, Transition.RESOLVED, Transition.REGRESSED]),
    ],
)
def test_transitions(sequence: list[Alert], expected: list[Transition]) -> None:
    assert fold(*sequence) == expected


def test_a_new_alert_long_after_resolution_opens_a_new_generation() -> None:
    _, entry = apply_alert(None, alert(), KEY, at(1), WINDOW)
    _, entry = apply_alert(entry, alert(state=AlertState.CLOSED), KEY, at(20), WINDOW)
    assert entry is not None
    entry = replace(entry, github=SurfaceState(ref="7", digest="x", generation=1))
    later = at(20) + WINDOW + timedelta(minutes=1)
    transition, fresh = apply_alert(entry, alert("0.z"), KEY, later, WINDOW)
    assert transition is Transition.OPENED
    assert fresh is not None and fresh.generation == 2
    assert fresh.github.ref == "" and fresh.slack.ref == ""  # long after: a new incident on both surfaces


def test_regression_gets_a_new_slack_card_and_keeps_the_issue() -> None:
    _, entry = apply_alert(None, alert(), KEY, at(1), WINDOW)
    _, entry = apply_alert(entry, alert(state=AlertState.CLOSED), KEY, at(20), WINDOW)
    assert entry is not None
    entry = replace(entry, github=SurfaceState("7", "x", 1), slack=SurfaceState("C:1", "x", 1))
    transition, back = apply_alert(entry, alert("0.z"), KEY, at(40), WINDOW)
    assert transition is Transition.REGRESSED
    assert back is not None and back.regressed and back.generation == 2
    assert back.github.ref == "7" and back.slack.ref == ""
    assert [m.incident_id for m in back.members] == ["0.z"]


def test_manual_resolve_makes_the_later_closed_a_no_op() -> None:
    _, entry = apply_alert(None, alert(), KEY, at(1), WINDOW)
    assert entry is not None
    entry = resolve_manually(entry, "ada", at(5))
    assert entry.status is IncidentStatus.RESOLVED and entry.resolved_by == "ada"
    assert apply_alert(entry, alert(state=AlertState.CLOSED), KEY, at(6), WINDOW)[0] is Transition.DUPLICATE


def test_entries_survive_a_json_round_trip() -> None:
    _, entry = apply_alert(None, alert(), KEY, at(1), WINDOW)
    _, entry = apply_alert(entry, alert("0.b"), KEY, at(2), WINDOW)
    assert entry is not None
    entry = replace(entry, slack=SurfaceState("C1:1.2", "abc", 1), acknowledged_by="ada", acknowledged_at=at(3))
    assert entry_from_json(entry_to_json(entry)) == entry


@pytest.mark.parametrize("raw", [{}, {"key": "k"}, {"key": "k", "status": "nope"}, {"key": "k", "status": "ACTIVE",
                                                                                    "members": [{"id": 1}]}])
def test_foreign_or_broken_entries_are_ignored(raw: dict) -> None:
    assert entry_from_json(raw) is None


def _service(folder: Path) -> IncidentService:
    from functions.adapters.file_ledger import FileLedger
    from functions.entry.settings import Settings
    from functions.entry.wiring import build_service

    return build_service(Settings(), Services(ledger=FileLedger(folder / "ledger.json")))


def test_a_warning_only_incident_stays_warning_after_an_ack(tmp_path: Path) -> None:
    service = _service(tmp_path)
    opened = service.handle(replace(alert(), severity=Severity.WARNING), at(1), records=[])
    assert opened.card is not None and opened.card.severity is Severity.WARNING
    acked = service.apply(KEY, lambda e: EntryChange(replace(e, acknowledged_by="alice")) if e else None, at(2))
    assert acked is not None and acked.card is not None
    assert acked.card.severity is Severity.WARNING


def test_a_joining_warning_alert_leaves_an_error_incident_at_error(tmp_path: Path) -> None:
    service = _service(tmp_path)
    service.handle(alert(), at(1), records=[])
    joined = service.handle(replace(alert("0.b"), severity=Severity.WARNING), at(2), records=[])
    assert joined.transition is Transition.JOINED
    assert joined.card is not None and joined.card.severity is Severity.ERROR


def test_member_severity_and_kind_survive_the_ledger() -> None:
    _, entry = apply_alert(None, replace(alert(), severity=Severity.WARNING, condition_kind=ConditionKind.LOG_MATCH,
                                         condition_filter='textPayload:"x"'), KEY, at(1), WINDOW)
    assert entry is not None
    [member] = entry_from_json(entry_to_json(entry)).members  # type: ignore[union-attr]
    assert (member.severity, member.condition_kind, member.log_filter) == (
        Severity.WARNING, ConditionKind.LOG_MATCH, 'textPayload:"x"')
