"""Health: a service's status follows its request ratios and startup failures, and says why."""

from __future__ import annotations

import pytest

from functions.analysis.health import HealthThresholds, compute_health, judge_service
from functions.core.model import Category, Health, RequestStats, Severity
from tests.builders import failure, stats

FAILED_START = frozenset({"instance-could-not-start"})
T = HealthThresholds()


@pytest.mark.parametrize(
    ("request_stats", "expected", "reason_part"),
    [
        (stats("svc", _2xx=7, _5xx=93), Health.FAILING, "93% 5xx (93/100 requests"),
        (stats("svc", _2xx=50, _5xx=50), Health.FAILING, "50% 5xx"),
        (stats("svc", _2xx=90, _5xx=10), Health.DEGRADED, "10% 5xx"),
        (stats("svc", _2xx=70, _4xx=30), Health.DEGRADED, "30% 4xx (30/100 requests"),
        (stats("svc", _2xx=99, _5xx=1), Health.HEALTHY, "1% 5xx"),
        (stats("svc", _2xx=100), Health.HEALTHY, "0% 5xx of 100 requests"),
        (stats("svc", _5xx=3), Health.UNKNOWN, "no request data"),  # below min_requests: ratios not judged
    ],
)
def test_request_ratios_decide_status(request_stats: RequestStats, expected: Health, reason_part: str) -> None:
    judged = judge_service("svc", request_stats, (), T)
    assert judged.status is expected
    assert any(reason_part in r for r in judged.reasons), judged.reasons


def test_failed_starts_make_a_service_failing_without_request_data() -> None:
    starts = failure("instance-could-not-start", Category.CONTAINER_STARTUP, 43, "backend", severity=Severity.CRITICAL)
    judged = judge_service("backend", None, (starts,), T, FAILED_START)
    assert judged.status is Health.FAILING
    assert "43 failed starts" in judged.reasons


def test_failed_starts_count_attempts_not_lines() -> None:
    lines = (
        failure("instance-could-not-start", Category.CONTAINER_STARTUP, 43, "backend"),
        failure("startup-probe-failed", Category.CONTAINER_STARTUP, 40, "backend"),
    )
    judged = judge_service("backend", None, lines, T, FAILED_START | {"startup-probe-failed"})
    assert judged.failed_starts == 43


def test_error_logs_without_request_data_degrade() -> None:
    db = failure("db-timeout", Category.DATABASE, 12, "auth")
    assert judge_service("auth", None, (db,), T).status is Health.DEGRADED


def test_noise_alone_leaves_health_unknown() -> None:
    sentry = failure("sentry-missing", Category.NOISE, 33, "backend", severity=Severity.WARNING)
    judged = judge_service("backend", None, (sentry,), T)
    assert judged.status is Health.UNKNOWN


def test_thresholds_are_settings() -> None:
    strict = HealthThresholds(degraded_5xx_ratio=0.01)
    assert judge_service("svc", stats("svc", _2xx=98, _5xx=2), (), strict).status is Health.DEGRADED
    assert judge_service("svc", stats("svc", _2xx=98, _5xx=2), (), T).status is Health.HEALTHY


def test_compute_health_lists_worst_first_and_includes_every_service_seen() -> None:
    result = compute_health(
        ["frontend"],
        {"backend": stats("backend", _5xx=90, _2xx=10), "auth": stats("auth", _2xx=100)},
        (failure("x", Category.DATABASE, 5, "worker"),),
        T,
    )
    assert [(h.service, h.status) for h in result] == [
        ("backend", Health.FAILING),
        ("worker", Health.DEGRADED),
        ("frontend", Health.UNKNOWN),
        ("auth", Health.HEALTHY),
    ]


def test_unclassified_error_lines_still_count_as_errors() -> None:
    unknown = failure("unknown", Category.UNKNOWN, 75, "worker", severity=Severity.ERROR)
    judged = judge_service("worker", None, (unknown,), T)
    assert judged.status is Health.DEGRADED
    assert "75 error logs, no request data" in judged.reasons


@pytest.mark.parametrize(
    ("by_status", "expected", "reason_part"),
    [
        ({200: 88, 429: 12}, Health.DEGRADED, "12% 429 throttled (12/100 requests)"),
        ({200: 40, 429: 35, 503: 25}, Health.FAILING, "35% 429 throttled"),
        ({200: 88, 404: 12}, Health.HEALTHY, "0% 5xx of 100 requests"),  # a 404 is the client's mistake
    ],
)
def test_throttled_requests_count_as_failed(by_status: dict[int, int], expected: Health, reason_part: str) -> None:
    by_class: dict[str, int] = {}
    for code, n in by_status.items():
        by_class[f"{code // 100}xx"] = by_class.get(f"{code // 100}xx", 0) + n
    judged = judge_service("svc", RequestStats("svc", by_class=by_class, source="metrics", by_status=by_status), (), T)
    assert judged.status is expected
    assert any(reason_part in r for r in judged.reasons), judged.reasons


def test_a_failing_newest_revision_is_failing_even_when_the_window_dilutes_it() -> None:
    diluted = RequestStats(
        service="orders",
        by_class={"2xx": 800, "5xx": 200},
        source="metrics",
        by_revision_total={"orders-00041-abc": 780, "orders-00042-xyz": 220},
        by_revision_5xx={"orders-00042-xyz": 200},
    )
    judged = judge_service("orders", diluted, (), T)
    assert judged.status is Health.FAILING
    assert judged.reasons[0] == "newest revision orders-00042-xyz: 91% 5xx (200/220 requests)"


def test_a_healthy_newest_revision_leaves_the_window_verdict() -> None:
    recovering = RequestStats(
        service="orders",
        by_class={"2xx": 900, "5xx": 100},
        source="metrics",
        by_revision_total={"orders-00041-abc": 400, "orders-00042-xyz": 600},
        by_revision_5xx={"orders-00041-abc": 100},
    )
    assert judge_service("orders", recovering, (), T).status is Health.DEGRADED


def test_the_newest_revision_line_is_left_out_when_it_only_repeats_the_window() -> None:
    whole = RequestStats(
        service="backend",
        by_class={"2xx": 222, "5xx": 3030},
        source="metrics",
        by_revision_total={"backend-00741-x2k": 222, "backend-00742-b95": 3030},
        by_revision_5xx={"backend-00742-b95": 3030},
    )
    judged = judge_service("backend", whole, (), T)
    assert judged.status is Health.FAILING
    assert not any(r.startswith("newest revision") for r in judged.reasons)
