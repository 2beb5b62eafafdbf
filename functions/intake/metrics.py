"""Metrics evidence: `timeSeries.list` documents -> request stats and signature counts.

Pure: reads only the files it is given. Metrics documents are small and read whole. The
per-series logic (`stats_from_series`, `metric_counts_from_series`) takes plain
`SeriesPoints`, so the live Monitoring adapter can feed it too.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from functions.core.coerce import as_int, as_mapping, as_number, as_string_map, as_text
from functions.core.errors import EvidenceError
from functions.core.model import JobStats, MetricCount, RequestStats
from functions.intake.evidence import parse_rfc3339
from functions.intake.jsonbounds import JsonBoundsError, loads_bounded

REQUEST_COUNT_METRIC = "run.googleapis.com/request_count"
# A Cloud Run job has no requests: its runs are counted by these, with a `result` label
# ("succeeded" / "failed"); the job is named by the resource label job_name.
JOB_EXECUTIONS_METRIC = "run.googleapis.com/job/completed_execution_count"
JOB_ATTEMPTS_METRIC = "run.googleapis.com/job/completed_task_attempt_count"
THROTTLED_STATUS = 429  # the service refusing work: a failed request for health, like a 5xx
DEFAULT_NAME_PREFIX = "sitrep"  # the Terraform module's default name_prefix


def metric_prefix(name_prefix: str = DEFAULT_NAME_PREFIX) -> str:
    """The type prefix of the log-based metrics a module instance with `name_prefix` creates (`<name_prefix>/<id>`)."""
    return f"logging.googleapis.com/user/{name_prefix}/"


SITREP_METRIC_PREFIX = metric_prefix()


@dataclass(frozen=True)
class SeriesPoints:
    """One time series reduced to what counting needs; built from REST JSON or API objects."""

    metric_type: str
    metric_labels: Mapping[str, str] = field(default_factory=dict)
    resource_labels: Mapping[str, str] = field(default_factory=dict)
    values: tuple[float | int, ...] = ()
    resource_type: str = ""
    # The start minute (epoch seconds // 60) of each value's interval, None when unknown; parallel
    # to `values` when given. Lets health see when in the window requests began to fail.
    minutes: tuple[int | None, ...] = ()


def series_from_document(document: object) -> Iterator[SeriesPoints]:
    """Yield the series of a `timeSeries.list` response, an array of them, or bare TimeSeries.

    Reads REST JSON and the snake_case dicts of proto-plus `TimeSeries.to_dict`, so the
    live Monitoring adapter can feed API objects through the same code. Values:
    int64Value (a JSON string such as "42", or a number), doubleValue, boolValue
    (as 0/1) and distributionValue.count; other points are skipped.
    """
    if isinstance(document, list):
        for item in document:
            yield from series_from_document(item)
        return
    if not isinstance(document, Mapping):
        return
    if "timeSeries" in document or "time_series" in document:
        series_list = document.get("timeSeries", document.get("time_series"))
        for series in series_list if isinstance(series_list, list) else ():
            yield from series_from_document(series)
        return
    if "metric" not in document and "points" not in document:
        return
    metric = as_mapping(document.get("metric"))
    resource = as_mapping(document.get("resource"))
    points = document.get("points")
    values: list[float | int] = []
    minutes: list[int | None] = []
    for point in points if isinstance(points, list) else ():
        if not isinstance(point, Mapping) or (value := _typed_value(as_mapping(point.get("value")))) is None:
            continue
        values.append(value)
        minutes.append(_start_minute(as_mapping(point.get("interval"))))
    yield SeriesPoints(
        metric_type=as_text(metric.get("type")),
        metric_labels=as_string_map(metric.get("labels")),
        resource_labels=as_string_map(resource.get("labels")),
        values=tuple(values),
        resource_type=as_text(resource.get("type")),
        minutes=tuple(minutes),
    )


def _start_minute(interval: Mapping[str, Any]) -> int | None:
    """The minute a point's interval starts (its end minus one minute when only the end is given)."""
    start = parse_rfc3339(interval.get("startTime", interval.get("start_time")))
    if start is not None:
        return int(start.timestamp()) // 60
    end = parse_rfc3339(interval.get("endTime", interval.get("end_time")))
    return int(end.timestamp()) // 60 - 1 if end is not None else None


def load_time_series(path: Path | str) -> list[SeriesPoints]:
    """Read a metrics file (`timeSeries.list` response or an array of them) into SeriesPoints."""
    name = str(path)
    try:
        with open(path, encoding="utf-8-sig") as stream:
            document = loads_bounded(stream.read())
    except JsonBoundsError as exc:
        raise EvidenceError(name, exc.problem) from None
    except OSError as exc:
        raise EvidenceError(name, f"cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise EvidenceError(name, f"not UTF-8 text ({exc.reason})") from None
    except json.JSONDecodeError as exc:
        raise EvidenceError(name, f"line {exc.lineno} col {exc.colno}: {exc.msg}") from None
    if not isinstance(document, (list, dict)):
        found = type(document).__name__
        raise EvidenceError(name, f"expected a timeSeries.list response (an object or an array), found JSON {found}")
    return list(series_from_document(document))


def response_class(status: int) -> str:
    """500 -> '5xx'."""
    return f"{status // 100}xx"


def stats_from_series(
    series: Iterable[SeriesPoints], *, metric_type: str = REQUEST_COUNT_METRIC
) -> dict[str, RequestStats]:
    """Sum request-count series per service: by response class, by status, and per revision.

    The class comes from the `response_code_class` label, else from `response_code`,
    else "unknown". Series without a service name are skipped: they cannot be attributed.
    """
    by_class: dict[str, Counter[str]] = defaultdict(Counter)
    by_status: dict[str, Counter[int]] = defaultdict(Counter)
    rev_5xx: dict[str, Counter[str]] = defaultdict(Counter)
    rev_total: dict[str, Counter[str]] = defaultdict(Counter)
    minute_total: dict[str, Counter[int]] = defaultdict(Counter)
    minute_failed: dict[str, Counter[int]] = defaultdict(Counter)
    for item in series:
        if item.metric_type != metric_type:
            continue
        service = item.resource_labels.get("service_name") or item.metric_labels.get("service_name") or ""
        if not service:
            continue
        count = round(sum(item.values))
        code = as_int(item.metric_labels.get("response_code"))
        klass = item.metric_labels.get("response_code_class") or (response_class(code) if code else "unknown")
        by_class[service][klass] += count
        if code:
            by_status[service][code] += count
        failed = klass == "5xx" or code == THROTTLED_STATUS
        for value, minute in zip(item.values, item.minutes, strict=False):
            if minute is not None:
                minute_total[service][minute] += round(value)
                if failed:
                    minute_failed[service][minute] += round(value)
        revision = item.resource_labels.get("revision_name", "")
        if revision:
            rev_total[service][revision] += count
            if klass == "5xx":
                rev_5xx[service][revision] += count
    return {
        service: RequestStats(
            service=service,
            by_class=dict(classes),
            source="metrics",
            by_revision_5xx=dict(rev_5xx[service]),
            by_revision_total=dict(rev_total[service]),
            by_status=dict(by_status[service]),
            by_minute_total=dict(minute_total[service]),
            by_minute_failed=dict(minute_failed[service]),
        )
        for service, classes in by_class.items()
    }


def job_stats_from_series(series: Iterable[SeriesPoints]) -> dict[str, JobStats]:
    """Completed executions and task attempts per Cloud Run job, by result."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for item in series:
        kind = {JOB_EXECUTIONS_METRIC: "executions", JOB_ATTEMPTS_METRIC: "attempts"}.get(item.metric_type)
        job = item.resource_labels.get("job_name", "")
        result = item.metric_labels.get("result", "")
        if kind and job and result in ("succeeded", "failed"):
            counts[job][f"{kind}_{result}"] += round(sum(item.values))
    return {job: JobStats(job=job, **c) for job, c in counts.items()}


def load_request_stats(path: Path | str) -> dict[str, RequestStats]:
    """Request stats per service from a metrics file (`run.googleapis.com/request_count`)."""
    return stats_from_series(load_time_series(path))


def metric_counts_from_series(
    series: Iterable[SeriesPoints], *, prefix: str = SITREP_METRIC_PREFIX
) -> tuple[MetricCount, ...]:
    """Exact counts of sitrep's log-based metrics (`<prefix><signature-id>`), per signature and service.

    Sorted by count (largest first), then signature and service, so output is stable.
    """
    totals: Counter[tuple[str, str]] = Counter()
    for item in series:
        if not item.metric_type.startswith(prefix) or len(item.metric_type) == len(prefix):
            continue
        signature = item.metric_type[len(prefix) :]
        service = item.resource_labels.get("service_name") or item.metric_labels.get("service_name") or ""
        totals[(signature, service)] += round(sum(item.values))
    ordered = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))
    return tuple(MetricCount(signature=sig, service=svc, count=count) for (sig, svc), count in ordered)


def load_metric_counts(path: Path | str, *, prefix: str = SITREP_METRIC_PREFIX) -> tuple[MetricCount, ...]:
    """Signature counts from a metrics file holding sitrep's log-based metric series."""
    return metric_counts_from_series(load_time_series(path), prefix=prefix)


def _typed_value(value: Mapping[str, Any]) -> float | int | None:
    """A TypedValue in REST JSON (camelCase) or proto-plus `to_dict` (snake_case) spelling."""
    for camel, snake in (("int64Value", "int64_value"), ("doubleValue", "double_value")):
        for key in (camel, snake):
            if key in value:
                number = as_int(value[key]) if camel == "int64Value" else as_number(value[key])
                return number if number is not None and math.isfinite(number) else None
    for key in ("boolValue", "bool_value"):
        if key in value:
            return int(value[key] is True)
    for key in ("distributionValue", "distribution_value"):
        if key in value:
            return as_int(as_mapping(value[key]).get("count"))
    return None
