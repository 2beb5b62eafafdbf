"""Health stage: judge each service FAILING / DEGRADED / HEALTHY / UNKNOWN, with the numbers that decided it."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from functions.core.model import (
    Category,
    ClientErrors,
    Failure,
    Health,
    JobStats,
    RequestStats,
    ServiceHealth,
    Severity,
)

# 429 is the service refusing work (max instances reached, a dependency's quota or rate limit
# passed on), not a client mistake: for health it counts as a failed request, like a 5xx.
THROTTLED_STATUS = 429


@dataclass(frozen=True)
class HealthThresholds:
    """Thresholds for health; every value is a setting documented in the README.

    Each is argued from what it means, so that it holds for an outage nobody here has seen:

    - failing_5xx_ratio 0.5: FAILING means most callers get an error (docs/ARCHITECTURE.md). "Most" is a
      majority, whatever the service: below it the service still answers most of its callers.
    - degraded_5xx_ratio 0.05: one request in twenty failing. A service kept to a 99.9% monthly
      availability objective (0.1% errors) burns its whole month's error budget in about 14 hours at
      5% (0.001 / 0.05 × 30 days): an error rate someone must look at today, not a blip.
    - degraded_4xx_ratio 0.25: a quarter of all requests refused by the server after the 4xx that are
      correct answers to one client (see `_excused_4xx`) are set aside. The client errors of a
      working API (unknown ids, failed validation) are a minority of its traffic; a quarter refused
      means a contract the callers rely on has changed (a route removed, a method no longer allowed).
    - min_requests 5: below five requests one failure is already 20%: too few to state a ratio, so the
      logs decide instead ("no request data").
    - failing_failed_starts 3: one failed start can be a single bad instance and the platform retries
      it; three means the start-up itself fails again and again (a crash loop), not an accident.
    """

    failing_5xx_ratio: float = 0.5
    degraded_5xx_ratio: float = 0.05
    degraded_4xx_ratio: float = 0.25
    min_requests: int = 5
    failing_failed_starts: int = 3


# The 4xx of one client are that client's business, not the server's failure, when that client is
# *the* source of them (more than all others together: share > ONE_CLIENT_SHARE) and its refusals
# are either of its credentials (401/403: the server checking a token is the server working), or
# spread over many paths (at least SCANNED_PATHS distinct ones: a client using a service calls the
# few endpoints of its contract; one refused on ten different paths is exploring, a scanner or a
# crawler). A single client refused again and again on one path is not excused: it relies on that
# endpoint, and the server may be the one that changed (e.g. an uptime check refused with 405).
ONE_CLIENT_SHARE = 0.5
SCANNED_PATHS = 10


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


# The newest revision's line is shown beside a FAILING verdict only when it tells the reader something
# the window's ratio does not: that the revision fails clearly more than the service as a whole, i.e.
# that older revisions still served well. SHARPER_BY is that "clearly": a difference of 15 points
# between two percentages is one the reader notices and acts on (roll back), whereas a few points is
# the same number said twice. Display only: the verdict is FAILING either way.
SHARPER_BY = 0.15
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


def one_client(stats: RequestStats, kind: str = "") -> tuple[str, ClientErrors, float] | None:
    """(client, its errors, its share of the logged 4xx) when one client is the source of the 4xx.

    `kind` ("ip", "agent") restricts the clients considered; by default an IP or a user agent.
    """
    clients = [(c, e) for c, e in stats.clients_4xx.items() if not kind or c.startswith(kind + " ")]
    if not clients or stats.logged_4xx <= 0:
        return None
    client, errors = max(clients, key=lambda item: (item[1].count, item[0]))
    share = errors.count / stats.logged_4xx
    return (client, errors, share) if share > ONE_CLIENT_SHARE else None


def _excused_4xx(stats: RequestStats) -> tuple[float, str]:
    """(share of the 4xx that are correct answers to one client, why) — see ONE_CLIENT_SHARE."""
    found = one_client(stats)
    if found is None:
        return 0.0, ""
    client, errors, share = found
    if errors.auth * 2 > errors.count:
        return share, f"{client} sent credentials the service refused"
    if len(errors.paths) >= SCANNED_PATHS:
        return share, f"{client} was refused on {len(errors.paths)} different paths"
    return 0.0, ""


def _failing_since(stats: RequestStats, thresholds: HealthThresholds) -> tuple[str, float] | None:
    """(reason, ratio) when requests began failing mid-window and most have failed since.

    A failure that starts late is diluted by the good minutes before it: 85% failing for the last
    20 minutes reads as 40% over 45. The failure began at the first minute in which a meaningful
    share of requests failed (degraded_5xx_ratio); the service is judged on the minutes from then
    on, as long as they hold enough requests to state a ratio.
    """
    minutes = sorted(m for m, n in stats.by_minute_total.items() if n > 0)
    if len(minutes) < 2:
        return None
    onset = next(
        (m for m in minutes
         if stats.by_minute_failed.get(m, 0) / stats.by_minute_total[m] >= thresholds.degraded_5xx_ratio),
        None,
    )
    if onset is None or onset == minutes[0]:
        return None  # failing from the start: the whole window is the failing period
    total = sum(stats.by_minute_total[m] for m in minutes if m >= onset)
    failed = sum(stats.by_minute_failed.get(m, 0) for m in minutes if m >= onset)
    if total < thresholds.min_requests or failed / total < thresholds.failing_5xx_ratio:
        return None
    since = datetime.fromtimestamp(onset * 60, tz=UTC).strftime("%H:%M")
    return f"{_pct(failed / total)} failed since {since} UTC ({failed}/{total} requests)", failed / total


def _judge_job(job: JobStats, thresholds: HealthThresholds) -> tuple[Health, list[str]]:
    """A job's health from its executions: an execution is a whole run, so one failed run of one is a
    failed job (no minimum count applies); most runs failing is FAILING, some failing DEGRADED."""
    runs = job.executions_failed + job.executions_succeeded
    reasons = []
    if runs:
        reasons.append(f"{job.executions_failed}/{runs} execution{'s' if runs != 1 else ''} failed")
    attempts = job.attempts_failed + job.attempts_succeeded
    if attempts:
        reasons.append(f"{job.attempts_failed}/{attempts} task attempts failed")
    if not runs:
        return Health.UNKNOWN, reasons
    ratio = job.executions_failed / runs
    if ratio >= thresholds.failing_5xx_ratio:
        return Health.FAILING, reasons
    return (Health.DEGRADED if job.executions_failed else Health.HEALTHY), reasons


def judge_service(
    service: str,
    stats: RequestStats | None,
    failures: tuple[Failure, ...],
    thresholds: HealthThresholds,
    failed_start: frozenset[str] = frozenset(),
    job: JobStats | None = None,
) -> ServiceHealth:
    """Health of one service: request ratios first, startup failures and findings after."""
    reasons: list[str] = []
    failed_starts = _failed_starts(failures, service, failed_start)
    errors, warnings = _error_findings(failures, service)
    status = Health.UNKNOWN
    requests = stats.total if stats else 0
    ratio_5xx = stats.ratio("5xx") if stats else 0.0
    has_traffic = stats is not None and requests >= thresholds.min_requests
    if job is not None and job.executions_failed + job.executions_succeeded:
        status, reasons = _judge_job(job, thresholds)
        has_traffic = True  # its runs are its traffic: the logs need not stand in for it

    if stats is not None and has_traffic and job is None:
        n5 = stats.by_class.get("5xx", 0)
        n4 = stats.by_class.get("4xx", 0)
        n429 = stats.by_status.get(THROTTLED_STATUS, 0)
        ratio_4xx = stats.ratio("4xx")
        ratio_429 = n429 / requests
        ratio_failed = ratio_5xx + ratio_429
        # 429 is counted above as a failure; the rest of the 4xx weigh only once the correct answers
        # to one client are set aside (a scanner's 404s, a client's refused token).
        excused, why = _excused_4xx(stats)
        own_4xx = max(0.0, ratio_4xx - ratio_429) * (1 - excused)
        source = "" if stats.source == "metrics" else " in logs"
        if ratio_failed >= thresholds.failing_5xx_ratio:
            status = Health.FAILING
        elif ratio_failed >= thresholds.degraded_5xx_ratio or own_4xx >= thresholds.degraded_4xx_ratio:
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
            client = f": {_pct(excused)} of them client errors ({why})" if why else ""
            reasons.append(
                f"{_pct(ratio_4xx)} 4xx ({n4}/{requests} requests{source}{'; ' + top if top else ''}){client}"
            )
        if not reasons:
            reasons.append(f"{_pct(ratio_5xx)} 5xx of {requests} requests{source}")
        since = _failing_since(stats, thresholds)
        if since and status is not Health.FAILING:
            reasons.insert(0, since[0])
            status = Health.FAILING
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
    job_stats: Mapping[str, JobStats] | None = None,
) -> tuple[ServiceHealth, ...]:
    """Health of every service, worst first (then by name), so the card leads with what is broken.

    `failed_start` names the signatures whose occurrences are instances that never started
    (the signature file marks them), so startup failures count even without request data.
    """
    thresholds = thresholds or HealthThresholds()
    job_stats = job_stats or {}
    names = set(services) | set(request_stats) | set(job_stats)
    for failure in failures:
        names.update(failure.services)
    names.discard("")
    judged = [
        judge_service(name, request_stats.get(name), failures, thresholds, failed_start, job_stats.get(name))
        for name in names
    ]
    return tuple(sorted(judged, key=lambda h: (_ORDER[h.status], -h.error_ratio, h.service)))
