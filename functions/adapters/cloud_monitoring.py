"""Cloud Monitoring adapter: exact request counts and signature counts for the window, in two calls.

Metrics are enrichment (DESIGN §11): any failure here is reported as a note, never raised, and
the card is delivered with health judged from the logs. google-cloud-monitoring's default retry
for ListTimeSeries runs ~90 s, longer than the function's timeout, so every call passes an
explicit retry and timeout (DESIGN §13).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from functions.core.model import MetricCount, RequestStats
from functions.intake.metrics import (
    REQUEST_COUNT_METRIC,
    SITREP_METRIC_PREFIX,
    SeriesPoints,
    metric_counts_from_series,
    stats_from_series,
)

MIN_ALIGNMENT_S = 60  # Monitoring's smallest alignment period


@dataclass
class MetricsResult:
    request_stats: dict[str, RequestStats] = field(default_factory=dict)
    metric_counts: tuple[MetricCount, ...] = ()
    calls: int = 0
    error: str = ""


def _service_clause(services: Sequence[str]) -> str:
    names = [s for s in dict.fromkeys(services) if s]
    if not names:
        return ""
    quoted = ", ".join('"' + s.replace('"', '\\"') + '"' for s in names)
    return f" AND resource.labels.service_name = one_of({quoted})"


def request_count_filter(services: Sequence[str]) -> str:
    return f'metric.type = "{REQUEST_COUNT_METRIC}" AND resource.type = "cloud_run_revision"' + _service_clause(
        services
    )


def signature_count_filter(services: Sequence[str]) -> str:
    return f'metric.type = starts_with("{SITREP_METRIC_PREFIX}")' + _service_clause(services)


class CloudMonitoringSource:
    """Reads request_count and sitrep's log-based metrics; the client is built once, lazily."""

    def __init__(self, *, endpoint: str = "", timeout_s: float = 10.0) -> None:
        self._endpoint = endpoint
        self._timeout_s = timeout_s
        self._client: Any = None

    def _metric_client(self) -> Any:
        if self._client is None:
            from google.cloud import monitoring_v3

            if self._endpoint:
                import grpc
                from google.auth.credentials import AnonymousCredentials
                from google.cloud.monitoring_v3.services.metric_service.transports import MetricServiceGrpcTransport

                channel = grpc.insecure_channel(self._endpoint)
                transport = MetricServiceGrpcTransport(channel=channel, credentials=AnonymousCredentials())
                self._client = monitoring_v3.MetricServiceClient(transport=transport)
            else:
                self._client = monitoring_v3.MetricServiceClient()
        return self._client

    def read(self, project: str, services: Sequence[str], start: datetime, end: datetime) -> MetricsResult:
        """Request counts by response class/code and revision, and exact signature counts; never raises."""
        result = MetricsResult()
        if self._endpoint.startswith(("http://", "https://")):
            result.error = (
                "MONITORING_API_ENDPOINT is an HTTP URL; google-cloud-monitoring speaks gRPC only "
                "(host:port expected): metrics skipped"
            )
            return result
        try:
            requests = list(self._series(project, request_count_filter(services), start, end, result,
                                         ("resource.labels.service_name", "resource.labels.revision_name",
                                          "metric.labels.response_code_class", "metric.labels.response_code")))
            result.request_stats = stats_from_series(requests)
            counts = list(self._series(project, signature_count_filter(services), start, end, result,
                                       ("metric.type", "resource.labels.service_name")))
            result.metric_counts = metric_counts_from_series(counts)
        except Exception as exc:
            result.error = f"Cloud Monitoring unavailable ({type(exc).__name__}): health judged from logs"
        return result

    def _series(
        self,
        project: str,
        query: str,
        start: datetime,
        end: datetime,
        result: MetricsResult,
        group_by: Iterable[str],
    ) -> Iterable[SeriesPoints]:
        from google.cloud import monitoring_v3
        from google.protobuf import duration_pb2, timestamp_pb2

        seconds = max(MIN_ALIGNMENT_S, int((end - start).total_seconds()))
        seconds -= seconds % 60
        start_ts = timestamp_pb2.Timestamp()
        start_ts.FromDatetime(start)
        end_ts = timestamp_pb2.Timestamp()
        end_ts.FromDatetime(end)
        request = monitoring_v3.ListTimeSeriesRequest(
            name=f"projects/{project}",
            filter=query,
            interval=monitoring_v3.TimeInterval(start_time=start_ts, end_time=end_ts),
            view=monitoring_v3.ListTimeSeriesRequest.TimeSeriesView.FULL,
            aggregation=monitoring_v3.Aggregation(
                alignment_period=duration_pb2.Duration(seconds=seconds),
                per_series_aligner=monitoring_v3.Aggregation.Aligner.ALIGN_DELTA,
                cross_series_reducer=monitoring_v3.Aggregation.Reducer.REDUCE_SUM,
                group_by_fields=list(group_by),
            ),
        )
        result.calls += 1
        pager = self._metric_client().list_time_series(request=request, retry=None, timeout=self._timeout_s)
        for series in pager:
            values = []
            for point in series.points:
                value = point.value
                kind = value._pb.WhichOneof("value")
                if kind == "int64_value":
                    values.append(value.int64_value)
                elif kind == "double_value":
                    values.append(value.double_value)
            yield SeriesPoints(
                metric_type=series.metric.type,
                metric_labels=dict(series.metric.labels),
                resource_labels=dict(series.resource.labels),
                values=tuple(values),
                resource_type=series.resource.type,
            )
