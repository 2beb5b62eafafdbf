"""Incident stage: alert(s) + analysis → Incident (what is true) → Card (what a reader sees, redacted)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from urllib.parse import quote

from functions.core.model import (
    Action,
    Alert,
    AlertRef,
    AlertState,
    Card,
    Category,
    ComponentRow,
    Failure,
    Health,
    Incident,
    IncidentStatus,
    Link,
    RootCause,
    ServiceHealth,
    Severity,
    Template,
)
from functions.core.project_changes import WhatChanged

SPARK_CHARS = "▁▂▃▄▅▆▇█"
MAX_SPARK_BUCKETS = 40
COMPONENT_NAMES = {
    Category.DEPENDENCY_MISSING: "Dependencies",
    Category.CONTAINER_STARTUP: "Container startup",
    Category.DATABASE: "Database",
    Category.AUTH: "Auth",
    Category.NETWORK: "Network",
    Category.TLS: "TLS",
    Category.CONFIGURATION: "Configuration",
    Category.RESOURCE_EXHAUSTION: "Resources",
    Category.TIMEOUT: "Timeouts",
    Category.WEBSOCKET: "WebSocket",
    Category.APPLICATION: "Application",
    Category.NOISE: "Noise (not failures)",
    Category.UNKNOWN: "Unclassified",
}


def incident_key(alert: Alert) -> str:
    """Alerts of one project and environment while an incident is open share one incident (docs/ARCHITECTURE.md)."""
    env = alert.environment or alert.project_id
    return f"{alert.project_id}/{env}"


def with_group_environment(alert: Alert, labels: Sequence[str], default: str = "") -> Alert:
    """The environment an alert groups by: the first configured policy label present, else the
    deployment's own environment (SITREP_ENVIRONMENT), else what the notification implies (the project)."""
    for label in labels:
        value = alert.policy_labels.get(label)
        if value:
            return replace(alert, environment=value)
    if default and alert.environment in ("", alert.project_id):
        return replace(alert, environment=default)
    return alert


def _join(names: Sequence[str]) -> str:
    names = list(names)
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def health_phrase(services: Sequence[ServiceHealth]) -> str:
    """'backend and auth FAILING, frontend DEGRADED' — only the services that are not fine."""
    parts = []
    for status in (Health.FAILING, Health.DEGRADED):
        names = [h.service for h in services if h.status is status]
        if names:
            parts.append(f"{_join(names)} {status.value}")
    if parts:
        return ", ".join(parts)
    if services and all(h.status is Health.HEALTHY for h in services):
        return "all services healthy"
    return "service health unknown"


def root_phrase(cause: RootCause) -> str:
    where = f" in {cause.service}" if cause.service else ""
    deploy = f" (newest revision {cause.revision})" if cause.revision else ""
    return f"{cause.summary}{where}{deploy}"


def summarise(
    services: Sequence[ServiceHealth],
    roots: Sequence[RootCause],
    failures: Sequence[Failure],
    status: IncidentStatus,
) -> str:
    """The one sentence a reader gets in Slack's notification: what is broken and why."""
    lead = health_phrase(services)
    lead = lead[0].upper() + lead[1:]
    if status is IncidentStatus.RESOLVED:
        lead = f"Resolved. At last update: {lead[0].lower() + lead[1:]}"
    if roots:
        noun = "root cause" if len(roots) == 1 else f"{len(roots)} independent root causes"
        return f"{lead}. {noun[0].upper() + noun[1:]}: " + "; ".join(root_phrase(c) for c in roots) + "."
    real = [f for f in failures if f.category not in (Category.NOISE, Category.UNKNOWN)]
    if real:
        return f"{lead}. Most frequent failure: {real[0].summary} (×{real[0].count}); no single root cause found."
    if failures:
        return f"{lead}. No known failure signature matched; see the recurring messages."
    return f"{lead}. No error logs in the window."


def incident_severity(alerts: Sequence[Alert], services: Sequence[ServiceHealth]) -> Severity:
    """The alert's severity, raised to critical when a service is failing outright."""
    ranks = [a.severity for a in alerts] or [Severity.WARNING]
    worst = min(ranks, key=lambda s: s.rank)
    if any(h.status is Health.FAILING for h in services):
        return Severity.CRITICAL
    return worst


def logs_explorer_url(project: str, services: Sequence[str], start: datetime, end: datetime) -> str:
    query = 'resource.type="cloud_run_revision"\nseverity>=WARNING'
    if services:
        names = " OR ".join(f'"{s}"' for s in services)
        query += f"\nresource.labels.service_name=({names})"
    return (
        "https://console.cloud.google.com/logs/query;query="
        + quote(query, safe="")
        + f";startTime={start.strftime('%Y-%m-%dT%H:%M:%SZ')};endTime={end.strftime('%Y-%m-%dT%H:%M:%SZ')}"
        + f"?project={quote(project)}"
    )


def build_links(
    alerts: Sequence[Alert],
    services: Sequence[ServiceHealth],
    start: datetime | None,
    end: datetime,
    region: str,
) -> tuple[Link, ...]:
    if not alerts:
        return ()
    project = alerts[0].project_id
    links: list[Link] = []
    bad = [h.service for h in services if h.status in (Health.FAILING, Health.DEGRADED)]
    if start is not None:
        links.append(Link("Logs Explorer", logs_explorer_url(project, bad, start, end)))
    seen: set[str] = set()
    for alert in alerts:
        if alert.url and alert.url not in seen:
            seen.add(alert.url)
            links.append(Link(f"Incident: {alert.policy_name or alert.incident_id}"[:60], alert.url))
    if region:
        for service in bad[:3]:
            links.append(
                Link(
                    f"Cloud Run: {service}",
                    f"https://console.cloud.google.com/run/detail/{region}/{quote(service)}/metrics?project={quote(project)}",
                )
            )
    return tuple(links)


def build_incident(
    alerts: Sequence[Alert],
    *,
    services: tuple[ServiceHealth, ...],
    failures: tuple[Failure, ...],
    recurring: tuple[Template, ...],
    root_causes: tuple[RootCause, ...],
    contributing: tuple[RootCause, ...],
    actions: tuple[Action, ...],
    timeline: tuple[int, ...],
    timeline_start: datetime | None,
    timeline_step_s: int,
    records_analysed: int,
    sampled: bool,
    notes: tuple[str, ...],
    now: datetime,
    region: str = "",
    what_changed: WhatChanged | None = None,
    summary: str = "",
) -> Incident:
    """Assemble the Incident; pure: `now` is passed in. `summary` replaces the generated sentence
    when the analysis has its own verdict (a spike without a failure)."""
    if not alerts:
        raise ValueError("an incident needs at least one alert")
    status = (
        IncidentStatus.ACTIVE if any(a.state is AlertState.OPEN for a in alerts) else IncidentStatus.RESOLVED
    )
    started = min((a.started_at for a in alerts if a.started_at), default=None)
    ended = None
    if status is IncidentStatus.RESOLVED:
        ended = max((a.ended_at for a in alerts if a.ended_at), default=now)
    first = alerts[0]
    policies = list(dict.fromkeys(a.policy_name for a in alerts if a.policy_name))
    title = ", ".join(policies) or first.condition_name or first.incident_id
    window_start = timeline_start or started
    return Incident(
        key=incident_key(first),
        status=status,
        severity=incident_severity(alerts, services),
        environment=first.environment or first.project_id,
        project_id=first.project_id,
        title=title,
        summary=summary or summarise(services, root_causes, failures, status),
        started_at=started,
        ended_at=ended,
        generated_at=now,
        alerts=tuple(AlertRef(a.incident_id, a.policy_name, a.state, a.url) for a in alerts),
        services=services,
        failures=failures,
        recurring=recurring,
        root_causes=root_causes,
        contributing=contributing,
        actions=actions,
        timeline=timeline,
        timeline_start=timeline_start,
        timeline_step_s=timeline_step_s,
        records_analysed=records_analysed,
        sampled=sampled,
        links=build_links(alerts, services, window_start, ended or now, region),
        notes=notes,
        region=region,
        what_changed=what_changed,
    )


def sparkline(values: Sequence[int]) -> str:
    """Per-bucket counts as ▁▂▅█ so the onset and trend read without a chart."""
    if not values:
        return ""
    peak = max(values)
    if peak == 0:
        return SPARK_CHARS[0] * len(values)
    top = len(SPARK_CHARS) - 1
    return "".join(
        " " if v == 0 else SPARK_CHARS[max(0, min(top, round(v / peak * top)))] for v in values
    ).replace(" ", SPARK_CHARS[0])


def rebucket(values: Sequence[int], step_s: int, limit: int = MAX_SPARK_BUCKETS) -> tuple[list[int], int]:
    """Merge adjacent buckets until there are at most `limit`; returns (values, new step)."""
    factor = max(1, -(-len(values) // limit))
    merged = [sum(values[i : i + factor]) for i in range(0, len(values), factor)]
    return merged, step_s * factor


def _duration(start: datetime | None, end: datetime) -> str:
    if start is None:
        return ""
    minutes = max(0, int((end - start).total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest:02d} min"


def _since(start: datetime | None, now: datetime) -> str:
    """'since 14:02 UTC', with the date when the incident began on an earlier day."""
    if start is None:
        return ""
    day = "" if start.date() == now.date() else f"{start:%b} {start.day} "
    return f"since {day}{start:%H:%M} UTC"


def _spark_caption(incident: Incident, step_s: int, values: Sequence[int]) -> str:
    if not values or incident.timeline_start is None:
        return ""
    start = incident.timeline_start
    end = start + timedelta(seconds=step_s * len(values))
    peak = max(values)
    peak_at = start + timedelta(seconds=step_s * values.index(peak))
    unit = "min" if step_s == 60 else f"{step_s // 60} min"
    return (
        f"errors per {unit}, {start.strftime('%H:%M')}–{end.strftime('%H:%M')} UTC; "
        f"peak {peak} at {peak_at.strftime('%H:%M')}"
    )


def build_card(incident: Incident, redact: Callable[[str], str]) -> Card:
    """The neutral card; every log-derived string passes through `redact` before any renderer sees it."""
    end = incident.ended_at or incident.generated_at
    duration = _duration(incident.started_at, end)
    status_line = " · ".join(
        p
        for p in (
            incident.status.value,
            incident.severity.value.upper(),
            incident.environment,
            # An active card says since when, not "for N min": that stays true between updates, so no
            # edit is needed just to advance a clock (the tick writes only what changed materially).
            (_since(incident.started_at, incident.generated_at) if incident.status is IncidentStatus.ACTIVE
             else f"lasted {duration}")
            if duration
            else "",
        )
        if p
    )
    roots = tuple(
        replace(c, evidence=redact(c.evidence), chain=tuple(redact(x) for x in c.chain), summary=redact(c.summary))
        for c in incident.root_causes
    )
    contributing = tuple(
        replace(c, evidence=redact(c.evidence), chain=tuple(redact(x) for x in c.chain), summary=redact(c.summary))
        for c in incident.contributing
    )
    # What failed comes first; the known-harmless notices after it, however often they were logged, so
    # the reader's first rows are the ones to act on (each renderer marks noise as harmless).
    recurring = tuple(
        replace(t, text=redact(t.text), example=redact(t.example))
        for t in sorted(incident.recurring, key=lambda t: t.category is Category.NOISE)
    )
    actions = tuple(replace(a, text=redact(a.text)) for a in incident.actions)
    values, step = rebucket(list(incident.timeline), incident.timeline_step_s)
    icon = "RESOLVED" if incident.status is IncidentStatus.RESOLVED else incident.severity.value.upper()
    headline_roots = "; ".join(root_phrase(c) for c in roots[:2])
    headline = f"[{icon}] {incident.environment}: {health_phrase(incident.services)}"
    if headline_roots:
        headline += f" — {headline_roots}"
    notes = list(incident.notes)
    if incident.sampled:
        notes.insert(
            0,
            f"Log counts come from a sample of {incident.records_analysed:,} entries; "
            "request ratios and signature counts come from metrics where available.",
        )
    return Card(
        key=incident.key,
        status=incident.status,
        severity=incident.severity,
        headline=redact(headline),
        status_line=status_line,
        summary=redact(incident.summary),
        health=incident.services,
        root_causes=roots,
        contributing=contributing,
        actions=actions,
        components=component_rows(incident.failures, redact),
        recurring=recurring,
        sparkline=sparkline(values),
        sparkline_caption=_spark_caption(incident, step, values),
        links=incident.links,
        notes=tuple(notes),
        alerts=incident.alerts,
        evidence_total=incident.records_analysed,
        sampled=incident.sampled,
        what_changed=redact_what_changed(incident.what_changed, redact),
    )


def with_resolution(card: Card, why: str) -> Card:
    """The resolved card saying how it ended when no alert said so (a person, a quiet period, reconciliation)."""
    return replace(card, status_line=f"{card.status_line} · {why}")


def redact_what_changed(section: WhatChanged | None, redact: Callable[[str], str]) -> WhatChanged | None:
    """Who, what and the diff come from audit entries and request bodies: redacted like log text."""
    if section is None:
        return None
    changes = tuple(
        replace(
            c,
            actor=redact(c.actor),
            subject=redact(c.subject),
            verb=redact(c.verb),
            details=tuple(redact(d) for d in c.details),
            linked=tuple(redact(x) for x in c.linked),
        )
        for c in section.changes
    )
    return WhatChanged(changes, redact(section.note))


def component_rows(failures: Sequence[Failure], redact: Callable[[str], str]) -> tuple[ComponentRow, ...]:
    """The seed's component table: one row per category, its count and its most frequent issue."""
    by_category: dict[Category, list[Failure]] = {}
    for failure in failures:
        by_category.setdefault(failure.category, []).append(failure)
    rows = []
    for category, group in by_category.items():
        group.sort(key=lambda f: -f.count)
        services = tuple(dict.fromkeys(s for f in group for s in f.services))
        rows.append(
            ComponentRow(
                component=COMPONENT_NAMES[category],
                count=sum(f.count for f in group),
                services=services,
                primary_issue=redact(group[0].summary),
            )
        )
    noise_last = {COMPONENT_NAMES[Category.NOISE], COMPONENT_NAMES[Category.UNKNOWN]}
    return tuple(sorted(rows, key=lambda r: (r.component in noise_last, -r.count)))
