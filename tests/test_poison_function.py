"""Poison through the deployed shape: the real functions-framework server, the Logging fake serving the page.

A notification that cannot be read is acknowledged with one `sitrep_failure` line (Pub/Sub would
otherwise redeliver it for the subscription's whole retention); a poison entry in a Logging page
is skipped with a note, and the incident's card still goes out.
"""

from __future__ import annotations

import json
from typing import Any

from tests.fakes.cloud_logging import RawEntry
from tests.harness import LogCapture, Start
from tests.scenario import staging

DEEP = "[" * 10_000 + "]" * 10_000
HUGE = "7" * 5_000


def poison_entry(insert_id: str, payload_value: str) -> RawEntry:
    """A backend ERROR entry in the incident window whose jsonPayload holds `payload_value` verbatim."""
    backend = [e for e in staging().entries if e["resource"]["labels"].get("service_name") == "backend"]
    newest = max(backend, key=lambda e: str(e.get("timestamp", "")))
    fields = {
        "insertId": insert_id,
        "timestamp": newest["timestamp"],
        "severity": "ERROR",
        "resource": newest["resource"],
        "logName": newest.get("logName", ""),
    }
    envelope = json.dumps({**fields, "jsonPayload": {"message": "poison"}})
    return RawEntry(fields, envelope.replace('{"message": "poison"}', f'{{"message": "poison", "n": {payload_value}}}'))


def test_a_notification_with_a_5000_digit_started_at_is_acknowledged_once(
    deployed: Start, captured_logs: LogCapture
) -> None:
    function = deployed()
    text = json.dumps(function.scenario.notification())
    poison = text.replace('"started_at": ', f'"started_at": {HUGE}, "was": ', 1).encode()
    assert function.send(poison) == 200
    assert function.top_level() == [] and function.tracking_issues() == []
    [failure] = captured_logs.failures()
    assert "longer than 4,300 digits" in failure["error"]


def test_a_notification_nested_10000_deep_is_acknowledged_once(deployed: Start, captured_logs: LogCapture) -> None:
    function = deployed()
    text = json.dumps(function.scenario.notification())
    poison = text.replace('"version": ', f'"deep": {DEEP}, "version": ', 1).encode()
    assert function.send(poison) == 200
    assert function.top_level() == []
    [failure] = captured_logs.failures()
    assert "nested deeper than" in failure["error"]


def test_poison_entries_in_a_logging_page_are_skipped_with_a_note(deployed: Start) -> None:
    entries: list[Any] = [*staging().entries, poison_entry("deep-1", DEEP), poison_entry("huge-1", HUGE)]
    function = deployed(entries=entries)
    assert function.send(function.scenario.notification()) == 200
    [card] = function.top_level()
    assert "auth_service" in json.dumps(card["blocks"])
    [issue] = function.tracking_issues()
    assert "2 log entries skipped: JSON nested deeper than 128 levels" in issue["body"]
    assert "missing Python module 'auth\\_service' in backend" in issue["body"]
