"""What changed between two delivered cards: the one diff every surface renders (Slack thread, issue comment).

A card is remembered as a `Snapshot` (its material facts, stored in the ledger) because the next update
sees only the ledger, never the previous Card. `describe_changes` compares two snapshots and returns
neutral `Change` lines; each renderer escapes their text for its own surface, since service names, root
summaries and policy names come from logs and alerts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from functions.core.model import Card, Health


@dataclass(frozen=True)
class Change:
    """One thing that changed: a fixed label and a plain-text detail that each renderer escapes for itself."""

    label: str
    detail: str


@dataclass(frozen=True)
class Snapshot:
    """The material facts of the last delivered card, to say what changed in a thread reply."""

    status: str = ""
    severity: str = ""
    health: Mapping[str, str] = field(default_factory=dict)
    roots: tuple[str, ...] = ()
    templates: tuple[str, ...] = ()


NOTHING_MATERIAL: Final = Change("Evidence refreshed", "nothing material changed")


def snapshot_of(card: Card) -> Snapshot:
    return Snapshot(
        status=card.status.value,
        severity=card.severity.value,
        health={h.service: h.status.value for h in card.health},
        roots=tuple(f"{r.summary} in {r.service}" if r.service else r.summary for r in card.root_causes),
        templates=tuple(t.template_id for t in card.recurring),
    )


def describe_changes(before: Snapshot, after: Snapshot) -> tuple[Change, ...]:
    """Severity, health moves, roots found or gone, new recurring messages; empty when nothing material changed."""
    changes: list[Change] = []
    if before.severity and before.severity != after.severity:
        changes.append(Change("Severity", f"{before.severity} → {after.severity}"))
    for service, status in after.health.items():
        old = before.health.get(service)
        if old and old != status:
            changes.append(Change(service, f"{old} → {status}"))
        elif old is None and before.health and status in (Health.FAILING.value, Health.DEGRADED.value):
            changes.append(Change(service, f"now {status}"))
    changes += [Change("New root cause", root) for root in after.roots if root not in before.roots]
    changes += [Change("No longer seen", root) for root in before.roots if root not in after.roots]
    new_templates = [t for t in after.templates if before.templates and t not in before.templates]
    if new_templates:
        plural = "s" if len(new_templates) != 1 else ""
        changes.append(Change(f"New recurring message{plural}", f"{len(new_templates):,}"))
    return tuple(changes)


__all__ = ["NOTHING_MATERIAL", "Change", "Snapshot", "describe_changes", "snapshot_of"]
