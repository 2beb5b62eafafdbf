"""Log text stays inert on every surface, for any text: the property tests of the escaping boundary.

Hostile text is put wherever logs and alerts reach a card (template text and example, root summary,
why-chain, evidence, service name, revision, entity values, alert policy name, notes, an action's
command, the Slack user in an action note), the card is built the real way (`build_card` with the
real redaction) and rendered for every surface. The judges in tests/inert_judges.py read the
output as Slack and a CommonMark + GFM parser would, without using the escaping code.
"""

from __future__ import annotations

import ast
import unicodedata
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from functions.card.changes import Change, describe_changes, snapshot_of
from functions.card.incident import build_card
from functions.core.model import Action, Card, Health, Incident, IncidentStatus, Priority, ServiceHealth
from functions.incidents.lifecycle import LedgerEntry
from functions.incidents.markers import compose_body
from functions.redaction.redact import redact
from functions.render.inert import Markdown, Mrkdwn, PlainTitle, SlackPlain, TerminalText, strip_invisible
from functions.render.markdown import render_issue_title, render_markdown, render_markdown_update
from functions.render.slack import render_slack, render_slack_thread_update
from functions.render.text import render_text
from functions.slack_app.actions import (
    ActionKind,
    ActionRequest,
    action_from_command,
    action_from_interaction,
    change_note,
    refusal,
    status_reply,
    status_services,
)
from tests.cardfactory import staging_incident
from tests.inert_judges import block_shape, github_live, invisible, slack_live, title_live

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2025, 9, 15, 22, 45, tzinfo=UTC)

# What attackers write, and what breaks naive escaping; hypothesis mixes them with any other text.
HOSTILE = (
    "<!channel>", "<!here>", "<!everyone>", "<@U0ADMIN>", "<#C0GENERAL>", "<!subteam^S0OPS>",
    "<https://evil.example|Click to fix>", "<mailto:a@evil.example|mail>", "&lt;!channel&gt;", "&#64;alice",
    "@alice", "@org/team", "a@evil.example", "#1", "owner/repo#1", "GH-5", "gh-5",
    "https://github.com/acme/ops/issues/1", "http://evil.example/x", "www.evil.example", "WWW.evil.example",
    "xmpp:a@evil.example", "mailto:a@evil.example", "[x](https://evil)", "![x](https://evil/i.png)",
    "[x]: https://evil", "<img src=x onerror=alert(1)>", "<details><summary>a</summary>", "</code>",
    "<!-- c -->", "\n# heading", "\n- item", "\n1. item", "\n> quote", "\n---\n", "\n===", "|", "||", "`", "```",
    "~~~", "*", "_", "~", "\\", "&", "<", ">", ":", "\u202e", "\u202a", "\u2066", "\u2069", "\u200b", "\u200d",
    "\u2060", "\ufeff", "\u00ad", "\x1b[31m", "\x1b]8;;https://evil\x07", "\r", "\t", "\u2028", "\x00",
)  # fmt: skip
hostile_text = st.lists(st.one_of(st.sampled_from(HOSTILE), st.text(max_size=12)), min_size=1, max_size=6).map(
    "".join
)
PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ALL_AT_ONCE = "".join(HOSTILE)


def poisoned(text: str) -> Incident:
    """The staging outage with `text` wherever log or alert text reaches the card."""
    incident = staging_incident()
    root = incident.root_causes[0]
    hostile_root = replace(
        root,
        service=f"backend{text}",
        summary=f"missing Python module '{text}'",
        chain=(f"503 {text}", *root.chain[1:]),
        evidence=f"Traceback:\n  {text}\nModuleNotFoundError: {text}",
        revision=f"backend-{text}",
        entities={"module": (text,), "revision": (f"backend-{text}",)},
    )
    template = replace(incident.recurring[0], text=f"failed {text}", example=f"failed {text}\n{text}",
                       services=(f"backend{text}",))  # fmt: skip
    return replace(
        incident,
        title=text,
        services=(replace(incident.services[0], service=f"backend{text}"), *incident.services[1:]),
        root_causes=(hostile_root, *incident.root_causes[1:]),
        recurring=(template, *incident.recurring[1:]),
        alerts=(replace(incident.alerts[0], policy_name=f"policy {text}"), *incident.alerts[1:]),
        actions=(Action(Priority.P0, f"Run `pip install {text}` then redeploy {text}"), *incident.actions),
        notes=(f"note {text}",),
    )


def our_urls(card: Card) -> set[str]:
    return {link.url for link in card.links} | {alert.url for alert in card.alerts if alert.url}


def card_for(text: str) -> Card:
    return build_card(poisoned(text), redact)


def changes_for(text: str, card: Card) -> tuple[Change, ...]:
    before = snapshot_of(build_card(staging_incident(), redact))
    clicked = ActionRequest(ActionKind.ACK, "U1", text, NOW, key="k")
    return (*describe_changes(before, snapshot_of(card)), change_note(clicked), Change(f"Alert joined {text}", text))


# ---------------------------------------------------------------- the judges can fail


def test_the_judges_see_what_the_platforms_would_make_live() -> None:
    assert slack_live({"text": "<!channel>"}) and slack_live({"text": "x <https://evil.example|Click>"})
    assert slack_live({"type": "mrkdwn", "text": "ok"}) == ["not verbatim: ok"]
    assert not slack_live({"text": "<https://ours.example/a?b=1&amp;c=2|ours>"}, ["https://ours.example/a?b=1&c=2"])
    raw = "@alice #1 GH-5 https://x.example www.x.example a@b.example [a](https://b) ![i](c) <img src=x> <details>"
    found = " ".join(github_live(raw))
    for kind in ("mention @a", "reference #1", "reference GH-5", "link https://x.example", "www autolink",
                 "mention @b", "link https://b", "image c", "html <img src=x>", "html <details>"):  # fmt: skip
        assert kind in found
    assert github_live("# x\n\n- y") == [] and block_shape("# x\n\n- y") != block_shape("x y")
    assert title_live("fix #12 for @bob") == ["@b", "#1"]
    assert invisible("a\u202eb\u200bc\x1bd\n") == ["U+202E", "U+200B", "U+001B"]


# ---------------------------------------------------------------- Slack


@PROPERTY
@given(hostile_text)
@example(ALL_AT_ONCE)
def test_no_slack_payload_carries_markup_made_from_log_text(text: str) -> None:
    card = card_for(text)
    ours = our_urls(card)
    who = ActionRequest(ActionKind.ACK, "U1", text, NOW, key=text).who
    message = render_slack(card, interactive=True, acknowledged_by=who, silenced_until=text)
    assert slack_live(message, ours) == []
    reply = render_slack_thread_update(card, changes_for(text, card))
    assert slack_live(reply) == []
    for payload in (message, reply):
        assert invisible(json_strings(payload), keep="\n") == []


@PROPERTY
@given(hostile_text)
@example(ALL_AT_ONCE)
def test_ephemeral_and_status_replies_carry_no_markup_made_from_their_input(text: str) -> None:
    health = (ServiceHealth(text, Health.FAILING, (f"93% 5xx {text}",), 100, 0.93),)
    entry = LedgerEntry(key=text, generation=1, status=IncidentStatus.ACTIVE, opened_at=NOW, resolved_at=None,
                        members=(), acknowledged_by=text)  # fmt: skip
    replies = [
        status_reply(health, project=text, window=timedelta(minutes=15), service=text, note=text),
        status_services(text, ("backend",), (text,)),
        action_from_command({"text": f"status {text}"}, NOW),
        action_from_command({"text": f"{text} x"}, NOW),
        action_from_interaction({"type": text}, NOW),
        action_from_interaction({"type": "block_actions", "actions": [{"action_id": text}]}, NOW),
        refusal(ActionRequest(ActionKind.ACK, "U2", "bob", NOW, key=text), entry, NOW),
        refusal(ActionRequest(ActionKind.SILENCE, "U2", "bob", NOW, key=text), None, NOW),
    ]
    for reply in replies:
        if isinstance(reply, ActionRequest | tuple) or reply is None:
            continue
        body = reply.to_slack()
        assert slack_live(body) == [], body
        assert invisible(json_strings(body)) == []


# ---------------------------------------------------------------- GitHub


@PROPERTY
@given(hostile_text)
@example(ALL_AT_ONCE)
def test_no_github_text_carries_a_live_mention_reference_link_image_or_html_made_from_log_text(text: str) -> None:
    card = card_for(text)
    body = compose_body(render_markdown(card), "acme-staging/staging", {"v": 1})
    assert github_live(body, our_urls(card)) == []
    comment = render_markdown_update(card, changes_for(text, card))
    assert github_live(comment) == []
    title = render_issue_title(card)
    assert title_live(title) == [] and "\n" not in title
    for rendered in (body, comment, title):
        assert invisible(rendered) == []


@PROPERTY
@given(hostile_text.filter(lambda t: strip_invisible(t).strip() != ""))
def test_log_text_cannot_add_or_remove_a_heading_list_quote_table_or_fence(text: str) -> None:
    benign = card_for("x")
    card = card_for(text)
    assert block_shape(render_markdown(card)) == block_shape(render_markdown(benign))
    assert block_shape(render_markdown_update(card, changes_for(text, card))) == block_shape(
        render_markdown_update(benign, changes_for("x", benign))
    )


# ---------------------------------------------------------------- terminal


@PROPERTY
@given(hostile_text)
@example(ALL_AT_ONCE)
def test_terminal_text_holds_no_control_or_invisible_character(text: str) -> None:
    out = render_text(card_for(text))
    assert invisible(out) == []


# ---------------------------------------------------------------- the types


def test_format_escapes_values_and_keeps_what_is_already_of_its_type() -> None:
    assert Mrkdwn("hi {}").format("<!channel>") == "hi &lt;!channel&gt;"
    assert Mrkdwn("{} {}").format(Mrkdwn("*bold*"), 1_234) == "*bold* 1234"
    assert Mrkdwn("{:,}").format(1_234) == "1,234"
    assert Mrkdwn(", ").join(["<a>", Mrkdwn("*b*")]) == "&lt;a&gt;, *b*"
    assert Markdown("- {}").format("@org/team #1") == "- `@org/team` `#1`"
    assert isinstance(Markdown("{}").format("x"), Markdown)


def test_each_surface_escaper_turns_log_text_into_its_type() -> None:
    assert isinstance(Mrkdwn.escape("x"), Mrkdwn) and Mrkdwn.escape("a\u202eb") == "ab"
    assert SlackPlain.escape("<!here> a\nb") == "‹!here› a b"
    assert PlainTitle.escape("fix #12 for @org/team, GH-5") == "fix ＃12 for ＠org/team, GH‐5"
    assert TerminalText.escape("\x1b[31mred\x1b[0m") == "[31mred[0m"


def test_every_invisible_character_this_python_knows_is_dropped() -> None:
    invisible_chars = [chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) in ("Cc", "Cf", "Cs")]
    kept = [f"U+{ord(c):04X}" for c in invisible_chars if strip_invisible(c) and c not in "\t\n\r"]
    assert kept == []


_INERT_TYPES = {"Mrkdwn", "SlackPlain", "Markdown", "PlainTitle", "TerminalText"}
# The escaping boundary itself; markers.py appends our own HTML comments (percent-encoded key, base64 ledger).
_MAY_SEAL = {"functions/render", "functions/incidents/markers.py"}


def _sealed_from_non_literals(source: str) -> list[int]:
    """Lines where an inert type is built from anything but one string literal."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _INERT_TYPES:
            literal = len(node.args) == 1 and not node.keywords and isinstance(node.args[0], ast.Constant)
            if not (literal and isinstance(node.args[0].value, str)):  # type: ignore[union-attr]
                lines.append(node.lineno)
    return lines


def test_outside_the_escaping_boundary_an_inert_type_is_made_only_from_a_literal() -> None:
    """`Mrkdwn(x)` outside functions/render/ would be a raw string let through: only `Mrkdwn("…")` may appear."""
    offences = []
    for path in sorted((ROOT / "functions").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if any(relative == p or relative.startswith(p + "/") for p in _MAY_SEAL):
            continue
        offences += [f"{relative}:{line}" for line in _sealed_from_non_literals(path.read_text(encoding="utf-8"))]
    assert offences == []


def test_the_rule_catches_a_variable_an_f_string_or_a_concatenation() -> None:
    source = "Mrkdwn(user_text)\nMarkdown(f'{x}')\nPlainTitle('a' + b)\nMrkdwn('fine {}').format(x)\nSlackPlain('ok')"
    assert _sealed_from_non_literals(source) == [1, 2, 3]


def json_strings(payload: object) -> str:
    from tests.inert_judges import strings_in

    return "\n".join(strings_in(payload))


@pytest.mark.parametrize("text", HOSTILE)
def test_each_hostile_fragment_alone_stays_inert_on_github(text: str) -> None:
    card = card_for(text)
    assert github_live(render_markdown(card), our_urls(card)) == []
    assert title_live(render_issue_title(card)) == []
