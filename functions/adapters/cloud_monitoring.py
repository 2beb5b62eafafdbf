"""Cloud Monitoring adapter: exact request counts and signature counts for the window, in two calls.

Metrics are enrichment (docs/ARCHITECTURE.md): any failure here is reported as a note, never raised, and
the card is delivered with health judged from the logs. google-cloud-monitoring's default retry
for ListTimeSeries runs ~90 s, longer than the function's timeout, so every call passes an
explicit retry and timeout (docs/ARCHITECTURE.md §7).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from functions.incidents.ports import MetricsResult
from functions.intake.metrics import (
    REQUEST_COUNT_METRIC,
    SITREP_METRIC_PREFIX,
    SeriesPoints,
    metric_counts_from_series,
    stats_from_series,
)

MIN_ALIGNMENT_S = 60  # Monitoring's smallest alignment period
# Points per series: enough for health to see when in the window requests began to fail, bounded so
# a long window costs no more than an hour's worth of one-minute points.
MAX_BUCKETS = 60


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


def signature_count_filter(services: Sequence[str], prefix: str = SITREP_METRIC_PREFIX) -> str:
    return f'metric.type = starts_with("{prefix}")' + _service_clause(services)


class CloudMonitoringSource:
    """Reads request_count and sitrep's log-based metrics; the client is built once, lazily."""

    def __init__(self, *, endpoint: str = "", timeout_s: float = 10.0, prefix: str = SITREP_METRIC_PREFIX) -> None:
        self._endpoint = endpoint
        self._timeout_s = timeout_s
        self._prefix = prefix  # the metric types of this instance's signatures (SITREP_METRIC_PREFIX)
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
        if self._endpoint.startswith(("http://", "https://")):
            return MetricsResult(error=(
                "MONITORING_API_ENDPOINT is an HTTP URL; google-cloud-monitoring speaks gRPC only "
                "(host:port expected): metrics skipped"
            ))
        calls = 0
        try:
            calls += 1
            requests = self._series(project, request_count_filter(services), start, end,
                                    ("resource.labels.service_name", "resource.labels.revision_name",
                                     "metric.labels.response_code_class", "metric.labels.response_code"))
            calls += 1
            counts = self._series(project, signature_count_filter(services, self._prefix), start, end,
                                  ("metric.type", "resource.labels.service_name"))
        except Exception as exc:
            error = f"Cloud Monitoring unavailable ({type(exc).__name__}): health judged from logs"
            return MetricsResult(calls=calls, error=error)
        return MetricsResult(
            stats_from_series(requests), metric_counts_from_series(counts, prefix=self._prefix), calls=calls
        )

    def _series(
        self,
        project: str,
        query: str,
        start: datetime,
        end: datetime,
        group_by: Iterable[str],
    ) -> list[SeriesPoints]:
        """One ListTimeSeries call (every page of it), aligned to one bucket per series."""
        from google.cloud import monitoring_v3
        from google.protobuf import duration_pb2, timestamp_pb2

        window = max(MIN_ALIGNMENT_S, int((end - start).total_seconds()))
        per_bucket = -(-window // MAX_BUCKETS)  # ceiling: at most MAX_BUCKETS buckets
        seconds = max(MIN_ALIGNMENT_S, per_bucket + (-per_bucket % 60))  # whole minutes
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
        pager = self._metric_client().list_time_series(request=request, retry=None, timeout=self._timeout_s)
        found: list[SeriesPoints] = []
        for series in pager:
            values: list[float | int] = []
            minutes: list[int | None] = []
            for point in series.points:
                value = point.value
                kind = value._pb.WhichOneof("value")
                if kind == "int64_value":
                    values.append(value.int64_value)
                elif kind == "double_value":
                    values.append(value.double_value)
                else:
                    continue
                began = point.interval._pb.start_time
                minutes.append(began.seconds // 60 if began.seconds else None)
            found.append(SeriesPoints(
                metric_type=series.metric.type,
                metric_labels=dict(series.metric.labels),
                resource_labels=dict(series.resource.labels),
                values=tuple(values),
                resource_type=series.resource.type,
                minutes=tuple(minutes),
            ))
        return found
