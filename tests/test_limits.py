"""Within every platform limit by construction, whatever the incident's size (issue 5).

The incident here is far past anything a card can show: 3,000 distinct message templates over 40
services, twenty 100 KB messages, and 40 services each failing three known ways with failed-start
503s. The analysis of it must render to a Slack message that Slack accepts (the fake's validator,
and the undocumented aggregate cap) and to an issue body within GitHub's 65,536 characters, and
both must say what they left out ("… and N more"). End to end, the same incident is read from the
Logging fake by the real function and delivered to the Slack and GitHub fakes, which reject what
the real services reject.
"""

from __future__ import annotations

import json
import re
import string
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from functions.adapters.github_issues import MAX_BODY_CHARS, compose_body, parse_markers, report_budget
from functions.analysis.templates.miner import TemplateMiner
from functions.core.model import Card, LogRecord
from functions.entry.settings import Settings
from functions.entry.wiring import analyse_only
from functions.intake.alert import parse_alert
from functions.render.markdown import render_markdown
from functions.render.slack import SLACK_MAX_BLOCKS_TEXT, SLACK_MAX_FALLBACK_TEXT, render_slack
from tests.fakes import slack as sl
from tests.fakes.cloud_logging import log_entry
from tests.fakes.slack import block_errors, total_block_text_chars

if TYPE_CHECKING:
    from tests.harness import Start

ROOT = Path(__file__).resolve().parent.parent
DISTINCT_TEMPLATES = 3_000
SERVICES = 40
HUGE_MESSAGES = 20
HUGE_MESSAGE_CHARS = 100_000
MORE = re.compile(r"… and ([\d,]+) more ([a-z ]+)")


def _word(number: int) -> str:
    """Five letters, different for every number: words the template miner cannot mask as variables."""
    letters = []
    for _ in range(5):
        number, digit = divmod(number, 26)
        letters.append(string.ascii_lowercase[digit])
    return "".join(letters)


@dataclass(frozen=True)
class Line:
    """One log line of the generated incident, before it is a LogRecord or a LogEntry."""

    second: int  # after the incident's first line
    service: str
    severity: str
    text: str
    status: int | None = None

    @property
    def revision(self) -> str:
        return f"{self.service}-00002-new"


def huge_incident() -> list[Line]:
    """3,000 differently shaped unknown errors (20 of them 100 KB), then three known failures per service."""
    lines = []
    for i in range(DISTINCT_TEMPLATES):
        w = [_word(i * 11 + k) for k in range(6)]
        text = f"{w[0]}{w[1]} {w[2]}ing {w[3]}er failed for {w[4]}s {w[5]}"
        if i < HUGE_MESSAGES:
            text = (text + " " + "payload " * (HUGE_MESSAGE_CHARS // 8))[:HUGE_MESSAGE_CHARS]
        lines.append(Line(i % 600, f"service-{i % SERVICES:02d}", "ERROR", text))
    for s in range(SERVICES):
        service = f"service-{s:02d}"
        for k in range(3):
            second = 300 + 60 * k + s
            lines.append(Line(second, service, "ERROR", f"ModuleNotFoundError: No module named 'mod_{_word(s)}'"))
            lines.append(Line(second, service, "WARNING", "Container called exit(3)."))
            lines.append(
                Line(second, service, "ERROR", f"Database connection timeout after 15.0 seconds (host=10.12.0.{s})")
            )
        for k in range(5):
            text = "The request failed because the instance could not start successfully."
            lines.append(Line(360 + k, service, "ERROR", text, status=503))
    return lines


def as_record(line: Line, start: datetime) -> LogRecord:
    return LogRecord(
        timestamp=start + timedelta(seconds=line.second),
        severity=line.severity,
        message=line.text,
        service=line.service,
        revision=line.revision,
        resource_type="cloud_run_revision",
        http_status=line.status,
        http_method="GET" if line.status else "",
        http_url="https://shop.example/api/cart" if line.status else "",
    )


def as_entry(line: Line, start: datetime, index: int) -> dict[str, Any]:
    moment = (start + timedelta(seconds=line.second)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    entry = log_entry(line.text, service=line.service, severity=line.severity, timestamp=moment, insert_id=f"i{index}")
    entry["resource"]["labels"]["revision_name"] = line.revision
    if line.status:
        del entry["textPayload"]
        entry["httpRequest"] = {"requestMethod": "GET", "requestUrl": "https://shop.example/api/cart",
                                "status": line.status}  # fmt: skip
    return entry


START = datetime(2025, 9, 16, 1, 0, tzinfo=UTC)
ALERT = parse_alert((ROOT / "tests/fixtures/alerts/threshold-open-cloudrun.json").read_bytes())


@cache
def huge_card() -> Card:
    _, card = analyse_only(ALERT, [as_record(line, START) for line in huge_incident()], None, Settings())
    return card


def mores(text: str) -> dict[str, int]:
    """Every "… and N more NOUN" in `text`, by noun."""
    return {noun.strip(): int(n.replace(",", "")) for n, noun in MORE.findall(text)}


def test_the_generated_incident_really_has_3000_distinct_templates() -> None:
    miner = TemplateMiner()
    ids = {miner.add(line.text) for line in huge_incident()[:DISTINCT_TEMPLATES]}
    assert len(ids) == DISTINCT_TEMPLATES


@pytest.mark.parametrize("interactive", [False, True])
def test_slack_card_of_a_huge_incident_is_one_slack_accepts(interactive: bool) -> None:
    message = render_slack(huge_card(), interactive=interactive)
    assert block_errors(message["blocks"]) == []
    assert total_block_text_chars(message["blocks"]) <= SLACK_MAX_BLOCKS_TEXT < sl.MAX_TOTAL_BLOCK_TEXT_CHARS
    assert len(message["text"]) <= SLACK_MAX_FALLBACK_TEXT
    cut = mores(json.dumps(message, ensure_ascii=False))
    assert cut["services"] == len(huge_card().health) - 8  # SLACK_MAX_HEALTH_LINES shown, the rest counted
    assert cut["root causes in the issue"] == len(huge_card().root_causes) - 3


BIG_LEDGER = {"key": "k", "members": [{"incident_id": f"0.{i}", "policy": "p" * 100} for i in range(100)]}


@pytest.mark.parametrize("ledger", [{"key": "k"}, BIG_LEDGER], ids=["small-ledger", "17KB-ledger"])
def test_issue_body_of_a_huge_incident_fits_github_and_says_what_it_left_out(ledger: dict[str, Any]) -> None:
    card = huge_card()
    # As the service composes it: the report gets the room the markers leave.
    body = compose_body(render_markdown(card, max_chars=report_budget(card.key, ledger)), card.key, ledger)
    assert len(body) <= MAX_BODY_CHARS
    assert parse_markers(body) == (card.key, ledger)
    assert "Report truncated" not in body  # the report's own cuts did it, section by section
    cut = mores(body)
    assert cut["recurring issues"] > 0 and cut["excerpts"] > 0
    if ledger is BIG_LEDGER:
        return  # less room: lower-priority sections (notes among them) are down to their "… and N more"
    # The pipeline keeps the 200 most frequent templates; the rest are counted, not dropped silently.
    note = re.search(r"the ([\d,]+) most frequent of ([\d,]+) are kept \(… and ([\d,]+) more", body)
    assert note is not None
    kept, total, hidden = (int(n.replace(",", "")) for n in note.groups())
    assert total > DISTINCT_TEMPLATES and hidden == total - kept


def test_a_report_rendered_without_the_budget_is_still_cut_visibly() -> None:
    card = huge_card()
    body = compose_body(render_markdown(card), card.key, BIG_LEDGER)
    assert len(body) <= MAX_BODY_CHARS
    assert "Report truncated" in body
    assert parse_markers(body) == (card.key, BIG_LEDGER)


def test_an_entry_dated_decades_away_does_not_stretch_the_timeline() -> None:
    # One stray line from 1971 among a 30-minute spike: the timeline shows the spike, not 28 million minutes.
    from functions.analysis.pipeline import MAX_TIMELINE_MINUTES

    spike = [as_record(Line(60 * k, "checkout", "ERROR", "Container called exit(3)."), START) for k in range(30)]
    stray = as_record(Line(0, "checkout", "ERROR", "Container called exit(3)."), datetime(1971, 1, 1, tzinfo=UTC))
    incident, card = analyse_only(ALERT, [stray, *spike], None, Settings())
    assert len(incident.timeline) <= MAX_TIMELINE_MINUTES
    assert incident.timeline_start is not None and incident.timeline_start.year == START.year
    assert sum(incident.timeline) == len(spike)
    assert card.sparkline


def test_memory_kept_between_alerts_stays_bounded_whatever_the_message_sizes() -> None:
    # The classifier lives as long as the instance; its memo of verdicts must not keep 100 KB messages
    # (16,384 distinct ones would be 1.6 GB in a function with 512 MB).
    import gc
    import tracemalloc

    from functions.entry.wiring import core

    classifier = core().classifier
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        for i in range(300):
            classifier.classify_message(f"request {i} failed: " + "payload " * 12_500, severity="ERROR")
        gc.collect()
        kept, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert kept - before < 2_000_000  # 300 x 100 KB = 30 MB if they were kept


# ---------------------------------------------------------------- end to end


def test_a_huge_incident_is_delivered_end_to_end_within_every_limit(deployed: Start) -> None:
    start = datetime.now(UTC) - timedelta(minutes=19)
    entries = [as_entry(line, start, i) for i, line in enumerate(huge_incident())]
    # Four pages of 1,000 read the whole window (the default three would sample it); no metrics.
    function = deployed(entries=entries, series=[], env={"SITREP_LOG_PAGES": "4"})
    assert function.send(function.scenario.notification()) == 200
    [card] = function.top_level()
    assert block_errors(card["blocks"]) == []
    assert "more services" in json.dumps(card["blocks"], ensure_ascii=False)
    [issue] = function.tracking_issues()
    body = issue["body"]
    assert len(body) <= MAX_BODY_CHARS
    assert "Report truncated" not in body and mores(body)["recurring issues"] > 0
    assert "### Links" in body and "### Notes" in body  # sections after the cut survive it
    assert f"{len(huge_incident()):,} log entries analysed" in body

    # An update edits the card and comments on the issue: both accepted too.
    assert function.send(function.scenario.notification(incident_id="0.second", policy="auth 5xx")) == 200
    assert len(function.top_level()) == 1
    assert function.slack.requests_to("chat.update")
    [comment] = function.github.comments(issue["number"])
    assert len(comment["body"]) <= MAX_BODY_CHARS
    [issue] = function.tracking_issues()
    assert len(issue["body"]) <= MAX_BODY_CHARS
