"""Slack actions end to end: signed button clicks and `/sitrep status` into the real functions-framework
server over a real socket, the card and the tracking issue in the Slack and GitHub fakes, snoozes in the
Monitoring fake, and the hand-off of slow work over a real Pub/Sub client to the alert function.

Requests are signed as Slack signs them: X-Slack-Signature = "v0=" + HMAC-SHA256(signing secret,
"v0:{timestamp}:{raw body}"), X-Slack-Request-Timestamp = the timestamp.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from functions_framework import create_app
from werkzeug.serving import make_server

from functions.entry.runtime import reset_runtime
from functions.entry.slack_endpoint import SLACK_ANSWER_DEADLINE_S
from functions.render.slack import ACTION_ACK, ACTION_REFRESH, ACTION_RESOLVE, ACTION_SILENCE_1H
from functions.slack_app.actions import (
    USAGE,
    ActionError,
    ActionKind,
    ActionRequest,
    Reply,
    action_from_command,
    action_from_interaction,
    action_from_message,
    action_message,
)
from tests.fakes import github as gh
from tests.fakes import slack as sl
from tests.fakes.cloud_logging import LoggingFake
from tests.fakes.cloud_monitoring import MonitoringFake, request_count_series
from tests.fakes.github import GitHubFake
from tests.fakes.pubsub import TOPIC, PubSubFake, as_push_body
from tests.fakes.slack import SlackFake
from tests.harness import LOOPBACK
from tests.scenario import PROJECT, Scenario, binary_cloudevent, pubsub_data, staging

ROOT = Path(__file__).resolve().parent.parent
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"  # Slack's documented example secret shape, not a real one
KEY = f"{PROJECT}/staging"
POLICY = f"projects/{PROJECT}/alertPolicies/14302765510935246813"
ALICE = {"id": "U0ALICE001", "username": "alice", "name": "alice", "team_id": sl.TEAM_ID}
BOB = {"id": "U0BOB00001", "username": "bob", "name": "bob", "team_id": sl.TEAM_ID}


def sign(body: bytes, timestamp: int, secret: str = SIGNING_SECRET) -> str:
    base = b"v0:" + str(timestamp).encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass
class Answer:
    status: int
    body: bytes
    elapsed_s: float

    def json(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.body)
        return data


@dataclass
class Sitrep:
    """Both deployed functions on loopback, wired to the fakes."""

    alert_url: str
    slack_url: str
    scenario: Scenario
    slack: SlackFake
    github: GitHubFake
    monitoring: MonitoringFake
    pubsub: PubSubFake
    forwarded: int = 0
    response_urls: list[str] = field(default_factory=list)

    # --- the alert function -------------------------------------------------------------------
    def post_event(self, data: dict[str, Any]) -> int:
        headers, body = binary_cloudevent(data)
        request = urllib.request.Request(self.alert_url, data=body, headers=headers, method="POST")
        try:
            with LOOPBACK.open(request, timeout=60) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)

    def alert(self, **changes: Any) -> int:
        return self.post_event(pubsub_data(self.scenario.notification(**changes)))

    def forward_published(self) -> list[int]:
        """Deliver what the Slack function published to the alert function, as Eventarc would."""
        messages = self.pubsub.published(TOPIC)[self.forwarded :]
        self.forwarded += len(messages)
        return [self.post_event(as_push_body(m)) for m in messages]

    # --- the Slack function -------------------------------------------------------------------
    def post(self, body: bytes, headers: dict[str, str]) -> Answer:
        headers = {"Content-Type": "application/x-www-form-urlencoded", **headers}
        request = urllib.request.Request(self.slack_url, data=body, headers=headers, method="POST")
        started = time.perf_counter()
        try:
            with LOOPBACK.open(request, timeout=60) as response:
                return Answer(int(response.status), response.read(), time.perf_counter() - started)
        except urllib.error.HTTPError as exc:
            return Answer(int(exc.code), exc.read(), time.perf_counter() - started)

    def signed(self, form: dict[str, str], *, age_s: int = 0, secret: str = SIGNING_SECRET) -> Answer:
        body = urlencode(form).encode()
        timestamp = int(time.time()) - age_s
        return self.post(body, {"X-Slack-Request-Timestamp": str(timestamp),
                                "X-Slack-Signature": sign(body, timestamp, secret)})

    def click_form(self, action_id: str, *, key: str = KEY, user: dict[str, str] = ALICE,
                   card_ts: str | None = None) -> dict[str, str]:
        """The form Slack posts when `user` presses the card's button `action_id` (taken from the real card)."""
        card = self.card() if card_ts is None else self.slack.message(sl.CHANNEL, card_ts)
        buttons = next(b for b in card["blocks"] if b["type"] == "actions")["elements"]
        button = next((b for b in buttons if b["action_id"] == action_id), None)
        button = dict(button) if button else {"type": "button", "action_id": action_id,
                                              "text": {"type": "plain_text", "text": "?"}}
        button["value"] = key
        response_url = self.slack.new_response_url(sl.CHANNEL, card["ts"])
        self.response_urls.append(response_url)
        payload = {
            "type": "block_actions",
            "user": user,
            "api_app_id": sl.APP_ID,
            "token": "verification-token-unused",
            "container": {"type": "message", "message_ts": card["ts"], "channel_id": sl.CHANNEL,
                          "is_ephemeral": False},
            "trigger_id": "1234.5678.abcd",
            "team": {"id": sl.TEAM_ID, "domain": "fake"},
            "channel": {"id": sl.CHANNEL, "name": "incidents"},
            "message": card,
            "response_url": response_url,
            "actions": [{**button, "block_id": "sitrep_buttons", "action_ts": f"{time.time():.6f}"}],
        }
        return {"payload": json.dumps(payload)}

    def click(self, action_id: str, **kwargs: Any) -> Answer:
        return self.signed(self.click_form(action_id, **kwargs))

    def command(self, text: str) -> tuple[Answer, str]:
        response_url = self.slack.new_response_url()
        form = {
            "token": "verification-token-unused", "team_id": sl.TEAM_ID, "team_domain": "fake",
            "channel_id": sl.CHANNEL, "channel_name": "incidents", "user_id": ALICE["id"], "user_name": "alice",
            "command": "/sitrep", "text": text, "api_app_id": sl.APP_ID, "response_url": response_url,
            "trigger_id": "1234.5678.abcd",
        }  # fmt: skip
        return self.signed(form), response_url

    # --- what the surfaces show ---------------------------------------------------------------
    def cards(self) -> list[dict[str, Any]]:
        return [m for m in self.slack.messages(sl.CHANNEL) if m.get("thread_ts", m["ts"]) == m["ts"]]

    def card(self) -> dict[str, Any]:
        return self.cards()[-1]

    def card_text(self) -> str:
        return json.dumps(self.card()["blocks"], ensure_ascii=False)

    def replies(self) -> list[str]:
        card = self.card()
        return [m["text"] for m in self.slack.thread(sl.CHANNEL, card["ts"]) if m["ts"] != card["ts"]]

    def issue(self) -> dict[str, Any]:
        [issue] = [i for i in self.github.issues() if any(lb["name"] == "sitrep" for lb in i["labels"])]
        return issue

    def comments(self) -> list[str]:
        return [c["body"] for c in self.github.comments(self.issue()["number"])]

    def ephemeral(self, response_url: str | None = None) -> list[str]:
        """Texts posted to a response_url (the last click's by default)."""
        url = response_url or self.response_urls[-1]
        return [p.get("text", "") for p in self.slack.response_posts(url)]

    def writes(self) -> tuple[int, int, int, int]:
        """Counts of every write a click could make: card updates, thread replies, issue writes, snoozes."""
        return (
            len(self.slack.requests_to("chat.update")),
            len(self.slack.requests_to("chat.postMessage")),
            len([r for r in self.github.requests if r.method != "GET"]),
            len(self.monitoring.requests_to("CreateSnooze")),
        )


def _serve(app: Any) -> tuple[Any, str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}/"


@pytest.fixture
def pubsub_server() -> Iterator[PubSubFake]:
    with PubSubFake() as fake:
        yield fake


def _start(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    logging_server: LoggingFake,
    monitoring_server: MonitoringFake,
    pubsub_server: PubSubFake,
    *,
    handoff: bool,
) -> Iterator[Sitrep]:
    scenario = staging()
    logging_server.add_entries(scenario.entries)
    monitoring_server.add_series(*scenario.series)
    with SlackFake(first_ts_seconds=int(time.time())) as slack, \
            GitHubFake(clock=lambda: datetime.now(UTC)) as github:  # fmt: skip
        env = {
            "SLACK_BOT_TOKEN": sl.BOT_TOKEN,
            "SLACK_CHANNEL": sl.CHANNEL,
            "SLACK_API_URL": slack.base_url,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "GITHUB_TOKEN": gh.TOKEN,
            "GITHUB_REPOSITORY": gh.REPOSITORY,
            "GITHUB_API_URL": github.url,
            "LOGGING_API_ENDPOINT": logging_server.url,
            "MONITORING_API_ENDPOINT": monitoring_server.address,
            "SITREP_GITHUB_WRITE_INTERVAL_SECONDS": "0",
            "SITREP_LEDGER": str(tmp_path / "ledger.json"),
            "GOOGLE_CLOUD_PROJECT": PROJECT,
            "SITREP_SERVICES": "backend,auth,frontend,worker",
        }
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        if handoff:
            monkeypatch.setenv("SITREP_TOPIC", TOPIC)
            monkeypatch.setenv("PUBSUB_EMULATOR_HOST", pubsub_server.address)
        else:
            monkeypatch.delenv("SITREP_TOPIC", raising=False)
        reset_runtime()
        source = str(ROOT / "main.py")
        alert_server, alert_url = _serve(create_app(target="handle_alert", source=source,
                                                    signature_type="cloudevent"))
        slack_server, slack_url = _serve(create_app(target="slack_actions", source=source, signature_type="http"))
        try:
            yield Sitrep(alert_url, slack_url, scenario, slack, github, monitoring_server, pubsub_server)
        finally:
            slack_server.shutdown()
            alert_server.shutdown()
            reset_runtime()


@pytest.fixture
def sitrep(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    logging_server: LoggingFake,
    monitoring_server: MonitoringFake,
    pubsub_server: PubSubFake,
) -> Iterator[Sitrep]:
    """No topic: the Slack function does the work inline (local use)."""
    yield from _start(monkeypatch, tmp_path, logging_server, monitoring_server, pubsub_server, handoff=False)


@pytest.fixture
def deployed(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    logging_server: LoggingFake,
    monitoring_server: MonitoringFake,
    pubsub_server: PubSubFake,
) -> Iterator[Sitrep]:
    """SITREP_TOPIC set, as Terraform deploys it: slow work goes over Pub/Sub to the alert function."""
    yield from _start(monkeypatch, tmp_path, logging_server, monitoring_server, pubsub_server, handoff=True)


@pytest.fixture
def opened(sitrep: Sitrep) -> Sitrep:
    assert sitrep.alert() == 200
    return sitrep


# --- the card ------------------------------------------------------------------------------------


def test_the_card_carries_acknowledge_silence_resolve_and_refresh(opened: Sitrep) -> None:
    buttons = next(b for b in opened.card()["blocks"] if b["type"] == "actions")["elements"]
    assert [(b["text"]["text"], b["action_id"], b["value"]) for b in buttons] == [
        ("Acknowledge", ACTION_ACK, KEY),
        ("Silence 1h", ACTION_SILENCE_1H, KEY),
        ("Resolve", ACTION_RESOLVE, KEY),
        ("Refresh", ACTION_REFRESH, KEY),
    ]


# --- each button ---------------------------------------------------------------------------------


def test_acknowledge_names_the_person_on_the_card_in_the_thread_and_in_the_issue(opened: Sitrep) -> None:
    answer = opened.click(ACTION_ACK)
    assert answer.status == 200 and answer.body == b""
    assert "Acknowledged by alice" in opened.card_text()
    assert any("• *Acknowledged:* by alice in Slack" in r for r in opened.replies())
    assert any("- **Acknowledged:** by alice in Slack" in c for c in opened.comments())
    assert opened.issue()["state"] == "open"


def test_acknowledging_twice_changes_nothing_the_second_time(opened: Sitrep) -> None:
    opened.click(ACTION_ACK)
    before = opened.writes()
    assert opened.click(ACTION_ACK).status == 200
    assert opened.writes() == before


def test_a_second_person_is_told_who_already_acknowledged(opened: Sitrep) -> None:
    opened.click(ACTION_ACK)
    before = opened.writes()
    assert opened.click(ACTION_ACK, user=BOB).status == 200
    assert opened.writes() == before
    assert opened.ephemeral() == ["Already acknowledged by alice. Nothing was changed."]


def test_silence_snoozes_the_incidents_policies_for_an_hour_and_shows_until_when(opened: Sitrep) -> None:
    clicked = datetime.now(UTC)
    assert opened.click(ACTION_SILENCE_1H).status == 200
    [snooze] = opened.monitoring.snoozes
    assert list(snooze.criteria.policies) == [POLICY]
    start, end = snooze.interval.start_time, snooze.interval.end_time
    assert end - start == timedelta(hours=1)
    assert abs(start - clicked) < timedelta(seconds=30)
    until = end.strftime("%H:%M UTC")
    assert f"Silenced until {until}" in opened.card_text()
    note = f"- **Silenced:** for 1 h by alice (until {until}; snooze {snooze.name})"
    assert any(note in c for c in opened.comments())
    assert opened.ephemeral() == [f"🔕 Silenced for 1 h, until {until} (`{snooze.name}`)."]


def test_a_snooze_the_api_refuses_is_reported_and_changes_nothing(opened: Sitrep) -> None:
    import grpc

    opened.monitoring.fail_next("CreateSnooze", code=grpc.StatusCode.PERMISSION_DENIED,
                                message="Permission monitoring.snoozes.create denied")
    before = opened.writes()
    assert opened.click(ACTION_SILENCE_1H).status == 200
    assert opened.writes()[:3] == before[:3]
    [text] = opened.ephemeral()
    assert "Could not silence" in text and "PERMISSION_DENIED" in text
    assert "Silenced" not in opened.card_text()


def test_resolve_marks_both_surfaces_resolved_by_the_person(opened: Sitrep) -> None:
    assert opened.click(ACTION_RESOLVE).status == 200
    header = opened.card()["blocks"][0]["text"]["text"]
    assert header.startswith("✅ RESOLVED")
    issue = opened.issue()
    assert issue["state"] == "closed"
    assert any(c.startswith("### ✅ Resolved") and "- **Resolved:** by alice" in c for c in opened.comments())


def test_a_closed_notification_after_a_manual_resolve_changes_nothing(opened: Sitrep) -> None:
    opened.click(ACTION_RESOLVE)
    before = opened.writes()
    assert opened.alert(state="closed", ended_minutes=15) == 200
    assert opened.writes() == before
    assert opened.issue()["state"] == "closed"


def test_buttons_on_a_resolved_incident_say_so_and_change_nothing(opened: Sitrep) -> None:
    opened.click(ACTION_RESOLVE)
    before = opened.writes()
    form = opened.click_form(ACTION_ACK)  # the resolved card only has Refresh: an old client pressing Ack
    assert opened.signed(form).status == 200
    assert opened.writes() == before
    assert opened.ephemeral() == ["The incident `test-project/staging` is already resolved by alice; nothing to ack."]


def test_refresh_redraws_the_card_without_a_new_issue_comment(opened: Sitrep) -> None:
    updates, _, _, _ = opened.writes()
    comments = len(opened.comments())
    assert opened.click(ACTION_REFRESH).status == 200
    assert opened.writes()[0] == updates + 1
    assert opened.replies()[-1].endswith("• *Refreshed:* by alice")
    assert len(opened.comments()) == comments


# --- what is refused -----------------------------------------------------------------------------


def test_a_forged_signature_is_refused_and_changes_nothing(opened: Sitrep) -> None:
    before = opened.writes()
    answer = opened.signed(opened.click_form(ACTION_RESOLVE), secret="not-the-signing-secret")
    assert answer.status == 401
    assert opened.writes() == before
    assert opened.ephemeral() == []
    assert opened.issue()["state"] == "open"


def test_a_replayed_request_older_than_five_minutes_is_refused(opened: Sitrep) -> None:
    before = opened.writes()
    assert opened.signed(opened.click_form(ACTION_ACK), age_s=6 * 60).status == 401
    assert opened.writes() == before


def _signed_request(form: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    body = urlencode(form).encode()
    timestamp = int(time.time())
    return body, {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": sign(body, timestamp)}


def test_a_signed_refresh_replayed_within_the_window_acts_once(opened: Sitrep) -> None:
    updates, replies, github_writes, snoozes = opened.writes()
    body, headers = _signed_request(opened.click_form(ACTION_REFRESH))
    answers = [opened.post(body, headers).status for _ in range(5)]
    assert answers == [200, 401, 401, 401, 401]
    assert opened.writes() == (updates + 1, replies + 1, github_writes + 1, snoozes)
    assert [r for r in opened.replies() if r.endswith("• *Refreshed:* by alice")] == [opened.replies()[-1]]


def test_a_replayed_resolve_gets_401_and_no_ephemeral_reply(opened: Sitrep) -> None:
    body, headers = _signed_request(opened.click_form(ACTION_RESOLVE))
    assert opened.post(body, headers).status == 200
    before = opened.writes()
    assert opened.post(body, headers).status == 401
    assert opened.writes() == before
    assert opened.ephemeral() == []


def test_a_replayed_deployed_click_is_published_once(deployed: Sitrep) -> None:
    assert deployed.alert() == 200
    body, headers = _signed_request(deployed.click_form(ACTION_ACK))
    assert [deployed.post(body, headers).status for _ in range(3)] == [200, 401, 401]
    assert len(deployed.pubsub.published(TOPIC)) == 1


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Slack-Signature": "v0=" + "0" * 64},
        {"X-Slack-Signature": "v0=" + "0" * 64, "X-Slack-Request-Timestamp": "yesterday"},
    ],
    ids=["no-headers", "no-timestamp", "timestamp-not-a-number"],
)
def test_a_missing_or_malformed_timestamp_is_401_not_500(opened: Sitrep, headers: dict[str, str]) -> None:
    before = opened.writes()
    assert opened.post(urlencode(opened.click_form(ACTION_ACK)).encode(), headers).status == 401
    assert opened.writes() == before


def test_a_signed_body_that_is_tampered_with_is_refused(opened: Sitrep) -> None:
    body = urlencode(opened.click_form(ACTION_ACK)).encode()
    timestamp = int(time.time())
    headers = {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": sign(body, timestamp)}
    assert opened.post(body.replace(b"alice", b"mallory"), headers).status == 401


def test_an_unknown_action_gets_an_ephemeral_reply_and_changes_nothing(opened: Sitrep) -> None:
    before = opened.writes()
    assert opened.click("sitrep_delete_everything").status == 200
    assert opened.writes() == before
    [text] = opened.ephemeral()
    assert text.startswith("Unknown action `sitrep_delete_everything`")


def test_a_click_on_an_incident_that_no_longer_exists_gets_an_ephemeral_reply(opened: Sitrep) -> None:
    before = opened.writes()
    assert opened.click(ACTION_ACK, key=f"{PROJECT}/gone-env").status == 200
    assert opened.writes() == before
    [text] = opened.ephemeral()
    assert "`test-project/gone-env` no longer exists" in text


def test_a_click_on_the_card_of_an_earlier_occurrence_points_to_the_newest_card(opened: Sitrep) -> None:
    first = opened.card()["ts"]
    opened.alert(state="closed", ended_minutes=10)
    assert opened.alert(incident_id="0.again") == 200  # regressed: a new card
    assert len(opened.cards()) == 2
    before = opened.writes()
    form = opened.click_form(ACTION_REFRESH, card_ts=first)
    assert opened.signed(form).status == 200
    assert opened.writes() == before
    [text] = opened.ephemeral()
    assert "belongs to an earlier occurrence" in text


# --- /sitrep status ------------------------------------------------------------------------------


def _status_series(now: datetime) -> list[Any]:
    minutes = [now - timedelta(minutes=m) for m in (1, 2, 3)]
    return [
        request_count_series("payments", "2xx", [(t, 100) for t in minutes]),
        request_count_series("payments", "5xx", [(t, 1) for t in minutes]),
        request_count_series("search", "5xx", [(t, 40) for t in minutes]),
        request_count_series("search", "2xx", [(t, 10) for t in minutes]),
    ]


def test_status_lists_every_watched_service_worst_first(sitrep: Sitrep) -> None:
    sitrep.monitoring.add_series(*_status_series(datetime.now(UTC)))
    answer, _ = sitrep.command("status")
    assert answer.status == 200
    body = answer.json()
    assert body["response_type"] == "ephemeral"
    text = body["blocks"][0]["text"]["text"]
    lines = text.splitlines()
    assert lines[0].startswith("*Service health* · ") and "last 15 min" in lines[0]
    assert "🔴 *search* FAILING — 80% 5xx (120/150 requests" in text
    assert "🟢 *payments* HEALTHY" in text
    assert "⚪ *worker* UNKNOWN — no request data and no errors" in text  # watched, but no traffic
    statuses = [line.split("*")[2].split()[0] for line in lines[1:]]
    order = {"FAILING": 0, "DEGRADED": 1, "UNKNOWN": 2, "HEALTHY": 3}
    assert statuses == sorted(statuses, key=order.__getitem__)


def test_status_of_one_service(sitrep: Sitrep) -> None:
    sitrep.monitoring.add_series(*_status_series(datetime.now(UTC)))
    answer, _ = sitrep.command("status search")
    text = answer.json()["blocks"][0]["text"]["text"]
    assert text.splitlines()[0].startswith("*Service health* · `search` · ")
    assert len(text.splitlines()) == 2 and "*search* FAILING" in text


def test_status_of_an_unknown_service_lists_the_known_ones(sitrep: Sitrep) -> None:
    answer, _ = sitrep.command("status nosuch")
    text = answer.json()["text"]
    assert text.startswith("No service named `nosuch`")
    assert "`backend`" in text and "`worker`" in text


def test_help_is_answered_with_the_usage(sitrep: Sitrep) -> None:
    answer, _ = sitrep.command("help")
    assert answer.status == 200
    assert answer.json() == {
        "response_type": "ephemeral",
        "replace_original": False,
        "text": USAGE,
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": USAGE, "verbatim": True}}],
    }


def test_a_slow_status_without_a_topic_answers_now_and_follows_up_on_the_response_url(sitrep: Sitrep) -> None:
    sitrep.monitoring.delay_next("ListTimeSeries", 2.5)
    answer, response_url = sitrep.command("status")
    assert answer.elapsed_s < SLACK_ANSWER_DEADLINE_S
    assert answer.json()["text"].startswith("⏳")
    deadline = time.monotonic() + 10
    while not sitrep.slack.response_posts(response_url) and time.monotonic() < deadline:
        time.sleep(0.05)
    [follow_up] = sitrep.slack.response_posts(response_url)
    assert follow_up["response_type"] == "ephemeral" and "*backend*" in follow_up["blocks"][0]["text"]["text"]


# --- the hand-off over Pub/Sub (as deployed) -----------------------------------------------------


def test_deployed_click_is_answered_at_once_and_done_by_the_alert_function(deployed: Sitrep) -> None:
    assert deployed.alert() == 200
    before = deployed.writes()
    answer = deployed.click(ACTION_ACK)
    assert answer.status == 200 and answer.elapsed_s < SLACK_ANSWER_DEADLINE_S
    assert deployed.writes() == before  # nothing done yet: the work is on the topic
    [message] = deployed.pubsub.published()
    assert message.attributes == {"sitrep": "action", "kind": "ack"}
    assert json.loads(message.data)["sitrep_action"]["key"] == KEY
    assert deployed.forward_published() == [200]
    assert "Acknowledged by alice" in deployed.card_text()
    assert any("- **Acknowledged:** by alice" in c for c in deployed.comments())


def test_deployed_click_on_a_missing_incident_is_answered_by_the_alert_function(deployed: Sitrep) -> None:
    assert deployed.alert() == 200
    deployed.click(ACTION_RESOLVE, key=f"{PROJECT}/gone-env")
    assert deployed.ephemeral() == []
    assert deployed.forward_published() == [200]
    [text] = deployed.ephemeral()
    assert "no longer exists" in text


def test_deployed_slow_status_is_handed_over_and_answered_on_the_response_url(deployed: Sitrep) -> None:
    deployed.monitoring.delay_next("ListTimeSeries", 2.5)
    answer, response_url = deployed.command("status backend")
    assert answer.elapsed_s < SLACK_ANSWER_DEADLINE_S
    assert answer.json()["text"].startswith("⏳")
    [message] = deployed.pubsub.published()
    assert json.loads(message.data)["sitrep_action"]["kind"] == "status"
    assert deployed.forward_published() == [200]
    [follow_up] = deployed.slack.response_posts(response_url)
    assert "*backend*" in follow_up["blocks"][0]["text"]["text"]


def test_deployed_click_when_pubsub_is_down_tells_the_person_to_retry(deployed: Sitrep) -> None:
    import grpc

    assert deployed.alert() == 200
    deployed.pubsub.fail_next(grpc.StatusCode.PERMISSION_DENIED)
    before = deployed.writes()
    assert deployed.click(ACTION_ACK).status == 200
    assert deployed.writes() == before
    [text] = deployed.ephemeral()
    assert "try again" in text


def test_a_malformed_action_message_is_acknowledged_and_changes_nothing(opened: Sitrep) -> None:
    before = opened.writes()
    assert opened.post_event(pubsub_data(b'{"sitrep_action": {"v": 1, "kind": "explode"}}')) == 200
    assert opened.writes() == before


def test_an_action_message_older_than_a_response_url_is_dropped(opened: Sitrep) -> None:
    old = ActionRequest(ActionKind.ACK, "U0ALICE001", "alice", datetime.now(UTC) - timedelta(hours=1), key=KEY)
    before = opened.writes()
    assert opened.post_event(pubsub_data(action_message(old))) == 200
    assert opened.writes() == before


# --- the pure parts --------------------------------------------------------------------------------


NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "action",
    [
        ActionRequest(ActionKind.ACK, "U1", "alice", NOW, key=KEY, response_url="https://hooks.slack.com/a",
                      message_ref="C1:1.2"),
        ActionRequest(ActionKind.STATUS, "U1", "", NOW, service="backend"),
    ],
    ids=["card", "status"],
)
def test_an_action_survives_the_trip_through_the_topic(action: ActionRequest) -> None:
    assert action_from_message(action_message(action)) == action


@pytest.mark.parametrize("raw", [b"{}", b'{"incident": {"incident_id": "x"}}', b"\xff\xfe", b"[]"])
def test_messages_that_are_not_actions_go_on_to_the_alert_parser(raw: bytes) -> None:
    assert action_from_message(raw) is None


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b'{"sitrep_action": "ack"}', "expected an object"),
        (b'{"sitrep_action": {"v": 1, "kind": "explode", "key": "p/e", "requested_at": "2026-01-01T00:00:00Z"}}',
         "unknown action kind"),
        (b'{"sitrep_action": {"v": 1, "kind": "ack", "key": "", "requested_at": "2026-01-01T00:00:00Z"}}',
         "names no incident key"),
        (b'{"sitrep_action": {"v": 1, "kind": "ack", "key": "p/e", "requested_at": "soon"}}', "not an ISO time"),
        (b'{"sitrep_action": {"v": 1, "kind": "ack", "key": "p/e", "requested_at": "2026-01-01T00:00:00"}}',
         "no time zone"),
        (b'{"sitrep_action": {"v": 1, "kind": "ack", "key": 7, "requested_at": "2026-01-01T00:00:00Z"}}',
         "must be strings"),
        (b'{"sitrep_action": {"v": 9}}', "unsupported action message version"),
        (b'{"sitrep_action": ', "not JSON"),
        (b'{"sitrep_action": "' + b"x" * 20_000 + b'"}', "over 16384"),
    ],
    ids=["not-an-object", "unknown-kind", "no-key", "bad-time", "naive-time", "key-not-text", "future-version",
         "truncated", "too-large"],
)
def test_an_action_message_that_cannot_be_read_is_an_action_error(data: bytes, problem: str) -> None:
    with pytest.raises(ActionError, match=problem):
        action_from_message(data)


@pytest.mark.parametrize(
    ("text", "starts"),
    [("", "Usage: `/sitrep status [service]`"), ("help", "Usage:"), ("silence all", "Unknown subcommand `silence`"),
     ("status a b", "`/sitrep status` takes at most one"), ("status Bad_Name", "`bad_name` is not a Cloud Run")],
)
def test_other_commands_get_the_usage(text: str, starts: str) -> None:
    reply = action_from_command({"text": text, "user_id": "U1"}, NOW)
    assert isinstance(reply, Reply) and reply.text.startswith(starts)


@pytest.mark.parametrize(
    ("user_name", "shown"),
    [("alice", "alice"), ("<!channel>", "channel"), ("*bold* `code`", "bold code"), ("", "U1")],
)
def test_names_cannot_mention_or_format(user_name: str, shown: str) -> None:
    assert ActionRequest(ActionKind.ACK, "U1", user_name, NOW).who == shown


def test_status_command_keeps_the_service() -> None:
    decoded = action_from_command({"text": " status  Backend ", "user_id": "U1", "user_name": "al"}, NOW)
    assert not isinstance(decoded, Reply)
    assert (decoded.kind, decoded.service, decoded.who) == (ActionKind.STATUS, "backend", "al")


@pytest.mark.parametrize(
    ("payload", "starts"),
    [
        ({"type": "view_submission"}, "sitrep only handles its card buttons (got a `view_submission` request)"),
        ({"type": "block_actions", "actions": []}, "Unknown action `?`"),
        ({"type": "block_actions", "actions": [{"action_id": "x`<!here>`"}]}, "Unknown action `xˋ&lt;!here&gt;ˋ`"),
        ({"type": "block_actions", "actions": [{"action_id": ACTION_ACK, "value": ""}]}, "This button carries no"),
    ],
    ids=["other-interaction", "no-action", "hostile-action-id", "no-key"],
)
def test_clicks_that_are_not_sitrep_actions_get_a_reply(payload: dict[str, Any], starts: str) -> None:
    reply = action_from_interaction(payload, NOW)
    assert isinstance(reply, Reply) and reply.text.startswith(starts)


def test_the_postmortem_is_the_final_comment_and_names_who_acked_silenced_and_resolved(opened: Sitrep) -> None:
    assert opened.click(ACTION_ACK).status == 200
    assert opened.click(ACTION_SILENCE_1H, user=BOB).status == 200
    assert opened.click(ACTION_RESOLVE).status == 200
    postmortem = opened.comments()[-1]
    assert postmortem.startswith("## 📝 Postmortem draft")
    timeline = postmortem.split("### Timeline (UTC)", 1)[1].split("### Impact", 1)[0]
    assert "| Alert opened |" in timeline
    assert "| Acknowledged | by alice |" in timeline
    assert "| Silenced | by bob, until " in timeline
    assert "| Resolved | resolved by alice in Slack |" in timeline
    assert "### Root causes" in postmortem and "### Follow-ups" in postmortem and "- [ ] " in postmortem
    summary = opened.replies()[-1].splitlines()
    assert len(summary) == 3 and summary[0].startswith("✅ *Resolved* after")
    assert "|postmortem draft>" in summary[2] and opened.issue()["html_url"] in summary[2]


def test_silence_on_more_than_16_policies_makes_several_snoozes(monitoring_server: MonitoringFake) -> None:
    from functions.adapters.snooze import MonitoringSnoozes

    policies = [f"projects/{PROJECT}/alertPolicies/{n}" for n in range(1, 21)]
    start = datetime.now(UTC)
    names = MonitoringSnoozes(endpoint=monitoring_server.address).snooze(
        policies, "sitrep: test", start, start + timedelta(hours=1))
    snoozes = monitoring_server.snoozes
    assert [len(s.criteria.policies) for s in snoozes] == [16, 4]
    assert sorted(p for s in snoozes for p in s.criteria.policies) == sorted(policies)
    assert names == ", ".join(s.name for s in snoozes)
