"""A bad deploy: failures concentrated on a service's newest revision while the previous one served fine,
and the rollback that undoes it. A Cloud Run job has no revisions, so it is never rolled back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from functions.analysis.health import revision_number


@dataclass(frozen=True)
class RevisionTraffic:
    """Per-revision traffic of one service: requests seen, 5xx among them, failure log lines."""

    requests: int = 0
    errors_5xx: int = 0
    failures: int = 0


# A deploy is the likely cause when the failures are the newest revision's: when it is to blame, the
# old revision keeps only the background errors any service has, plus the requests in flight while
# traffic moved. "Most, by a wide margin" is four in five: below that the old revision fails too, and
# the cause is something both share (a database, a quota), which a rollback would not cure.
DEPLOY_CONCENTRATION = 0.8
# The previous revision "served fine" by the same measure health uses for a service that is not
# degraded (HealthThresholds.degraded_5xx_ratio): rolling back to a revision that was itself degraded
# is not a fix to propose.
PREVIOUS_HEALTHY_5XX_RATIO = 0.05


def detect_bad_deploy(
    service: str,
    traffic: Mapping[str, RevisionTraffic],
    *,
    concentration: float = DEPLOY_CONCENTRATION,
    healthy_5xx_ratio: float = PREVIOUS_HEALTHY_5XX_RATIO,
) -> tuple[str, str, str] | None:
    """(newest, previous, reason) when failures concentrate on the newest revision and the previous served fine.

    A Cloud Run job has no revisions (its runs are executions), so it never gets a rollback.
    """
    revisions = sorted((r for r in traffic if revision_number(r) >= 0), key=revision_number)
    if len(revisions) < 2:
        return None
    newest, previous = revisions[-1], revisions[-2]
    total_failures = sum(t.failures + t.errors_5xx for t in traffic.values())
    new = traffic[newest]
    old = traffic[previous]
    if total_failures == 0 or (new.failures + new.errors_5xx) / total_failures < concentration:
        return None
    if old.requests == 0 or old.errors_5xx / old.requests >= healthy_5xx_ratio:
        return None
    share = (new.failures + new.errors_5xx) / total_failures
    reason = (
        f"{share * 100:.0f}% of {service}'s errors are on its newest revision {newest}; "
        f"the previous revision {previous} served {old.requests} requests with "
        f"{old.errors_5xx / old.requests * 100:.0f}% 5xx"
    )
    return newest, previous, reason


def rollback_command(service: str, previous: str, region: str = "") -> str:
    region_flag = f" --region={region}" if region else ""
    return f"gcloud run services update-traffic {service} --to-revisions={previous}=100{region_flag}"
