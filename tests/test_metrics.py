"""metrics: timeSeries.list documents (REST JSON or proto-plus dicts) -> request stats and signature counts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from functions.core.errors import EvidenceError
from functions.core.model import MetricCount
from functions.intake.metrics import (
    SeriesPoints,
    load_metric_counts,
    load_request_stats,
    load_time_series,
    metric_counts_from_series,
    series_from_document,
    stats_from_series,
)

FIXTURES = Path(__file__).parent / "fixtures" / "logs"


def write(tmp_path: Path, text: str | bytes, name: str) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_request_stats_from_a_time_series_list_response() -> None:
    stats = load_request_stats(FIXTURES / "metrics-request-count.json")
    assert sorted(stats) == ["auth-api", "checkout"]
    checkout = stats["checkout"]
    assert checkout.source == "metrics"
    assert dict(checkout.by_class) == {"5xx": 160, "2xx": 27, "4xx": 3}  # 404 has no class label: derived
    assert dict(checkout.by_status) == {503: 151, 500: 9, 200: 27, 404: 3}
    assert dict(checkout.by_revision_5xx) == {"checkout-00231-vax": 160}
    assert dict(checkout.by_revision_total) == {"checkout-00231-vax": 166, "checkout-00230-moq": 24}
    assert checkout.total == 190
    assert dict(stats["auth-api"].by_class) == {"2xx": 198, "4xx": 7}  # doubleValue points summed too


def test_an_array_of_responses_is_read_and_filtered_by_metric_type() -> None:
    path = FIXTURES / "metrics-pages.json"
    assert load_request_stats(path) == load_request_stats(FIXTURES / "metrics-request-count.json")
    assert load_metric_counts(path) == (
        MetricCount(signature="container-exit", service="checkout", count=34),
        MetricCount(signature="python-module-not-found", service="checkout", count=25),
        MetricCount(signature="db-connect-timeout", service="auth-api", count=12),
        MetricCount(signature="python-module-not-found", service="auth-api", count=0),
    )
    assert load_metric_counts(FIXTURES / "metrics-request-count.json") == ()


def series(metric_type: str = "run.googleapis.com/request_count", **kw: Any) -> SeriesPoints:
    return SeriesPoints(metric_type=metric_type, **kw)


@pytest.mark.parametrize(
    ("items", "expected_by_class"),
    [
        ([series(metric_labels={"response_code": "502"}, resource_labels={"service_name": "a"}, values=(2, 3))],
         {"a": {"5xx": 5}}),
        ([series(metric_labels={}, resource_labels={"service_name": "a"}, values=(1,))], {"a": {"unknown": 1}}),
        ([series(metric_labels={"service_name": "b", "response_code_class": "2xx"}, values=(4,))], {"b": {"2xx": 4}}),
        ([series(metric_labels={"response_code_class": "2xx"}, values=(4,))], {}),  # no service: not attributable
        ([series("run.googleapis.com/request_latencies", resource_labels={"service_name": "a"}, values=(9,))], {}),
        ([series(metric_labels={"response_code_class": "2xx"}, resource_labels={"service_name": "a"},
                 values=(0.4, 0.4))], {"a": {"2xx": 1}}),
    ],
)  # fmt: skip
def test_stats_from_series(items: list[SeriesPoints], expected_by_class: dict[str, dict[str, int]]) -> None:
    stats = stats_from_series(items)
    assert {service: dict(s.by_class) for service, s in stats.items()} == expected_by_class


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"int64Value": "42"}, (42,)),
        ({"int64Value": 42}, (42,)),
        ({"doubleValue": 1.5}, (1.5,)),
        ({"doubleValue": "NaN"}, ()),
        ({"boolValue": True}, (1,)),
        ({"distributionValue": {"count": "17", "mean": 3.2}}, (17,)),
        ({"stringValue": "x"}, ()),
        ({"int64Value": "forty"}, ()),
    ],
)
def test_point_values(value: dict[str, Any], expected: tuple[float, ...]) -> None:
    document = {"timeSeries": [{"metric": {"type": "t"}, "points": [{"value": value}]}]}
    assert next(series_from_document(document)).values == expected


def test_series_from_proto_plus_dicts_of_the_monitoring_library() -> None:
    """The live adapter can pass `TimeSeries.to_dict(ts)` straight through (snake_case, int64 as text)."""
    from google.cloud import monitoring_v3

    ts = monitoring_v3.TimeSeries()
    ts.metric.type = "run.googleapis.com/request_count"
    ts.metric.labels["response_code_class"] = "5xx"
    ts.resource.labels["service_name"] = "api"
    for value in (0, 42):
        point = monitoring_v3.Point()
        point.value.int64_value = value
        ts.points.append(point)
    response = monitoring_v3.ListTimeSeriesResponse(time_series=[ts])
    items = list(series_from_document(monitoring_v3.ListTimeSeriesResponse.to_dict(response)))
    assert [item.values for item in items] == [(0, 42)]
    assert dict(stats_from_series(items)["api"].by_class) == {"5xx": 42}


def test_series_from_document_tolerates_odd_shapes() -> None:
    bare = {"metric": {"type": "t", "labels": {"k": 1}}, "resource": {"labels": {"service_name": "s"}}, "points": 3}
    assert list(series_from_document(bare)) == [
        SeriesPoints(metric_type="t", metric_labels={"k": "1"}, resource_labels={"service_name": "s"}, values=())
    ]
    assert list(series_from_document({"timeSeries": None, "unit": "1"})) == []
    assert list(series_from_document([{}, "x", {"nextPageToken": ""}])) == []


def test_metric_counts_with_another_prefix() -> None:
    items = [
        series("logging.googleapis.com/user/acme_oom", resource_labels={"service_name": "a"}, values=(3,)),
        series("logging.googleapis.com/user/acme_", resource_labels={"service_name": "a"}, values=(9,)),
    ]
    assert metric_counts_from_series(items, prefix="logging.googleapis.com/user/acme_") == (
        MetricCount(signature="oom", service="a", count=3),
    )


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('{"timeSeries": [', "line 1 col 17: Expecting value"),
        ('"just a string"', "expected a timeSeries.list response (an object or an array), found JSON str"),
        (b"\xff\xfe", "not UTF-8"),
    ],
)
def test_bad_metrics_files(tmp_path: Path, text: str | bytes, problem: str) -> None:
    path = write(tmp_path, text, "metrics.json")
    with pytest.raises(EvidenceError) as caught:
        load_time_series(path)
    assert str(caught.value).startswith(f"{path}: {problem}")


def test_missing_metrics_file(tmp_path: Path) -> None:
    with pytest.raises(EvidenceError, match="cannot read"):
        load_request_stats(tmp_path / "metrics.json")
