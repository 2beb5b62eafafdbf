"""Roots that are one problem become one root: minor roots set aside, one cause seen from several services
merged, same-kind roots of one service joined. Each rule is argued where its threshold is defined.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from functions.core.model import Category, RootCause

# A second root in a service whose leading root logged at least 1/MINOR_SHARE times more is
# background, shown as contributing rather than as a root. The argument is about attention, not about
# any example: a root cause line on the card says "fix this to end the outage". A cause that accounts
# for one line in twenty of its service's leading cause cannot explain a meaningful part of an outage
# that the leading cause does not already explain (it is within the noise of sampling and of ordinary
# background errors of a busy service), so it is listed, but not as a reason the service is down.
MINOR_SHARE = 0.05
# The same failure (one signature) in two services is one cause when they name the same dependency
# (a database instance, a host), or when it began in both within SAME_ONSET_S of each other: the
# lines of one event (a token expiring, an instance running out of connections) reach the logs
# within seconds, and a minute is the resolution of the card's timeline and of request metrics.
# Two independent failures of the same kind starting in the same minute is the rarer explanation.
SAME_ONSET_S = 60
_DEPENDENCY_ENTITIES = ("host", "instance", "bucket", "database")
# Entities that measure a failure rather than name what failed: differing values do not make two causes.
_MEASURES = frozenset({"status", "timeout_s", "exit_code", "port", "memory_limit"})
_MAX_NAMED_SERVICES = 5  # services named on the merged root's chain line; the rest are counted


def split_minor(ranked: Sequence[RootCause]) -> tuple[tuple[RootCause, ...], tuple[RootCause, ...]]:
    """(roots, minor roots): a root dwarfed by a higher-ranked root of the same service is minor."""
    kept: list[RootCause] = []
    minor: list[RootCause] = []
    for cause in ranked:
        lead = next((k for k in kept if k.service == cause.service), None)
        if lead is not None and cause.count <= lead.count * MINOR_SHARE:
            minor.append(cause)
        else:
            kept.append(cause)
    return tuple(kept), tuple(minor)


def same_event(a: RootCause, b: RootCause) -> bool:
    """Two services failing the same way because of one thing: the same signature, nothing named that
    differs (a module, a host), and either the same dependency named or the same onset (SAME_ONSET_S)."""
    if a.signature != b.signature or a.service == b.service:
        return False
    for name in set(a.entities) & set(b.entities) - _MEASURES:
        if a.entities[name] and b.entities[name] and not set(a.entities[name]) & set(b.entities[name]):
            return False  # they name different things (another module, another host): two causes
    for name in _DEPENDENCY_ENTITIES:
        if set(a.entities.get(name, ())) & set(b.entities.get(name, ())):
            return True
    if a.first_seen is None or b.first_seen is None:
        return False
    return abs((a.first_seen - b.first_seen).total_seconds()) <= SAME_ONSET_S


def merge_shared_cause(ranked: Sequence[RootCause]) -> tuple[RootCause, ...]:
    """One root for one cause seen from several services; it stays with the most hurt service (ranked
    first) and one line of its chain says where else it shows."""
    kept: list[RootCause] = []
    others: dict[int, list[RootCause]] = {}
    for cause in ranked:
        index = next((i for i, k in enumerate(kept) if same_event(k, cause)), None)
        if index is None:
            kept.append(cause)
        else:
            others.setdefault(index, []).append(cause)
    merged = []
    for index, lead in enumerate(kept):
        also = others.get(index, [])
        if also:
            names = [f"{c.service} (×{c.count})" for c in also[:_MAX_NAMED_SERVICES]]
            if len(also) > _MAX_NAMED_SERVICES:
                names.append(f"… and {len(also) - _MAX_NAMED_SERVICES} more")
            entities = dict(lead.entities)
            for cause in also:
                for k, v in cause.entities.items():
                    entities[k] = tuple(dict.fromkeys([*entities.get(k, ()), *v]))
            lead = replace(
                lead,
                chain=(*lead.chain, f"the same failure in {', '.join(names)}: one cause"),
                entities=entities,
            )
        merged.append(lead)
    return tuple(merged)



def merge_same_kind(ranked: list[RootCause]) -> list[RootCause]:
    """One root per (category, service): two database signatures in one service are one database problem."""
    merged: dict[tuple[Category, str], RootCause] = {}
    order: list[tuple[Category, str]] = []
    for cause in ranked:
        kind = (cause.category, cause.service)
        lead = merged.get(kind)
        if lead is None:
            merged[kind] = cause
            order.append(kind)
            continue
        entities = {k: tuple(dict.fromkeys([*lead.entities.get(k, ()), *v])) for k, v in cause.entities.items()}
        merged[kind] = replace(
            lead,
            count=lead.count + cause.count,
            chain=(*lead.chain, f"together with: {cause.summary} (×{cause.count})"),
            entities={**lead.entities, **entities},
        )
    return [merged[k] for k in order]
