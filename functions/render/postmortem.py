"""The postmortem draft rendered: GitHub Markdown for the tracking issue's final comment, and the
three-line Slack thread summary that links to it.

Everything in a `Postmortem` that came from logs, alerts or people (policy names, who clicked, root
summaries, chains, actions) goes through `md_text` / `md_inline` (Markdown) or `mrkdwn` (Slack), so it
stays inert text: no mention, link or formatting can come from it.
"""

from __future__ import annotations

from functions.card.postmortem import Postmortem
from functions.render.inert import Markdown, Mrkdwn, md_text, mrkdwn, one_line
from functions.render.markdown import md_code, md_inline
from functions.render.slack import SlackMessage, fit, message_of
from functions.render.text import clip, hhmm

PM_MAX_DETAIL = 300
PM_MAX_ITEMS = 50
PM_MAX_CHAIN_STEPS = 8
SLACK_SUMMARY_MAX_LINE = 300


def _when(moment: object) -> str:
    from datetime import datetime

    return f"{hhmm(moment)} UTC" if isinstance(moment, datetime) else "—"


def _duration(pm: Postmortem) -> str:
    minutes = pm.duration_minutes
    if minutes is None:
        return "unknown"
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


def render_postmortem_markdown(pm: Postmortem) -> Markdown:
    """The draft a human finishes: timeline, impact, root causes with chains, actions taken, follow-ups."""
    lines = [
        f"## 📝 Postmortem draft · {md_text(pm.environment or pm.key)}",
        "",
        f"**{pm.severity.value.upper()}** · lasted {_duration(pm)} · resolved: "
        f"{md_text(clip(one_line(pm.resolution or 'yes'), PM_MAX_DETAIL))}",
        "",
        "### Timeline (UTC)",
        "",
        "| when | what | detail |",
        "|---|---|---|",
    ]
    for event in pm.timeline[:PM_MAX_ITEMS]:
        detail = md_text(clip(one_line(event.detail), PM_MAX_DETAIL))  # md_text escapes `|` too
        lines.append(f"| {_when(event.at)} | {md_text(event.label)} | {detail} |")
    lines += ["", "### Impact", ""]
    if pm.impact:
        lines += ["| service | status at the end | peak 5xx ratio | failed requests | requests |",
                  "|---|---|--:|--:|--:|"]
        for s in pm.impact[:PM_MAX_ITEMS]:
            lines.append(f"| {md_text(clip(s.service, PM_MAX_DETAIL))} | {md_text(s.status)} | "
                         f"{s.peak_error_ratio * 100:.0f}% | {s.failed_requests:,} | {s.requests:,} |")
    else:
        lines.append("_No request counts were available._")
    lines += ["", f"Duration: {_duration(pm)}.", "", "### Root causes", ""]
    if not pm.root_causes:
        lines.append("_No root cause was identified; fill in._")
    for i, root in enumerate(pm.root_causes[:PM_MAX_ITEMS], start=1):
        where = f" in {root.service}" if root.service else ""
        lines.append(f"{i}. **{md_text(clip(one_line(root.summary + where), PM_MAX_DETAIL))}** "
                     f"· {md_code(root.category.value)} · ×{root.count:,}")
        for step in root.chain[:PM_MAX_CHAIN_STEPS]:
            lines.append(f"   - {md_text(clip(one_line(step), PM_MAX_DETAIL))}")
    lines += ["", "### Actions taken", ""]
    lines += [f"- {md_text(clip(one_line(a), PM_MAX_DETAIL))}" for a in pm.actions_taken[:PM_MAX_ITEMS]]
    lines += ["", "### Follow-ups", ""]
    follow = [f"- [ ] {md_inline(clip(one_line(f), PM_MAX_DETAIL * 2))}" for f in pm.follow_ups[:PM_MAX_ITEMS]]
    lines += follow or ["- [ ] Identify the root cause and how to prevent it"]
    lines += ["- [ ] Review this draft: what would have caught it sooner?", ""]
    return Markdown("\n".join(lines))


def _slack_url(url: str) -> str:
    """`<url|postmortem>` for an http(s) URL of ours; anything else is left out."""
    url = url.strip()
    if not url.lower().startswith(("https://", "http://")) or len(url) > 2_000:
        return ""
    safe = url.replace("&", "&amp;").replace("<", "%3C").replace(">", "%3E").replace("|", "%7C")
    return f"<{safe}|postmortem draft>"


def render_postmortem_slack(pm: Postmortem) -> SlackMessage:
    """Three lines for the Slack thread: how it ended, what caused it, where the draft is."""
    first = fit(f"✅ *Resolved* after {_duration(pm)} · {mrkdwn(pm.resolution or 'resolved')}",
                SLACK_SUMMARY_MAX_LINE)
    if pm.root_causes:
        more = f" (+{len(pm.root_causes) - 1} more)" if len(pm.root_causes) > 1 else ""
        root = pm.root_causes[0]
        where = f" in {root.service}" if root.service else ""
        second = fit(f"Root cause: {mrkdwn(root.summary + where)}{more}", SLACK_SUMMARY_MAX_LINE)
    else:
        second = "Root cause: not identified"
    link = _slack_url(pm.issue_url)
    third = f"📝 {link} in the tracking issue" if link else "📝 Postmortem draft in the tracking issue"
    return message_of(Mrkdwn("\n".join((first, second, third))))


__all__ = ["render_postmortem_markdown", "render_postmortem_slack"]
