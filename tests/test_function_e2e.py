"""The deployed shape, end to end: real CloudEvents into the real functions-framework server, evidence from
the Logging (REST) and Monitoring (gRPC) fakes, cards delivered to the Slack and GitHub fakes.

One alert gives exactly one Slack top-level message and one tracking issue, whatever Pub/Sub does.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from functions_framework import create_app
from werkzeug.serving import make_server

from functions.runtime import reset_runtime
from tests.fakes import github as gh
from tests.fakes import slack as sl
from tests.fakes.cloud_logging import LoggingFake
from tests.fakes.cloud_monitoring import MonitoringFake
from tests.fakes.github import GitHubFake
from tests.fakes.slack import SlackFake
from tests.scenario import Scenario, binary_cloudevent, pubsub_data, staging, structured_cloudevent

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Function:
    url: str
    scenario: Scenario
    slack: SlackFake
    github: GitHubFake
    logging: LoggingFake
    monitoring: MonitoringFake

    def post(self, headers: dict[str, str], body: bytes) -> int:
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)

    def send(self, payload: Any, *, message_id: str | None = None, structured: bool = False) -> int:
        data = pubsub_data(payload, message_id=message_id)
        headers, body = structured_cloudevent(data) if structured else binary_cloudevent(data)
        return self.post(headers, body)

    def top_level(self) -> list[dict[str, Any]]:
        return [m for m in self.slack.messages(sl.CHANNEL) if not m.get("thread_ts") or m.get("thread_ts") == m["ts"]]

    def tracking_issues(self) -> list[dict[str, Any]]:
        return [i for i in self.github.issues() if any(lb["name"] == "sitrep" for lb in i["labels"])]


@pytest.fixture
def slack_now() -> Iterator[SlackFake]:
    """Slack with message timestamps at the real time (lookups by time window must find them)."""
    with SlackFake(first_ts_seconds=int(time.time())) as fake:
        yield fake


@pytest.fixture
def github_now() -> Iterator[GitHubFake]:
    """GitHub whose issue timestamps (closed_at, updated_at) are the real time."""
    with GitHubFake(clock=lambda: datetime.now(timezone.utc)) as fake:
        yield fake


@pytest.fixture
def function(
    monkeypatch: pytest.MonkeyPatch,
    slack_now: SlackFake,
    github_now: GitHubFake,
    logging_server: LoggingFake,
    monitoring_server: MonitoringFake,
    tmp_path: Path,
) -> Iterator[Function]:
    slack_server, github_server = slack_now, github_now
    scenario = staging()
    logging_server.add_entries(scenario.entries)
    monitoring_server.add_series(*scenario.series)
    env = {
        "SLACK_BOT_TOKEN": sl.BOT_TOKEN,
        "SLACK_CHANNEL": sl.CHANNEL,
        "SLACK_API_URL": slack_server.base_url,
        "GITHUB_TOKEN": gh.TOKEN,
        "GITHUB_REPOSITORY": gh.REPOSITORY,
        "GITHUB_API_URL": github_server.url,
        "LOGGING_API_ENDPOINT": logging_server.url,
        "MONITORING_API_ENDPOINT": monitoring_server.address,
        "SITREP_GITHUB_WRITE_INTERVAL_SECONDS": "0",
        "SITREP_LEDGER": str(tmp_path / "ledger.json"),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    reset_runtime()
    app = create_app(target="handle_alert", source=str(ROOT / "main.py"), signature_type="cloudevent")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Function(f"http://127.0.0.1:{server.server_port}/", scenario, slack_server, github_server,
                       logging_server, monitoring_server)
    finally:
        server.shutdown()
        reset_runtime()


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
    assert any("Alert joined: auth 5xx ratio" in r["text"] for r in replies)
    [issue] = function.tracking_issues()
    comments = function.github.comments(issue["number"])
    assert any("Alert joined: auth 5xx ratio" in c["body"] for c in comments)


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
