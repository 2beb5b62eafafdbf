"""Health stage: judge each service FAILING / DEGRADED / HEALTHY / UNKNOWN, with the numbers that decided it."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from functions.core.model import Category, Failure, Health, RequestStats, ServiceHealth, Severity

# 429 is the service refusing work (max instances reached, a dependency's quota or rate limit
# passed on), not a client mistake: for health it counts as a failed request, like a 5xx.
THROTTLED_STATUS = 429


@dataclass(frozen=True)
class HealthThresholds:
    """Thresholds for health; every value is a setting documented in the README."""

    failing_5xx_ratio: float = 0.5
    degraded_5xx_ratio: float = 0.05
    degraded_4xx_ratio: float = 0.25
    min_requests: int = 5
    failing_failed_starts: int = 3


def _pct(ratio: float) -> str:
    return f"{ratio * 100:.0f}%"


def _top_statuses(stats: RequestStats, low: int, high: int, limit: int = 2) -> str:
    codes = sorted(
        ((code, n) for code, n in stats.by_status.items() if low <= code <= high),
        key=lambda item: (-item[1], item[0]),
    )[:limit]
    return ", ".join(f"{code} ×{n}" for code, n in codes)


def _failed_starts(failures: Iterable[Failure], service: str, failed_start: frozenset[str]) -> int:
    """Instances that could not start, counted once per start attempt.

    A failed start shows up as several lines (exit, probe failure, request failure); the
    largest of those counts is the best estimate of attempts, not their sum.
    """
    best = 0
    for failure in failures:
        if failure.signature in failed_start:
            best = max(best, failure.counts_by_service.get(service, 0))
    return best


def _error_findings(failures: Iterable[Failure], service: str) -> tuple[int, int]:
    """(critical-or-error findings, warning findings) of a service, noise excluded."""
    errors = warnings = 0
    for failure in failures:
        if failure.category is Category.NOISE:
            continue  # unclassified errors still count: an ERROR line nobody has a signature for is an error
        n = failure.counts_by_service.get(service, 0)
        if failure.severity in (Severity.CRITICAL, Severity.ERROR):
            errors += n
        elif failure.severity is Severity.WARNING:
            warnings += n
    return errors, warnings


SHARPER_BY = 0.15  # the newest revision's 5xx share must exceed the window's by this much to be worth a line
_REVISION_NUMBER = re.compile(r"-(\d{3,6})-[a-z0-9]{2,4}$")


def revision_number(revision: str) -> int:
    """Cloud Run's revision sequence number (backend-00742-b95 → 742), -1 when the name has none."""
    match = _REVISION_NUMBER.search(revision)
    return int(match.group(1)) if match else -1


def _newest_revision_failing(stats: RequestStats, thresholds: HealthThresholds) -> tuple[str, float] | None:
    """(reason, its 5xx ratio) when the newest of several serving revisions is failing on its own.

    A deploy late in the window is diluted by the good traffic before it: the service's whole-window
    ratio may say DEGRADED while everything the newest revision served fails.
    """
    revisions = sorted((r for r in stats.by_revision_total if revision_number(r) >= 0), key=revision_number)
    if len(revisions) < 2:
        return None
    newest = revisions[-1]
    total = stats.by_revision_total[newest]
    failed = stats.by_revision_5xx.get(newest, 0)
    if total < thresholds.min_requests or failed / total < thresholds.failing_5xx_ratio:
        return None
    return f"newest revision {newest}: {_pct(failed / total)} 5xx ({failed}/{total} requests)", failed / total


def judge_service(
    service: str,
    stats: RequestStats | None,
    failures: tuple[Failure, ...],
    thresholds: HealthThresholds,
    failed_start: frozenset[str] = frozenset(),
) -> ServiceHealth:
    """Health of one service: request ratios first, startup failures and findings after."""
    reasons: list[str] = []
    failed_starts = _failed_starts(failures, service, failed_start)
    errors, warnings = _error_findings(failures, service)
    status = Health.UNKNOWN
    requests = stats.total if stats else 0
    ratio_5xx = stats.ratio("5xx") if stats else 0.0
    has_traffic = stats is not None and requests >= thresholds.min_requests

    if stats is not None and has_traffic:
        n5 = stats.by_class.get("5xx", 0)
        n4 = stats.by_class.get("4xx", 0)
        n429 = stats.by_status.get(THROTTLED_STATUS, 0)
        ratio_4xx = stats.ratio("4xx")
        ratio_429 = n429 / requests
        ratio_failed = ratio_5xx + ratio_429
        source = "" if stats.source == "metrics" else " in logs"
        if ratio_failed >= thresholds.failing_5xx_ratio:
            status = Health.FAILING
        elif ratio_failed >= thresholds.degraded_5xx_ratio or ratio_4xx >= thresholds.degraded_4xx_ratio:
            status = Health.DEGRADED
        else:
            status = Health.HEALTHY
        if n5:
            top = _top_statuses(stats, 500, 599)
            reasons.append(f"{_pct(ratio_5xx)} 5xx ({n5}/{requests} requests{source}{'; ' + top if top else ''})")
        if n429 and ratio_429 >= thresholds.degraded_5xx_ratio:
            reasons.append(f"{_pct(ratio_429)} 429 throttled ({n429}/{requests} requests{source})")
        if ratio_4xx >= thresholds.degraded_4xx_ratio and n4 > n429:
            top = _top_statuses(stats, 400, 499)
            reasons.append(f"{_pct(ratio_4xx)} 4xx ({n4}/{requests} requests{source}{'; ' + top if top else ''})")
        if not reasons:
            reasons.append(f"{_pct(ratio_5xx)} 5xx of {requests} requests{source}")
        newest = _newest_revision_failing(stats, thresholds)
        # Shown when it changes the verdict or is much sharper than the window; else it repeats its numbers.
        if newest and (status is not Health.FAILING or newest[1] - ratio_5xx >= SHARPER_BY):
            reasons.insert(0, newest[0])
            status = Health.FAILING
    if failed_starts:
        reasons.append(f"{failed_starts} failed start{'s' if failed_starts != 1 else ''}")
        if failed_starts >= thresholds.failing_failed_starts and (not has_traffic or ratio_5xx > 0):
            status = Health.FAILING
        elif status in (Health.HEALTHY, Health.UNKNOWN):
            status = Health.DEGRADED
    if not has_traffic:
        if errors:
            reasons.append(f"{errors} error log{'s' if errors != 1 else ''}, no request data")
            if status is Health.UNKNOWN:
                status = Health.DEGRADED
        elif warnings and status is Health.UNKNOWN:
            reasons.append(f"{warnings} warning{'s' if warnings != 1 else ''}, no request data")
            status = Health.DEGRADED
        elif status is Health.UNKNOWN:
            reasons.append("no request data and no errors")
    elif errors and status is Health.HEALTHY:
        reasons.append(f"{errors} error log{'s' if errors != 1 else ''}")
    return ServiceHealth(
        service=service,
        status=status,
        reasons=tuple(reasons),
        requests=requests,
        error_ratio=ratio_5xx,
        failed_starts=failed_starts,
    )


_ORDER = {Health.FAILING: 0, Health.DEGRADED: 1, Health.UNKNOWN: 2, Health.HEALTHY: 3}


def compute_health(
    services: Iterable[str],
    request_stats: Mapping[str, RequestStats],
    failures: tuple[Failure, ...],
    thresholds: HealthThresholds | None = None,
    failed_start: frozenset[str] = frozenset(),
) -> tuple[ServiceHealth, ...]:
    """Health of every service, worst first (then by name), so the card leads with what is broken.

    `failed_start` names the signatures whose occurrences are instances that never started
    (the signature file marks them), so startup failures count even without request data.
    """
    thresholds = thresholds or HealthThresholds()
    names = set(services) | set(request_stats)
    for failure in failures:
        names.update(failure.services)
    names.discard("")
    judged = [judge_service(name, request_stats.get(name), failures, thresholds, failed_start) for name in names]
    return tuple(sorted(judged, key=lambda h: (_ORDER[h.status], -h.error_ratio, h.service)))
