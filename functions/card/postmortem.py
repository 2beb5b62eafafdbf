"""The postmortem draft: what happened, in order, with its impact and causes, as neutral data.

Built when an incident resolves (functions.incidents.postmortem) from its ledger entry and last card,
then rendered per surface (functions.render.postmortem): the full draft as the tracking issue's final
comment, a three-line summary in the Slack thread. Every `detail` and name here may come from logs,
alerts or people; only the renderers turn it into markup, escaping it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from functions.core.model import RootCause, Severity


@dataclass(frozen=True)
class TimelineEvent:
    """One moment: `label` is ours (a fixed word), `detail` is untrusted text."""

    at: datetime | None
    label: str
    detail: str = ""


@dataclass(frozen=True)
class ServiceImpact:
    service: str
    status: str
    peak_error_ratio: float
    failed_requests: int
    requests: int


@dataclass(frozen=True)
class Postmortem:
    key: str
    environment: str
    severity: Severity
    started_at: datetime | None
    resolved_at: datetime | None
    resolution: str
    timeline: tuple[TimelineEvent, ...]
    impact: tuple[ServiceImpact, ...]
    root_causes: tuple[RootCause, ...]
    actions_taken: tuple[str, ...]
    follow_ups: tuple[str, ...]
    issue_url: str = ""

    @property
    def duration_minutes(self) -> int | None:
        if self.started_at is None or self.resolved_at is None:
            return None
        return max(0, int((self.resolved_at - self.started_at).total_seconds() // 60))


__all__ = ["Postmortem", "ServiceImpact", "TimelineEvent"]
