"""Reference helpers the tests compare the classifier and the signature file against (never used by sitrep)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from functions.analysis.classify.classifier import UNKNOWN_SIGNATURE
from functions.analysis.classify.signatures import Signature, render_template
from functions.core.model import Action, Category


def naive_classify(signatures: Sequence[Signature], message: str) -> tuple[str, dict[str, str]]:
    """Reference semantics: try every pattern in
    file order with Python re (no set, no cache). Returns (signature id, entities)."""
    for sig in signatures:
        if sig.regex is None or sig.log_severity is not None or sig.http_status:
            continue
        entities = sig.search(message)
        if entities is not None:
            return sig.id, entities
    return UNKNOWN_SIGNATURE, {}


def action_for(sig: Signature, entities: Mapping[str, str], service: str = "") -> Action | None:
    """The signature's concrete action (entities and {service} filled in), or None without one."""
    if sig.action is None:
        return None
    values = {**entities, "service": service} if service else entities
    return Action(
        priority=sig.action.priority,
        text=render_template(sig.action.text, values),
        category=sig.category,
        signature=sig.id,
    )


def causal_graph(signatures: Iterable[Signature]) -> dict[Category, frozenset[Category]]:
    """Category-level edges (cause -> effects), the union of every signature's `causes`."""
    graph: dict[Category, set[Category]] = {}
    for sig in signatures:
        graph.setdefault(sig.category, set()).update(sig.causes)
    return {cat: frozenset(effects) for cat, effects in graph.items()}
