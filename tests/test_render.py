"""Renderers: golden files on the staging outage card, platform limits on a huge card, escaping.

The golden files in tests/golden/ are the rendered staging card (tests/cardfactory.py) in every
format. After an intended change to a renderer, regenerate them and review the diff like code:

    SITREP_UPDATE_GOLDEN=1 pytest tests/test_render.py
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from functions.card.changes import Change, describe_changes, snapshot_of
from functions.card.incident import build_card
from functions.core.model import Card, Health
from functions.render import render
from functions.render.jsonout import render_json
from functions.render.markdown import (
    DEFAULT_MAX_CHARS,
    UPDATE_MAX_CHARS,
    md_code,
    md_fence,
    md_text,
    render_markdown,
    render_markdown_update,
)
from functions.render.slack import (
    ACTION_ACK,
    ACTION_REFRESH,
    ACTION_RESOLVE,
    ACTION_SILENCE_1H,
    SLACK_BUDGETS,
    SLACK_MAX_BLOCK_ID,
    SLACK_MAX_BLOCKS,
    SLACK_MAX_BLOCKS_TEXT,
    SLACK_MAX_BUTTON_TEXT,
    SLACK_MAX_BUTTON_VALUE,
    SLACK_MAX_CONTEXT_ELEMENTS,
    SLACK_MAX_FALLBACK_TEXT,
    SLACK_MAX_FIELD_TEXT,
    SLACK_MAX_FIELDS,
    SLACK_MAX_HEADER_TEXT,
    SLACK_MAX_SECTION_TEXT,
    SLACK_MAX_URL,
    render_slack,
    render_slack_thread_update,
    slack_len,
)
from functions.render.text import cell_width, render_text
from tests.cardfactory import (
    KEY,
    SECRET_PASSWORD,
    SECRET_TOKEN,
    fake_redact,
    huge_card,
    staging_card,
    staging_card_later,
    staging_incident,
)

GOLDEN = Path(__file__).parent / "golden"
UPDATE_GOLDEN = os.environ.get("SITREP_UPDATE_GOLDEN") == "1"
ANSI = re.compile(r"\x1b\[[0-9;]*m")

huge = cache(huge_card)


def _json(obj: Any) -> str:
    return json.dumps(obj, indent=2, ensure_ascii=False) + "\n"


def _bare() -> Card:
    """A card with nothing to say beyond its status: every optional section absent."""
    return replace(
        staging_card(),
        summary="",
        health=(),
        root_causes=(),
        contributing=(),
        actions=(),
        components=(),
        recurring=(),
        sparkline="",
        sparkline_caption="",
        links=(),
        notes=(),
        alerts=(),
    )


# ---------------------------------------------------------------- golden files

GOLDENS: dict[str, Callable[[], str]] = {
    "staging.txt": lambda: render_text(staging_card()),
    "staging.md": lambda: render_markdown(staging_card()),
    "staging_resolved.md": lambda: render_markdown(staging_card(resolved=True)),
    "staging_update.md": lambda: render_markdown_update(
        staging_card_later(), _changes(staging_card(), staging_card_later())
    ),
    "staging.slack.json": lambda: _json(render_slack(staging_card(), interactive=True)),
    "staging_resolved.slack.json": lambda: _json(render_slack(staging_card(resolved=True), interactive=True)),
    "staging_thread_update.mrkdwn": lambda: render_slack_thread_update(
        staging_card_later(), _changes(staging_card(), staging_card_later())
    )["text"] + "\n",
    "staging.json": lambda: _json(render_json(staging_incident(), staging_card(), redact=fake_redact)),
}


def _changes(before: Card, after: Card) -> tuple[Change, ...]:
    return describe_changes(snapshot_of(before), snapshot_of(after))


@pytest.mark.parametrize("name", sorted(GOLDENS))
def test_rendering_matches_golden_file(name: str) -> None:
    actual = GOLDENS[name]()
    path = GOLDEN / name
    if UPDATE_GOLDEN:
        path.parent.mkdir(exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"missing {path}: run SITREP_UPDATE_GOLDEN=1 pytest tests/test_render.py"
    assert actual == path.read_text(encoding="utf-8"), f"{name} changed: review, then regenerate (module docstring)"


@pytest.mark.parametrize("resolved", [False, True])
def test_factory_card_is_what_build_card_makes_of_the_factory_incident(resolved: bool) -> None:
    # The goldens stand for real output only while the hand-written card matches the pipeline's.
    assert build_card(staging_incident(resolved=resolved), fake_redact) == staging_card(resolved=resolved)


# ---------------------------------------------------------------- Slack


def _text_objects(obj: Any) -> Iterator[str]:
    """Every string Slack counts towards a message's size: text, url and value fields, at any depth."""
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key in ("text", "url", "value") and isinstance(value, str):
                yield value
            else:
                yield from _text_objects(value)
    elif isinstance(obj, list):
        for item in obj:
            yield from _text_objects(item)


def _assert_within_slack_limits(message: dict[str, Any]) -> None:
    blocks = message["blocks"]
    assert len(blocks) <= SLACK_MAX_BLOCKS
    assert slack_len(message["text"]) <= SLACK_MAX_FALLBACK_TEXT
    for block in blocks:
        assert slack_len(block.get("block_id", "")) <= SLACK_MAX_BLOCK_ID
        if block["type"] == "header":
            assert slack_len(block["text"]["text"]) <= SLACK_MAX_HEADER_TEXT
        if block["type"] == "section":
            assert slack_len(block.get("text", {}).get("text", "")) <= SLACK_MAX_SECTION_TEXT
            fields = block.get("fields", [])
            assert len(fields) <= SLACK_MAX_FIELDS
            assert all(slack_len(f["text"]) <= SLACK_MAX_FIELD_TEXT for f in fields)
        if block["type"] == "context":
            assert len(block["elements"]) <= SLACK_MAX_CONTEXT_ELEMENTS
            assert all(slack_len(e["text"]) <= SLACK_MAX_SECTION_TEXT for e in block["elements"])
        if block["type"] == "actions":
            for button in block["elements"]:
                assert slack_len(button["text"]["text"]) <= SLACK_MAX_BUTTON_TEXT
                assert slack_len(button.get("value", "")) <= SLACK_MAX_BUTTON_VALUE
                assert slack_len(button.get("url", "")) <= SLACK_MAX_URL
    assert sum(slack_len(s) for s in _text_objects(blocks)) <= SLACK_MAX_BLOCKS_TEXT


def test_slack_block_budgets_add_up_to_less_than_the_aggregate_cap() -> None:
    assert sum(SLACK_BUDGETS) <= SLACK_MAX_BLOCKS_TEXT


@pytest.mark.parametrize(
    "card",
    [staging_card(), staging_card(resolved=True), _bare(), huge()],
    ids=["staging", "resolved", "bare", "huge"],
)
@pytest.mark.parametrize("interactive", [False, True])
def test_slack_message_is_within_every_block_kit_limit(card: Card, interactive: bool) -> None:
    message = render_slack(card, interactive=interactive, acknowledged_by="ana " * 500, silenced_until="x" * 5000)
    _assert_within_slack_limits(message)


def test_slack_huge_card_is_cut_visibly() -> None:
    text = "\n".join(_text_objects(render_slack(huge())["blocks"]))
    for noun in ("services", "root causes", "actions"):
        assert re.search(rf"… and [\d,]+ more {noun}", text), noun


def _buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]


def test_interactive_card_has_the_four_buttons_each_carrying_the_key() -> None:
    buttons = _buttons(render_slack(staging_card(), interactive=True))
    assert [b["action_id"] for b in buttons] == [ACTION_ACK, ACTION_SILENCE_1H, ACTION_RESOLVE, ACTION_REFRESH]
    assert [b["action_id"] for b in buttons] == ["sitrep_ack", "sitrep_silence_1h", "sitrep_resolve", "sitrep_refresh"]
    assert {b["value"] for b in buttons} == {KEY}
    resolve = buttons[2]
    assert resolve["style"] == "danger"
    assert resolve["confirm"]["confirm"]["text"] == "Resolve"


def test_non_interactive_card_has_no_buttons() -> None:
    assert _buttons(render_slack(staging_card())) == []


def test_resolved_card_turns_resolved_and_keeps_only_refresh() -> None:
    message = render_slack(staging_card(resolved=True), interactive=True)
    header = message["blocks"][0]["text"]["text"]
    assert header.startswith("✅ RESOLVED")
    assert message["text"].startswith("✅ RESOLVED")
    assert [b["action_id"] for b in _buttons(message)] == [ACTION_REFRESH]
    everything = "\n".join(_text_objects(message["blocks"]))
    assert not any(emoji in everything for emoji in ("🔴", "🟡", "🟢"))


def test_acknowledgement_and_silence_are_shown() -> None:
    message = render_slack(staging_card(), interactive=True, acknowledged_by="Ana", silenced_until="23:41 UTC")
    context = [e["text"] for b in message["blocks"] if b["type"] == "context" for e in b["elements"]]
    assert "✋ Acknowledged by Ana" in context
    assert "🔕 Silenced until 23:41 UTC" in context


@pytest.mark.parametrize(
    ("log_text", "expected"),
    [
        ("a < b", "a &lt; b"),
        ("x > y", "x &gt; y"),
        ("R&D", "R&amp;D"),
        ("ping <!channel> and <@U123>", "ping &lt;!channel&gt; and &lt;@U123&gt;"),
        ("<https://evil.example|click>", "&lt;https://evil.example|click&gt;"),
        ("already &amp; escaped", "already &amp;amp; escaped"),
    ],
)
def test_slack_escapes_mrkdwn_control_characters_in_log_text(log_text: str, expected: str) -> None:
    message = render_slack(replace(staging_card(), summary=log_text))
    summary = next(b for b in message["blocks"] if b.get("block_id") == "sitrep_summary")
    assert summary["text"]["text"] == expected


def test_slack_evidence_code_span_cannot_be_broken_by_backticks() -> None:
    cause = replace(staging_card().root_causes[0], evidence="oops ``` <!here> `x`")
    message = render_slack(replace(staging_card(), root_causes=(cause,)))
    root = next(b for b in message["blocks"] if b.get("block_id") == "sitrep_root_1")["text"]["text"]
    evidence = next(line for line in root.split("\n") if line.startswith("_Evidence:_"))
    assert evidence == "_Evidence:_ `oops ˋˋˋ &lt;!here&gt; ˋxˋ`"


def _mrkdwn_texts(obj: Any) -> Iterator[str]:
    """The strings Slack parses for mentions and links (plain_text shows everything literally)."""
    if isinstance(obj, dict):
        if obj.get("type") == "mrkdwn":
            yield obj["text"]
        for value in obj.values():
            yield from _mrkdwn_texts(value)
    elif isinstance(obj, list):
        for item in obj:
            yield from _mrkdwn_texts(item)


def test_slack_huge_card_carries_no_raw_mentions() -> None:
    message = render_slack(huge(), interactive=True)
    text = "\n".join([message["text"], *_mrkdwn_texts(message["blocks"])])
    assert "&lt;!channel&gt;" in text
    assert "<!channel>" not in text
    assert "<@U123>" not in text


def test_slack_thread_update_says_what_changed_and_is_escaped() -> None:
    reply = render_slack_thread_update(staging_card_later(), _changes(staging_card(), staging_card_later()))["text"]
    assert "*auth:* FAILING → HEALTHY" in reply
    assert "*No longer seen:*" in reply
    assert "*New recurring message:* 1" in reply
    assert render_slack_thread_update(staging_card(resolved=True), ())["text"].startswith("✅ *Resolved*")
    assert "No material change" in render_slack_thread_update(staging_card(), ())["text"]
    hostile = (Change("<!channel>", "<https://evil.example|click> & <@U1>"),)
    message = render_slack_thread_update(staging_card(), hostile)
    assert message["blocks"] == [{"type": "section", "text": {"type": "mrkdwn", "text": message["text"],
                                                              "verbatim": True}}]
    reply = json.dumps(message)
    assert "<!channel>" not in reply and "<https://" not in reply and "<@U1>" not in reply


# ---------------------------------------------------------------- Markdown


def test_markdown_huge_card_fits_and_says_what_it_left_out() -> None:
    body = render_markdown(huge())
    assert len(body) <= DEFAULT_MAX_CHARS
    assert "… and" in body
    assert "more recurring issues" in body


@pytest.mark.parametrize("max_chars", [60_000, 20_000, 5_000, 500, 40])
def test_markdown_never_exceeds_max_chars(max_chars: int) -> None:
    assert len(render_markdown(huge(), max_chars=max_chars)) <= max_chars


def test_markdown_gives_up_low_priority_sections_first() -> None:
    body = render_markdown(huge(), max_chars=30_000)
    assert "#### 1." in body  # the first root cause survives
    assert "### Service health" in body
    assert re.search(r"… and [\d,]+ more recurring issues", body)


def _unescaped_pipes(line: str) -> int:
    return len(re.findall(r"(?<!\\)(?:\\\\)*\|", line))


@pytest.mark.parametrize("card", [staging_card(), huge()], ids=["staging", "huge"])
def test_markdown_table_rows_keep_their_column_count(card: Card) -> None:
    rows: list[str] = []
    for line in [*render_markdown(card).split("\n"), ""]:
        if line.startswith("|"):
            rows.append(line)
            continue
        if rows:
            assert {_unescaped_pipes(r) for r in rows} == {_unescaped_pipes(rows[0])}, rows[0]
        rows = []


def _fences_balanced(body: str) -> bool:
    open_fence = ""
    for line in body.split("\n"):
        match = re.match(r"^(`{3,})(.*)$", line)
        if not match:
            continue
        if not open_fence:
            open_fence = match.group(1)
        elif match.group(1) >= open_fence and not match.group(2).strip():
            open_fence = ""
    return not open_fence


@pytest.mark.parametrize("card", [staging_card(), huge(), _bare()], ids=["staging", "huge", "bare"])
def test_markdown_code_fences_all_close(card: Card) -> None:
    assert _fences_balanced(render_markdown(card))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a|b", "a\\|b"),
        ("line one\nline two", "line one line two"),
        ("<script>x</script>", "&lt;script&gt;x&lt;/script&gt;"),
        ("ping @here", "ping `@here`"),
        ("see #12", "see `#12`"),
        ("__init__.py", "\\_\\_init\\_\\_.py"),
        ("# not a heading", "# not a heading".replace("#", "`#`", 1)),
        ("- not a list", "\\- not a list"),
        ("1. not a list", "1\\. not a list"),
    ],
)
def test_markdown_text_is_inert(text: str, expected: str) -> None:
    assert md_text(text) == expected


def test_markdown_fence_outgrows_backticks_inside() -> None:
    assert md_fence("before\n```\nafter") == "````text\nbefore\n```\nafter\n````"
    assert md_code("a ` b") == "`` a ` b ``"
    assert md_code("a|b", table=True) == "`a\\|b`"


@pytest.mark.parametrize("card", [staging_card(), huge()], ids=["staging", "huge"])
def test_markdown_log_text_renders_as_text_never_html_or_mentions(card: Card) -> None:
    # Parsed the way GitHub does (CommonMark + tables, inline HTML allowed): the only HTML is our own <sub>.
    markdown_it = pytest.importorskip("markdown_it", reason="markdown-it-py is a dev dependency")
    tokens = markdown_it.MarkdownIt("commonmark", {"html": True}).enable("table").parse(render_markdown(card))
    assert not [t for t in tokens if t.type == "html_block"]
    inline = [child for t in tokens if t.type == "inline" for child in t.children or []]
    assert {c.content for c in inline if c.type == "html_inline"} <= {"<sub>", "</sub>"}
    for child in inline:
        if child.type == "text":
            assert not re.search(r"(?<!\w)@\w|(?<!\w)#\d", child.content), child.content[:200]


def test_markdown_update_is_short_and_says_what_changed() -> None:
    comment = render_markdown_update(staging_card_later(), _changes(staging_card(), staging_card_later()))
    assert len(comment) <= UPDATE_MAX_CHARS
    assert "- **auth:** FAILING → HEALTHY" in comment
    assert "- **New recurring message:** 1" in comment
    assert render_markdown_update(staging_card(resolved=True), ()).startswith("### ✅ Resolved")
    assert "- No material change." in render_markdown_update(staging_card(), ())
    many = tuple(Change(f"service-{i}", "x" * 5_000) for i in range(200))
    assert len(render_markdown_update(huge(), many)) <= UPDATE_MAX_CHARS


# ---------------------------------------------------------------- terminal text


@pytest.mark.parametrize("card", [staging_card(), huge(), _bare()], ids=["staging", "huge", "bare"])
def test_text_has_no_escape_codes_without_colour(card: Card) -> None:
    # The huge card's log text carries raw "\x1b[31m": it must not reach the terminal either.
    assert "\x1b" not in render_text(card, color=False)


def test_text_colours_status_by_health_when_asked() -> None:
    out = render_text(staging_card(), color=True)
    assert "\x1b[31mFAILING " in out
    assert "\x1b[33mDEGRADED" in out
    assert "\x1b[32mHEALTHY " in out
    assert ANSI.sub("", out) == render_text(staging_card(), color=False)


def test_text_colour_never_passes_log_escapes_through() -> None:
    out = render_text(huge(), color=True)
    assert "\x1b" not in ANSI.sub("", out)


@pytest.mark.parametrize("width", [60, 100, 160])
def test_text_lines_fit_the_width_except_urls(width: int) -> None:
    for card in (staging_card(), huge()):
        for line in render_text(card, width=width).split("\n"):
            if "://" not in line:
                assert cell_width(line) <= width, line


def test_text_health_table_is_aligned() -> None:
    lines = render_text(staging_card()).split("\n")
    start = lines.index("Service health") + 1
    header, *rows = lines[start : start + 5]
    status_at, numbers_at = header.index("STATUS"), header.index("DECIDING NUMBERS")
    assert [row[status_at] for row in rows] == ["F", "F", "D", "H"]
    assert [row[numbers_at - 2 : numbers_at + 1] for row in rows] == ["  9", "  6", "  4", "  0"]


def test_text_shows_why_chain_from_symptom_to_cause_and_the_markers() -> None:
    out = render_text(staging_card())
    symptom = out.index("backend is FAILING: 93% 5xx")
    cause = out.index("→ backend: missing Python module 'auth_service'")
    assert symptom < cause
    assert "[P0] Roll back backend to backend-00041-p2m" in out
    assert re.search(r"22:05  22:39  new", out)
    assert re.search(r"22:03  22:41  harmless", out)
    assert "errors per min, 22:01–22:41 UTC; peak 31 at 22:07" in out


# ---------------------------------------------------------------- JSON


def test_json_has_the_design_keys_with_string_enums_and_utc_times() -> None:
    out = render_json(staging_incident(), staging_card(), redact=fake_redact)
    assert list(out) == [
        "incident",
        "summary",
        "services",
        "failures",
        "components",
        "recurring",
        "root_causes",
        "contributing",
        "actions",
        "timeline",
        "evidence",
        "links",
        "notes",
        "changes",
        "changes_note",
    ]
    assert {
        "key",
        "status",
        "severity",
        "started_at",
        "ended_at",
        "environment",
        "project_id",
        "title",
        "alerts",
    } <= set(out["incident"])
    assert out["incident"]["status"] == "ACTIVE" and out["incident"]["started_at"] == "2025-09-15T22:01:00Z"
    assert out["services"][0] == {
        "service": "backend",
        "health": "FAILING",
        "reasons": ["93% 5xx (1116/1200 requests; 503 ×1032, 500 ×84)", "43 failed starts"],
        "requests": 1200,
        "error_ratio": 0.93,
        "failed_starts": 43,
    }
    root = out["root_causes"][0]
    assert root["chain"][0].startswith("backend is FAILING") and root["previous_revision"] == "backend-00041-p2m"
    assert out["actions"][0]["priority"] == "P0"
    assert out["timeline"]["step_seconds"] == 60 and len(out["timeline"]["counts"]) == 40
    json.dumps(out)  # plain JSON types only


@pytest.mark.parametrize("with_card", [True, False])
def test_json_never_carries_an_unredacted_secret(with_card: bool) -> None:
    incident = staging_incident()
    out = render_json(incident, staging_card()) if with_card else render_json(incident)
    dumped = json.dumps(out, ensure_ascii=False)
    assert SECRET_PASSWORD not in dumped
    assert SECRET_TOKEN not in dumped
    assert "[REDACTED:" in dumped


def test_json_refuses_a_card_of_another_incident() -> None:
    with pytest.raises(ValueError, match="not the card"):
        render_json(staging_incident(), replace(staging_card(), key="other/prod"))


# ---------------------------------------------------------------- the dispatcher


@pytest.mark.parametrize(("fmt", "kind"), [("text", str), ("markdown", str), ("slack", dict), ("json", dict)])
def test_render_dispatches_by_format(fmt: str, kind: type) -> None:
    assert isinstance(render(staging_card(), fmt, incident=staging_incident()), kind)
    assert isinstance(render(staging_incident(), fmt), kind)


def test_render_rejects_unknown_formats_and_json_without_the_incident() -> None:
    with pytest.raises(ValueError, match="unknown format"):
        render(staging_card(), "html")
    with pytest.raises(ValueError, match="needs the Incident"):
        render(staging_card(), "json")


def test_health_emoji_cover_every_status() -> None:
    message = render_slack(staging_card())
    health = next(b for b in message["blocks"] if b.get("block_id") == "sitrep_health")["text"]["text"]
    assert [line[0] for line in health.split("\n")[1:]] == ["🔴", "🔴", "🟡", "🟢"]
    assert {h.status for h in staging_card().health} == {Health.FAILING, Health.DEGRADED, Health.HEALTHY}
