"""Small builders for hand-made analysis values, so tests state only what matters to them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from functions.core.model import Category, Failure, RequestStats, Severity

T0 = datetime(2025, 9, 16, 1, 0, tzinfo=UTC)


def at(minute: float) -> datetime:
    return T0 + timedelta(minutes=minute)


def failure(
    signature: str,
    category: Category,
    count: int = 10,
    service: str = "backend",
    *,
    severity: Severity = Severity.ERROR,
    summary: str = "",
    entities: dict[str, tuple[str, ...]] | None = None,
    first: float = 0,
    last: float = 30,
    counts_by_service: dict[str, int] | None = None,
) -> Failure:
    by_service = counts_by_service or {service: count}
    return Failure(
        category=category,
        signature=signature,
        severity=severity,
        summary=summary or signature.replace("-", " "),
        count=sum(by_service.values()),
        services=tuple(by_service),
        entities=entities or {},
        first_seen=at(first),
        last_seen=at(last),
        example=f"example of {signature}",
        counts_by_service=by_service,
    )


def stats(service: str, source: str = "metrics", **by_class: int) -> RequestStats:
    """stats("backend", _2xx=10, _5xx=90) — leading underscores because names can't start with digits."""
    return RequestStats(service=service, by_class={k.lstrip("_"): v for k, v in by_class.items()}, source=source)
