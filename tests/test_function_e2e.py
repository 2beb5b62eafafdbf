"""The deployed shape, end to end: real CloudEvents into the real functions-framework server, evidence from
the Logging (REST) and Monitoring (gRPC) fakes, cards delivered to the Slack and GitHub fakes.

One alert gives exactly one Slack top-level message and one tracking issue, whatever Pub/Sub does.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from tests.fakes import slack as sl
from tests.harness import Function, Start
from tests.scenario import binary_cloudevent, pubsub_data, staging

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def function(deployed: Start) -> Function:
    """The function with the staging outage behind it (tests/harness.py)."""
    return deployed()


def test_first_alert_posts_one_card_and_opens_one_issue(function: Function) -> None:
    assert function.send(function.scenario.notification()) == 200
    [card] = function.top_level()
    assert "auth_service" in json.dumps(card["blocks"])
    [issue] = function.tracking_issues()
    assert issue["state"] == "open"
    assert "missing Python module 'auth\\_service' in backend" in issue["body"]
    assert "database connection timeout" in issue["body"]
    assert {"incident", "severity:critical", "env:staging"} <= {lb["name"] for lb in issue["labels"]}


def test_evidence_reads_are_bounded(function: Function) -> None:
    assert function.send(function.scenario.notification()) == 200
    assert 1 <= len(function.logging.requests_to("entries.list")) <= 5
    assert 1 <= len(function.monitoring.requests_to("ListTimeSeries")) <= 3
    filters = function.logging.filters
    assert all('timestamp>="' in f and "timestamp<=" in f for f in filters)


def test_the_same_event_redelivered_ten_times_changes_nothing(function: Function) -> None:
    payload = function.scenario.notification()
    assert function.send(payload, message_id="m-1") == 200
    with ThreadPoolExecutor(max_workers=5) as pool:
        codes = list(pool.map(lambda _: function.send(payload, message_id="m-1"), range(9)))
    assert codes == [200] * 9
    assert len(function.top_level()) == 1
    assert len(function.tracking_issues()) == 1
    assert function.slack.requests_to("chat.update") == []
    assert function.github.requests_to("issues/create-comment") == []


def test_a_second_alert_joins_the_incident(function: Function) -> None:
    function.send(function.scenario.notification())
    assert function.send(function.scenario.notification(incident_id="0.second", policy="auth 5xx ratio")) == 200
    [card] = function.top_level()
    replies = function.slack.thread(sl.CHANNEL, card["ts"])
    assert any("• *Alert joined:* auth 5xx ratio" in r["text"] for r in replies)
    [issue] = function.tracking_issues()
    comments = function.github.comments(issue["number"])
    assert any("- **Alert joined:** auth 5xx ratio" in c["body"] for c in comments)


def test_when_every_alert_closes_both_surfaces_show_resolved(function: Function) -> None:
    scenario = function.scenario
    function.send(scenario.notification())
    function.send(scenario.notification(incident_id="0.second"))
    function.send(scenario.notification(state="closed", ended_minutes=15))
    [issue] = function.tracking_issues()
    assert issue["state"] == "open"  # one alert still open
    assert function.send(scenario.notification(incident_id="0.second", state="closed", ended_minutes=18)) == 200
    [card] = function.top_level()
    assert "RESOLVED" in json.dumps(function.slack.message(sl.CHANNEL, card["ts"])["blocks"])
    [issue] = function.tracking_issues()
    assert issue["state"] == "closed"
    assert "Resolved" in function.github.comments(issue["number"])[-1]["body"]


def test_a_regression_reopens_the_issue_and_posts_a_new_card(function: Function) -> None:
    scenario = function.scenario
    function.send(scenario.notification())
    function.send(scenario.notification(state="closed", ended_minutes=10))
    assert function.send(scenario.notification(incident_id="0.again")) == 200
    assert len(function.top_level()) == 2
    [issue] = function.tracking_issues()
    assert issue["state"] == "open"
    assert any("Regressed" in c["body"] for c in function.github.comments(issue["number"]))


def test_slack_429_is_retried_within_the_invocation(function: Function) -> None:
    function.slack.rate_limit_next("chat.postMessage", retry_after_seconds=1)
    assert function.send(function.scenario.notification()) == 200
    assert len(function.top_level()) == 1


def test_github_502_is_redelivered_and_only_github_is_retried(function: Function) -> None:
    function.github.fail_next("issues/create", status=502)
    payload = function.scenario.notification()
    assert function.send(payload, message_id="m-1") == 500  # Pub/Sub will redeliver
    assert len(function.top_level()) == 1
    assert function.tracking_issues() == []
    assert function.send(payload, message_id="m-1") == 200  # the redelivery
    assert len(function.tracking_issues()) == 1
    assert len(function.top_level()) == 1
    assert function.slack.requests_to("chat.postMessage") and not function.slack.requests_to("chat.update")


def test_a_permanent_slack_error_is_acknowledged_and_github_still_gets_the_issue(function: Function) -> None:
    function.slack.fail_next("chat.postMessage", ok_false_error="channel_not_found")
    assert function.send(function.scenario.notification()) == 200
    assert function.top_level() == []
    assert len(function.tracking_issues()) == 1


def test_monitoring_down_still_delivers_with_a_note(function: Function) -> None:
    import grpc

    function.monitoring.fail_next("ListTimeSeries", code=grpc.StatusCode.UNAVAILABLE, times=5)
    assert function.send(function.scenario.notification()) == 200
    [issue] = function.tracking_issues()
    assert "Cloud Monitoring unavailable" in issue["body"]


def test_structured_cloudevents_are_accepted_too(function: Function) -> None:
    assert function.send(function.scenario.notification(), structured=True) == 200
    assert len(function.top_level()) == 1


@pytest.mark.parametrize(
    "payload",
    [
        b"\xff\xfe not json",
        b"[1, 2, 3]",
        json.dumps({"version": "1.2"}).encode(),
        json.dumps({"version": "1.2", "incident": {"state": "open"}}).encode(),
        json.dumps({"version": "1.2", "incident": {"incident_id": "x" * 10, "summary": "y" * 2_000_000}}).encode(),
    ],
    ids=["not-utf8-json", "not-an-object", "no-incident", "no-incident-id", "2MB"],
)
def test_malformed_events_are_acknowledged_and_deliver_nothing(function: Function, payload: bytes) -> None:
    assert function.send(payload) == 200
    assert function.top_level() == [] and function.tracking_issues() == []


def test_data_that_is_not_base64_is_acknowledged(function: Function) -> None:
    data = pubsub_data(b"{}")
    data["message"]["data"] = "%%% not base64 %%%"
    headers, body = binary_cloudevent(data)
    assert function.post(headers, body) == 200
    assert function.top_level() == []


def test_the_consoles_test_notification_is_acknowledged(function: Function) -> None:
    test_payload = json.loads((ROOT / "tests/fixtures/alerts").glob("*test*").__next__().read_text())
    assert function.send(test_payload) == 200
    assert function.tracking_issues() == []


def test_stale_events_are_dropped(function: Function, monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import timedelta

    data = pubsub_data(function.scenario.notification(),
                       publish_time=datetime.now(timezone.utc) - timedelta(hours=3))
    headers, body = binary_cloudevent(data)
    assert function.post(headers, body) == 200
    assert function.top_level() == [] and function.tracking_issues() == []


def test_exact_counts_from_log_based_metrics_reach_the_card(function: Function) -> None:
    from tests.fakes.cloud_monitoring import log_metric_series

    now = datetime.now(timezone.utc)
    function.monitoring.add_series(log_metric_series("container-exit-nonzero", [(now, 480), (now, 20)],
                                                     service="backend"))
    assert function.send(function.scenario.notification()) == 200
    [issue] = function.tracking_issues()
    assert "container exited with code 3 (×500)" in issue["body"]  # not the 34 lines of the log sample
    [call] = [c for c in function.monitoring.requests_to("ListTimeSeries") if "starts_with" in c.request.filter]
    assert "logging.googleapis.com/user/sitrep/" in call.request.filter


def test_plain_text_failures_logged_without_severity_are_read(deployed: Start) -> None:
    """Cloud Run gives plain stdout lines severity DEFAULT; a Spring error there is still evidence."""
    from datetime import timedelta

    from tests.fakes.cloud_logging import log_entry

    now = datetime.now(timezone.utc)
    stamp = (now - timedelta(minutes=3)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    spring = log_entry(
        "2025-09-16 01:20:00.000 ERROR 1 --- [nio-8080-exec-3] o.h.engine.jdbc.spi.SqlExceptionHelper : "
        "HikariPool-1 - Connection is not available, request timed out after 30000ms.",
        service="orders", severity="DEFAULT", timestamp=stamp, log="run.googleapis.com%2Fstdout",
    )
    chatter = log_entry("GET /healthz ok", service="orders", severity="DEFAULT", timestamp=stamp,
                        log="run.googleapis.com%2Fstdout")
    function = deployed(entries=[*staging().entries, spring, chatter])
    assert function.send(function.scenario.notification()) == 200
    [issue] = function.tracking_issues()
    orders = [line for line in issue["body"].splitlines() if "orders" in line]
    assert any("pool" in line.lower() for line in orders), orders
    assert "healthz ok" not in issue["body"]


def test_an_http_monitoring_endpoint_is_logged_and_skipped(deployed: Start, captured_logs: Any) -> None:
    function = deployed(env={"MONITORING_API_ENDPOINT": "http://127.0.0.1:9"})
    assert function.send(function.scenario.notification()) == 200
    [issue] = function.tracking_issues()
    assert "speaks gRPC only" in issue["body"]
    assert any(e.get("message") == "metrics unavailable: card delivered without them" for e in captured_logs.events())
    assert function.monitoring.requests_to("ListTimeSeries") == []
