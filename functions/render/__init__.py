"""Renderers: one neutral Card, formatted per destination (terminal, GitHub, Slack, JSON).

Every renderer is pure (no I/O, no clock) and owns its platform's limits as named constants.
`render` picks one by name for the command line and the pipeline.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from functions.card.incident import build_card
from functions.core.model import Card, Incident
from functions.redaction.redact import redact as default_redact
from functions.render.jsonout import render_json
from functions.render.markdown import render_markdown, render_markdown_update
from functions.render.slack import render_slack, render_slack_thread_update
from functions.render.text import render_text

FORMATS = ("text", "markdown", "slack", "json")


def render(
    subject: Card | Incident,
    fmt: str,
    *,
    incident: Incident | None = None,
    redact: Callable[[str], str] = default_redact,
    color: bool = False,
    width: int = 100,
    interactive: bool = False,
) -> str | dict[str, Any]:
    """Render a card (or an incident, whose card is built with `redact`) as text, markdown, slack or json.

    text and markdown give a str; slack gives {"text", "blocks"} and json the analysis dict.
    json needs the Incident: pass it as `subject` or as `incident=`.
    """
    if isinstance(subject, Incident):
        incident = subject
        card = build_card(subject, redact)
    else:
        card = subject
    if fmt == "text":
        return render_text(card, color=color, width=width)
    if fmt == "markdown":
        return render_markdown(card)
    if fmt == "slack":
        return dict(render_slack(card, interactive=interactive))
    if fmt == "json":
        if incident is None:
            raise ValueError("json output needs the Incident: pass it as the subject or as incident=")
        return render_json(incident, card, redact=redact)
    raise ValueError(f"unknown format {fmt!r}: expected one of {', '.join(FORMATS)}")


__all__ = [
    "FORMATS",
    "render",
    "render_json",
    "render_markdown",
    "render_markdown_update",
    "render_slack",
    "render_slack_thread_update",
    "render_text",
]
