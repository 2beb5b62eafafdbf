"""Hostile log text through the real functions and the CLI: nothing made from it is live on any surface.

The staging outage is served with extra log lines, a service name and an alert policy name that carry
what attackers write; the incident is opened, joined, acknowledged and refreshed from Slack by a person
whose Slack name is hostile too, asked about with `/sitrep status`, and resolved. Every request that
reached the Slack and GitHub fakes, every ephemeral answer, and `replay --format text|markdown|slack|json`
on the same recording are judged by tests/inert_judges.py.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from functions.render.slack import ACTION_ACK, ACTION_REFRESH
from tests.fakes.cloud_logging import LoggingFake
from tests.fakes.cloud_monitoring import MonitoringFake
from tests.fakes.pubsub import PubSubFake
from tests.inert_judges import github_live, invisible, slack_live, strings_in, title_live
from tests.scenario import pubsub_data
from tests.test_slack_actions import ALICE, Sitrep, _start

ROOT = Path(__file__).resolve().parent.parent
EVIL = (
    "<!channel> <!here> <@U0ADMIN> <#C0GENERAL> <https://evil.example|Click to fix> @org/team @alice #1 GH-5 "
    "owner/repo#1 https://github.com/acme/ops/issues/1 www.evil.example [x](https://evil.example) "
    "![x](https://evil.example/i.png) <img src=x> <details> \u202eevil\u202c zero\u200bwidth\u2060\ufeff"
)
HOSTILE_SERVICE = "backend<!channel>@org/team#1\u202e"
HOSTILE_POLICY = "auth 5xx <!here> @org/team #1 [x](https://evil.example) <img src=x>\u200b"
HOSTILE_USER = "mallory <!channel> <@U0ADMIN> @org/team #1"
# Links sitrep writes itself: Cloud Console pages, the alert's own documentation links, the tracking issue.
OUR_PREFIXES = ("https://console.cloud.google.com/", "https://github.com/netra-systems/ops/", "http://127.0.0.1:")


def hostile_entries(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Error lines of the outage with hostile messages, some from a service with a hostile name."""
    errors = [e for e in entries if e.get("severity") == "ERROR" and "textPayload" in e][:6]
    out = []
    for i, entry in enumerate(errors):
        forged = copy.deepcopy(entry)
        forged["insertId"] = f"evil-{i}"
        forged["textPayload"] = f"ModuleNotFoundError: No module named '{EVIL}'\n{EVIL}"
        if i % 2:
            forged["resource"]["labels"]["service_name"] = HOSTILE_SERVICE
        out.append(forged)
    return out


def hostile_notification(sitrep: Sitrep, **changes: Any) -> dict[str, Any]:
    payload = sitrep.scenario.notification(**changes)
    payload["incident"]["resource"]["labels"]["service_name"] = HOSTILE_SERVICE
    payload["incident"]["resource_display_name"] = HOSTILE_SERVICE
    return payload


@pytest.fixture
def attacked(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    logging_server: LoggingFake,
    monitoring_server: MonitoringFake,
) -> Iterator[Sitrep]:
    with PubSubFake() as pubsub:
        for sitrep in _start(monkeypatch, tmp_path, logging_server, monitoring_server, pubsub, handoff=False):
            logging_server.add_entries(hostile_entries(sitrep.scenario.entries))
            yield sitrep


def test_hostile_log_text_is_inert_in_every_slack_and_github_request(attacked: Sitrep) -> None:
    sitrep = attacked
    assert sitrep.post_event(pubsub_data(hostile_notification(sitrep))) == 200  # open
    assert sitrep.post_event(pubsub_data(hostile_notification(sitrep, incident_id="0.second",
                                                              policy=HOSTILE_POLICY))) == 200  # join  # fmt: skip
    mallory = {**ALICE, "name": HOSTILE_USER, "username": HOSTILE_USER}
    answers = [sitrep.click(ACTION_ACK, user=mallory), sitrep.click(ACTION_REFRESH, user=mallory)]
    status, status_url = sitrep.command(f"status {HOSTILE_SERVICE}")
    answers.append(status)
    for incident_id in ("0.nq3k8w2x5r7m", "0.second"):  # resolve
        closed = hostile_notification(sitrep, incident_id=incident_id, state="closed", ended_minutes=15)
        assert sitrep.post_event(pubsub_data(closed)) == 200

    slack_bodies = [r.body for r in sitrep.slack.requests if r.endpoint in ("chat.postMessage", "chat.update")]
    ephemeral = [p for url in [*sitrep.response_urls, status_url] for p in sitrep.slack.response_posts(url)]
    ephemeral += [a.json() for a in answers if a.body]
    github_writes = [r.body for r in sitrep.github.requests if r.method in ("POST", "PATCH") and r.body]
    assert len(slack_bodies) >= 4 and ephemeral and len(github_writes) >= 3

    for body in [*slack_bodies, *ephemeral]:
        assert slack_live(body, our_prefixes=OUR_PREFIXES) == [], json.dumps(body)[:400]
        assert invisible("\n".join(strings_in(body))) == []
    for body in github_writes:
        if "title" in body:
            assert title_live(body["title"]) == [] and invisible(body["title"]) == []
        if "body" in body:
            assert github_live(body["body"], our_prefixes=OUR_PREFIXES) == [], body["body"][:400]
            assert invisible(body["body"]) == []

    # The hostile text did reach every surface, shown as text.
    card = json.dumps(sitrep.card()["blocks"])
    assert "&lt;!channel&gt;" in card and "mallory" in card
    assert any("&lt;!here&gt;" in body.get("text", "") for body in slack_bodies)  # the thread reply on the join
    issue = sitrep.issue()
    assert "`backend<!channel>@org/team#1`" in issue["body"]  # the service name, as code
    assert any("`@org/team`" in c for c in sitrep.comments())


@pytest.mark.parametrize("fmt", ["text", "markdown", "slack", "json"])
def test_replay_of_a_hostile_recording_prints_nothing_live(tmp_path: Path, fmt: str) -> None:
    example = ROOT / "examples" / "staging-outage"
    for name in ("metrics.json",):
        (tmp_path / name).write_bytes((example / name).read_bytes())
    alert = json.loads((example / "alert.json").read_text())
    alert["incident"]["policy_name"] = HOSTILE_POLICY
    alert["incident"]["resource"]["labels"]["service_name"] = HOSTILE_SERVICE
    (tmp_path / "alert.json").write_text(json.dumps(alert))
    entries = json.loads((example / "logs.json").read_text())
    (tmp_path / "logs.json").write_text(json.dumps(entries + hostile_entries(entries)))

    done = subprocess.run([sys.executable, "main.py", "replay", str(tmp_path), "--format", fmt],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    if fmt == "text":
        assert invisible(out) == [] and "backend<!channel>@org/team#1" in out
    elif fmt == "markdown":
        assert github_live(out, our_prefixes=OUR_PREFIXES) == [] and invisible(out) == []
        assert "`backend<!channel>@org/team#1`" in out
    elif fmt == "slack":
        message = json.loads(out)
        assert slack_live(message, our_prefixes=OUR_PREFIXES) == []
        assert invisible("\n".join(strings_in(message))) == [] and "&lt;!channel&gt;" in out
    else:  # JSON is data, not markup: the text is kept (escaped only as JSON), for tools to read
        assert "<!channel>" in json.dumps(json.loads(out), ensure_ascii=False)
