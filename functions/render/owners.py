"""The only mentions sitrep makes: owners from configuration (validated in functions.incidents.owners),
written here in each surface's mention syntax. Service names beside them are escaped like any text."""

from __future__ import annotations

from collections.abc import Sequence

from functions.render.inert import Markdown, Mrkdwn, md_text, mrkdwn
from functions.render.slack import SlackMessage, message_of


def slack_mention(handle: str) -> str:
    """`<!subteam^S…>` for a user group, `<@U…>` for a user."""
    return f"<!subteam^{handle}>" if handle.startswith("S") else f"<@{handle}>"


def render_owners_slack(due: Sequence[tuple[str, Sequence[str]]]) -> SlackMessage:
    """The owners' mentions in the incident's thread; the handles were validated as Slack ids."""
    parts = [f"{' '.join(slack_mention(h) for h in handles)} ({mrkdwn(service)})" for service, handles in due]
    return message_of(Mrkdwn("📣 Owners: " + "; ".join(parts)))


def render_owners_markdown(due: Sequence[tuple[str, Sequence[str]]]) -> Markdown:
    """The owners' mentions on the tracking issue; the handles were validated as GitHub logins or teams."""
    parts = [f"{' '.join('@' + h for h in handles)} ({md_text(service)})" for service, handles in due]
    return Markdown("📣 Owners: " + "; ".join(parts) + "\n")


__all__ = ["render_owners_markdown", "render_owners_slack", "slack_mention"]
