"""The tick end to end: `{"sitrep_tick": {}}` into the real function under functions-framework, the Alerts API,
Logging, Monitoring, Slack and GitHub fakes behind it.

A tick keeps incidents true between notifications: a lost CLOSED is reconciled from the Alerts API, a
log-match incident resolves after its quiet period, and a tick with nothing changed writes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from functions.incidents.tick import is_tick_message
from tests.fakes import slack as sl
from tests.fakes.alerts_api import AlertsApiFake, api_alert
from tests.fakes.cloud_logging import log_entry
from tests.harness import Function, Start

TICK: dict[str, Any] = {"sitrep_tick": {}}
LOG_FILTER = 'resource.type="cloud_run_revision" AND severity>=ERROR AND textPayload:"payment declined"'
OWNERS = json.dumps({"backend": {"slack": ["S0OWNERS01", "U0ALICE001"], "github": ["alice", "acme/sre"]}})


@pytest.fixture
def alerts_api() -> Iterator[AlertsApiFake]:
    with AlertsApiFake() as fake:
        yield fake


@pytest.fixture
def function(deployed: Start, alerts_api: AlertsApiFake) -> Function:
    return deployed(env={"SITREP_ALERTS_API_URL": alerts_api.url})


def writes(function: Function) -> tuple[int, int]:
    """Every write to Slack (chat.*) and to GitHub (anything but GET)."""
    slack = [r for r in function.slack.requests if r.endpoint.startswith("chat.")]
    github = [r for r in function.github.requests if r.method != "GET"]
    return len(slack), len(github)


def opened_in_api(function: Function, alerts_api: AlertsApiFake, **kwargs: Any) -> None:
    """Monitoring's own record of the scenario's alert, as the Alerts API returns it."""
    incident = function.scenario.alert["incident"]
    alerts_api.put(api_alert(incident["incident_id"], opened=function.scenario.started_at,
                             policy=incident["policy_name"], service="backend",
                             labels=incident.get("policy_user_labels") or {}, **kwargs))


def test_a_tick_with_nothing_changed_writes_nothing(function: Function, alerts_api: AlertsApiFake) -> None:
    opened_in_api(function, alerts_api)
    assert function.send(function.scenario.notification()) == 200
    before = writes(function)
    assert function.send(TICK) == 200
    assert function.send(TICK) == 200
    assert writes(function) == before
    assert len(alerts_api.requests_to("alerts.list")) == 2  # it did look: once per tick


def test_a_lost_closed_notification_is_reconciled_on_the_tick(function: Function, alerts_api: AlertsApiFake) -> None:
    opened_in_api(function, alerts_api)
    assert function.send(function.scenario.notification()) == 200
    closed_at = function.scenario.started_at + timedelta(minutes=12)
    alerts_api.close(function.scenario.alert["incident"]["incident_id"], closed_at)
    assert function.send(TICK) == 200  # the CLOSED notification never came
    [card] = function.top_level()
    assert "RESOLVED" in json.dumps(function.slack.message(sl.CHANNEL, card["ts"])["blocks"])
    [issue] = function.tracking_issues()
    assert issue["state"] == "closed"
    comments = [c["body"] for c in function.github.comments(issue["number"])]
    assert any("- **Alert closed:**" in c and "its notification did not arrive" in c for c in comments)
    assert comments[-1].startswith("## 📝 Postmortem draft")
    assert f"| {closed_at:%H:%M} UTC | Resolved | every alert of the incident closed |" in comments[-1]
    before = writes(function)
    assert function.send(TICK) == 200  # resolved: no longer visited
    assert writes(function) == before


def test_a_lost_open_notification_joins_the_incident(function: Function, alerts_api: AlertsApiFake) -> None:
    opened_in_api(function, alerts_api)
    assert function.send(function.scenario.notification()) == 200
    alerts_api.put(api_alert("0.lost", opened=datetime.now(timezone.utc) - timedelta(minutes=3),
                             policy="frontend 5xx ratio", service="frontend",
                             labels=function.scenario.alert["incident"].get("policy_user_labels") or {}))
    assert function.send(TICK) == 200
    [issue] = function.tracking_issues()
    comments = [c["body"] for c in function.github.comments(issue["number"])]
    assert any("- **Alert joined:** frontend 5xx ratio (from Cloud Monitoring" in c for c in comments)


def _log_match(function: Function, *, started_minutes_ago: float) -> dict[str, Any]:
    payload = function.scenario.notification()
    incident = payload["incident"]
    incident["condition"] = {"conditionMatchedLog": {"filter": LOG_FILTER}, "displayName": "payment declined",
                             "name": incident["condition"]["name"]}
    incident["summary"] = "Log match condition fired"
    incident["started_at"] = int((datetime.now(timezone.utc) - timedelta(minutes=started_minutes_ago)).timestamp())
    return payload


def _declined(minutes_ago: float) -> dict[str, Any]:
    stamp = (datetime.now(timezone.utc) - timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return log_entry("payment declined: card issuer unavailable", service="backend", severity="ERROR",
                     timestamp=stamp)


def test_a_log_match_incident_resolves_on_a_tick_after_the_quiet_period(
    deployed: Start, alerts_api: AlertsApiFake
) -> None:
    function = deployed(entries=[_declined(50)],
                        env={"SITREP_QUIET_MINUTES": "30", "SITREP_ALERTS_API_URL": alerts_api.url})
    assert function.send(_log_match(function, started_minutes_ago=55)) == 200
    assert function.send(TICK) == 200
    [card] = function.top_level()
    blocks = json.dumps(function.slack.message(sl.CHANNEL, card["ts"])["blocks"], ensure_ascii=False)
    assert "RESOLVED" in blocks and "no matching log entries for 30 min" in blocks
    [issue] = function.tracking_issues()
    assert issue["state"] == "closed"
    assert "quiet: no matching log entries for 30 min" in function.github.comments(issue["number"])[-1]["body"]
    [quiet_check] = [f for f in function.logging.filters if "payment declined" in f]
    assert f"({LOG_FILTER})" in quiet_check and "timestamp>=" in quiet_check  # the policy's own filter


def test_a_log_match_incident_with_recent_entries_stays_active(deployed: Start, alerts_api: AlertsApiFake) -> None:
    function = deployed(entries=[_declined(50), _declined(4)],
                        env={"SITREP_QUIET_MINUTES": "30", "SITREP_ALERTS_API_URL": alerts_api.url})
    assert function.send(_log_match(function, started_minutes_ago=55)) == 200
    before = writes(function)
    assert function.send(TICK) == 200
    assert writes(function) == before
    [issue] = function.tracking_issues()
    assert issue["state"] == "open"


def test_an_owner_is_mentioned_exactly_once_per_incident(deployed: Start, alerts_api: AlertsApiFake) -> None:
    function = deployed(env={"SITREP_OWNERS": OWNERS, "SITREP_ALERTS_API_URL": alerts_api.url})
    opened_in_api(function, alerts_api)
    assert function.send(function.scenario.notification()) == 200
    assert function.send(function.scenario.notification(incident_id="0.second", policy="auth 5xx ratio")) == 200
    assert function.send(TICK) == 200
    [card] = function.top_level()
    texts = [m["text"] for m in function.slack.thread(sl.CHANNEL, card["ts"])]
    assert sum("<!subteam^S0OWNERS01>" in t for t in texts) == 1
    assert sum("<@U0ALICE001>" in t for t in texts) == 1
    [issue] = function.tracking_issues()
    comments = [c["body"] for c in function.github.comments(issue["number"])]
    assert sum("@acme/sre" in c for c in comments) == 1
    assert [a["login"] for a in issue["assignees"]] == ["alice"]


def test_only_the_tick_message_is_a_tick() -> None:
    assert is_tick_message(b'{"sitrep_tick": {}}')
    assert not is_tick_message(b'{"sitrep_tick": 1}')
    assert not is_tick_message(b'{"incident": {"incident_id": "sitrep_tick"}}')
