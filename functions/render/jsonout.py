"""JSON renderer: the analysis as data (docs/ARCHITECTURE.md), for `replay --format json` and for machines.

Named `jsonout` so that nothing here can shadow the standard library's `json`.

Every log-derived string comes out redacted: the card's redacted texts are used where the card
has them (summary, root causes, recurring templates, actions, notes) and everything else that
came from logs (failure summaries and entities, root-cause entities) goes through `redact`,
which defaults to `functions.redaction.redact.redact`, so there is no way to ask for unredacted output.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from functions.card.incident import build_card
from functions.core.model import Card, Failure, Incident, RootCause, Template
from functions.core.project_changes import ProjectChange
from functions.redaction.redact import redact as default_redact
from functions.render.text import utc

Redactor = Callable[[str], str]


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z; milliseconds only when there are any."""
    if moment is None:
        return None
    moment = utc(moment)
    spec = "milliseconds" if moment.microsecond else "seconds"
    return moment.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


def _entities(entities: Mapping[str, Sequence[str]], redact: Redactor) -> dict[str, list[str]]:
    return {name: [redact(str(v)) for v in entities[name]] for name in sorted(entities)}


def _failure(f: Failure, redact: Redactor) -> dict[str, Any]:
    return {
        "category": f.category.value,
        "signature": f.signature,
        "count": f.count,
        "services": list(f.services),
        "entities": _entities(f.entities, redact),
        "summary": redact(f.summary),
        "severity": f.severity.value,
        "first_seen": iso(f.first_seen),
        "last_seen": iso(f.last_seen),
        "revisions": list(f.revisions),
        "counts_by_service": dict(f.counts_by_service),
    }


def _template(t: Template) -> dict[str, Any]:
    """From the card: its text and example are already redacted."""
    return {
        "template_id": t.template_id,
        "template": t.text,
        "count": t.count,
        "category": t.category.value,
        "signature": t.signature,
        "services": list(t.services),
        "first_seen": iso(t.first_seen),
        "last_seen": iso(t.last_seen),
        "new": t.is_new,
        "example": t.example,
    }


def _root(c: RootCause, redact: Redactor) -> dict[str, Any]:
    """From the card: summary, chain and evidence are already redacted; entities are not, so they are here."""
    return {
        "category": c.category.value,
        "signature": c.signature,
        "service": c.service,
        "summary": c.summary,
        "chain": list(c.chain),
        "count": c.count,
        "severity": c.severity.value,
        "first_seen": iso(c.first_seen),
        "evidence": c.evidence,
        "revision": c.revision,
        "previous_revision": c.previous_revision,
        "entities": _entities(c.entities, redact),
    }


def render_json(incident: Incident, card: Card | None = None, *, redact: Redactor = default_redact) -> dict[str, Any]:
    """The analysis as a JSON-ready dict with stable key order; `card` is built with `redact` when not given."""
    if card is None:
        card = build_card(incident, redact)
    elif card.key != incident.key:
        raise ValueError(f"card {card.key!r} is not the card of incident {incident.key!r}")
    return {
        "incident": {
            "key": incident.key,
            "status": incident.status.value,
            "severity": incident.severity.value,
            "started_at": iso(incident.started_at),
            "ended_at": iso(incident.ended_at),
            "generated_at": iso(incident.generated_at),
            "environment": incident.environment,
            "project_id": incident.project_id,
            "region": incident.region,
            "title": redact(incident.title),
            "headline": card.headline,
            "status_line": card.status_line,
            "alerts": [
                {"incident_id": a.incident_id, "policy_name": a.policy_name, "state": a.state.value, "url": a.url}
                for a in incident.alerts
            ],
        },
        "summary": card.summary,
        "services": [
            {
                "service": h.service,
                "health": h.status.value,
                "reasons": list(h.reasons),
                "requests": h.requests,
                "error_ratio": round(h.error_ratio, 4),
                "failed_starts": h.failed_starts,
            }
            for h in incident.services
        ],
        "failures": [_failure(f, redact) for f in incident.failures],
        "components": [
            {"component": r.component, "count": r.count, "services": list(r.services), "primary_issue": r.primary_issue}
            for r in card.components
        ],
        "recurring": [_template(t) for t in card.recurring],
        "root_causes": [_root(c, redact) for c in card.root_causes],
        "contributing": [_root(c, redact) for c in card.contributing],
        "actions": [
            {
                "priority": a.priority.value,
                "text": a.text,
                "category": a.category.value if a.category else None,
                "signature": a.signature,
            }
            for a in card.actions
        ],
        "timeline": {
            "start": iso(incident.timeline_start),
            "step_seconds": incident.timeline_step_s,
            "counts": list(incident.timeline),
            "sparkline": card.sparkline,
            "caption": card.sparkline_caption,
        },
        "evidence": {"records_analysed": incident.records_analysed, "sampled": incident.sampled},
        "links": [{"label": link.label, "url": link.url} for link in incident.links],
        "notes": list(card.notes),
        "changes": [_change(c) for c in card.what_changed.changes] if card.what_changed else [],
        "changes_note": card.what_changed.note if card.what_changed else None,
    }


def _change(c: ProjectChange) -> dict[str, Any]:
    """From the card: actor, subject, details are already redacted; env var names only, never values."""
    return {
        "kind": c.kind.value,
        "at": iso(c.at),
        "actor": c.actor,
        "subject": c.subject,
        "verb": c.verb,
        "details": list(c.details),
        "service": c.service,
        "revision": c.revision,
        "previous_revision": c.previous_revision,
        "env_removed": list(c.env_removed),
        "env_changed": list(c.env_changed),
        "env_added": list(c.env_added),
        "image_changed": c.image_changed,
        "linked_to": list(c.linked),
    }
