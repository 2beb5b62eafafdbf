"""Cloud Monitoring over a real gRPC server on loopback, built from the library's own types.

google-cloud-monitoring ships only gRPC transports, so the fake speaks gRPC:
``MetricService/ListTimeSeries`` and ``SnoozeService/{CreateSnooze,GetSnooze,ListSnoozes}``,
(de)serialised with ``monitoring_v3.*Request.deserialize`` / ``*Response.serialize``.
Connect with ``MetricServiceClient(transport=MetricServiceGrpcTransport(
channel=grpc.insecure_channel(fake.address)))`` and pass ``retry``/``timeout`` per call.

Filters: ``metric.type``, ``resource.type``, ``metric.label(s).K`` and ``resource.label(s).K``
equalities joined by AND; anything else is recorded in ``ignored_filter_terms`` and not
applied. Aggregation: ALIGN_DELTA / ALIGN_SUM / ALIGN_RATE and REDUCE_SUM with
``group_by_fields``; others are recorded in ``unsupported_aggregations`` and the raw
series are returned. ``page_size`` counts series (the real API counts points in FULL view).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Self

import grpc
from google.api import metric_pb2
from google.cloud import monitoring_v3

from tests.fakes.grpc_server import LoopbackGrpcServer

PROJECT = "test-project"
REQUEST_COUNT = "run.googleapis.com/request_count"
LOG_METRIC_PREFIX = "logging.googleapis.com/user/sitrep/"
MIN_ALIGNMENT_PERIOD_SECONDS = 60  # Aggregation.alignment_period: "must be at least 60 seconds"
MAX_SNOOZE_POLICIES = 16  # Snooze.Criteria.policies limit
_NAME = re.compile(r"^(projects|organizations|folders)/[^/]+$")
_EQUALITY = re.compile(
    r'(?P<key>metric\.type|resource\.type|(?:metric|resource)\.labels?\.[A-Za-z0-9_]+)\s*=\s*'
    r'(?:"(?P<q>[^"]*)"|(?P<fn>starts_with|one_of)\((?P<args>[^)]*)\)|(?P<w>[^\s()"]+))'
)
_ARG = re.compile(r'"((?:[^"\\]|\\.)*)"')
_Aligner = monitoring_v3.Aggregation.Aligner
_Reducer = monitoring_v3.Aggregation.Reducer
_FULL = monitoring_v3.ListTimeSeriesRequest.TimeSeriesView.FULL


@dataclass(frozen=True)
class RecordedCall:
    """One RPC as received: the proto-plus request and the call metadata."""

    method: str
    request: Any
    metadata: Mapping[str, str]


@dataclass(frozen=True)
class GrpcFault:
    """A scripted RPC outcome: abort with ``code`` (None: answer normally) after ``delay_seconds``."""

    code: grpc.StatusCode | None
    message: str
    delay_seconds: float


class _Abort(Exception):
    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def _ts(moment: datetime) -> float:
    return moment.timestamp()


def _series(
    metric_type: str,
    metric_labels: Mapping[str, str],
    resource_labels: Mapping[str, str],
    points: Sequence[tuple[datetime, int]],
    period_seconds: int,
) -> monitoring_v3.TimeSeries:
    ordered = sorted(points, key=lambda p: p[0], reverse=True)  # the API returns newest first
    return monitoring_v3.TimeSeries(
        metric={"type": metric_type, "labels": dict(metric_labels)},
        resource={"type": "cloud_run_revision", "labels": dict(resource_labels)},
        metric_kind=metric_pb2.MetricDescriptor.DELTA,
        value_type=metric_pb2.MetricDescriptor.INT64,
        points=[
            monitoring_v3.Point(
                interval=monitoring_v3.TimeInterval(start_time=end - timedelta(seconds=period_seconds), end_time=end),
                value=monitoring_v3.TypedValue(int64_value=value),
            )
            for end, value in ordered
        ],
    )


def _run_labels(service: str, revision: str | None, project: str, location: str) -> dict[str, str]:
    return {
        "project_id": project, "service_name": service, "location": location,
        "revision_name": revision or f"{service}-00001-abc", "configuration_name": service,
    }  # fmt: skip


def request_count_series(
    service: str,
    response_code_class: str,
    points: Sequence[tuple[datetime, int]],
    *,
    response_code: str | None = None,
    revision: str | None = None,
    project: str = PROJECT,
    location: str = "us-central1",
    period_seconds: int = 60,
) -> monitoring_v3.TimeSeries:
    """``run.googleapis.com/request_count`` for one service/revision/code class; points are (end, count)."""
    code = response_code or {"2xx": "200", "3xx": "302", "4xx": "404", "5xx": "500"}.get(response_code_class, "200")
    labels = {"response_code": code, "response_code_class": response_code_class}
    return _series(REQUEST_COUNT, labels, _run_labels(service, revision, project, location), points, period_seconds)


def log_metric_series(
    signature: str,
    points: Sequence[tuple[datetime, int]],
    *,
    service: str = "checkout",
    prefix: str = LOG_METRIC_PREFIX,
    revision: str | None = None,
    project: str = PROJECT,
    location: str = "us-central1",
    period_seconds: int = 60,
) -> monitoring_v3.TimeSeries:
    """A log-based counter ``logging.googleapis.com/user/sitrep/<signature>`` (DELTA INT64)."""
    resource = _run_labels(service, revision, project, location)
    return _series(f"{prefix}{signature}", {}, resource, points, period_seconds)


def _term_matches(actual: str | None, expected: Any) -> bool:
    """Equality, or Monitoring's filter functions starts_with("p") and one_of("a", "b")."""
    if isinstance(expected, tuple):
        kind, args = expected
        if actual is None:
            return False
        if kind == "prefix":
            return bool(args) and actual.startswith(args[0])
        return actual in args
    return actual == expected


def _label_value(series: monitoring_v3.TimeSeries, key: str) -> str | None:
    if key == "metric.type":
        return str(series.metric.type)
    if key == "resource.type":
        return str(series.resource.type)
    scope, _, name = key.split(".", 2)
    labels = series.metric.labels if scope == "metric" else series.resource.labels
    value = labels.get(name)
    return None if value is None else str(value)


def _value(point: monitoring_v3.Point) -> float:
    pb = monitoring_v3.TypedValue.pb(point.value)
    kind = pb.WhichOneof("value")
    return float(getattr(pb, kind)) if kind in ("int64_value", "double_value", "bool_value") else 0.0


def _typed(value: float, as_double: bool) -> monitoring_v3.TypedValue:
    if as_double:
        return monitoring_v3.TypedValue(double_value=value)
    return monitoring_v3.TypedValue(int64_value=int(value))


class MonitoringFake(LoopbackGrpcServer):
    """gRPC MetricService + SnoozeService on 127.0.0.1; started by ``start()`` or ``with``.

    ``address`` (also ``url`` / ``base_url``) is what ``MONITORING_API_ENDPOINT`` takes.
    """

    def __init__(self, series: Iterable[monitoring_v3.TimeSeries] = (), *, project: str = PROJECT) -> None:
        super().__init__()
        self.project = project
        self._lock = threading.RLock()
        self._series = [monitoring_v3.TimeSeries(s) for s in series]
        self._snoozes: list[monitoring_v3.Snooze] = []
        self._calls: list[RecordedCall] = []
        self._faults: dict[str, list[GrpcFault]] = {}
        self._ignored: list[str] = []
        self._unsupported: list[str] = []
        self._stopping = threading.Event()

    # lifecycle ---------------------------------------------------------------------
    workers = 8

    def _handlers(self) -> Sequence[grpc.GenericRpcHandler]:
        return (
            self._service("google.monitoring.v3.MetricService", {
                "ListTimeSeries": (monitoring_v3.ListTimeSeriesRequest, monitoring_v3.ListTimeSeriesResponse,
                                   self._list_time_series)}),
            self._service("google.monitoring.v3.SnoozeService", {
                "CreateSnooze": (monitoring_v3.CreateSnoozeRequest, monitoring_v3.Snooze, self._create_snooze),
                "GetSnooze": (monitoring_v3.GetSnoozeRequest, monitoring_v3.Snooze, self._get_snooze),
                "ListSnoozes": (monitoring_v3.ListSnoozesRequest, monitoring_v3.ListSnoozesResponse,
                                self._list_snoozes)}),
        )  # fmt: skip

    def start(self) -> Self:
        self._stopping.clear()
        return super().start()

    def stop(self) -> None:
        """Stop at once (in-flight calls, delayed ones included, are cancelled); safe to call twice."""
        self._stopping.set()
        super().stop()

    url = base_url = LoopbackGrpcServer.address

    def metric_client(self) -> monitoring_v3.MetricServiceClient:
        """A real MetricServiceClient on an insecure channel to this server."""
        from google.cloud.monitoring_v3.services.metric_service.transports import MetricServiceGrpcTransport

        channel = grpc.insecure_channel(self.address)
        return monitoring_v3.MetricServiceClient(transport=MetricServiceGrpcTransport(channel=channel))

    # state for tests ------------------------------------------------------------------
    def add_series(self, *series: monitoring_v3.TimeSeries) -> None:
        """Serve more time series."""
        with self._lock:
            self._series.extend(monitoring_v3.TimeSeries(s) for s in series)

    @property
    def requests(self) -> list[RecordedCall]:
        """Every RPC received, in order (faulted ones included)."""
        with self._lock:
            return list(self._calls)

    def requests_to(self, method: str) -> list[RecordedCall]:
        """RPCs of one method (``"ListTimeSeries"``, ``"CreateSnooze"`` ...)."""
        return [c for c in self.requests if c.method == method]

    @property
    def snoozes(self) -> list[monitoring_v3.Snooze]:
        """Snoozes created so far."""
        with self._lock:
            return [monitoring_v3.Snooze(s) for s in self._snoozes]

    @property
    def ignored_filter_terms(self) -> list[str]:
        """Filter text the fake could not apply."""
        with self._lock:
            return list(self._ignored)

    @property
    def unsupported_aggregations(self) -> list[str]:
        """Aligners/reducers the fake did not apply (raw series were returned)."""
        with self._lock:
            return list(self._unsupported)

    # faults ---------------------------------------------------------------------------
    def fail_next(
        self,
        method: str,
        *,
        code: grpc.StatusCode = grpc.StatusCode.UNAVAILABLE,
        message: str | None = None,
        times: int = 1,
        delay_seconds: float = 0.0,
    ) -> None:
        """Abort the next ``times`` calls of ``method`` (``"*"``: any) with ``code``."""
        fault = GrpcFault(code, message or f"injected {code.name}", delay_seconds)
        with self._lock:
            self._faults.setdefault(method, []).extend([fault] * times)

    def delay_next(self, method: str, seconds: float, *, times: int = 1) -> None:
        """Answer the next ``times`` calls normally but ``seconds`` late (client deadlines fire)."""
        with self._lock:
            self._faults.setdefault(method, []).extend([GrpcFault(None, "", seconds)] * times)

    def pending_faults(self, method: str | None = None) -> int:
        """Scripted faults not consumed yet."""
        with self._lock:
            if method is not None:
                return len(self._faults.get(method, []))
            return sum(len(q) for q in self._faults.values())

    # plumbing -------------------------------------------------------------------------
    def _service(
        self, name: str, methods: Mapping[str, tuple[Any, Any, Callable[[Any], Any]]]
    ) -> grpc.GenericRpcHandler:
        handlers = {
            method: grpc.unary_unary_rpc_method_handler(
                self._wrap(method, impl), request_deserializer=req.deserialize, response_serializer=resp.serialize
            )
            for method, (req, resp, impl) in methods.items()
        }
        return grpc.method_handlers_generic_handler(name, handlers)

    def _wrap(self, method: str, impl: Callable[[Any], Any]) -> Callable[[Any, grpc.ServicerContext], Any]:
        def handle(request: Any, context: grpc.ServicerContext) -> Any:
            metadata = {str(k): str(v) for k, v in context.invocation_metadata()}
            with self._lock:
                self._calls.append(RecordedCall(method, request, metadata))
                queue = self._faults.get(method) or self._faults.get("*")
                fault = queue.pop(0) if queue else None
            if fault is not None and fault.delay_seconds > 0:
                self._stopping.wait(fault.delay_seconds)
            if fault is not None and fault.code is not None:
                context.abort(fault.code, fault.message)
            try:
                return impl(request)
            except _Abort as err:
                context.abort(err.code, err.message)

        return handle

    # MetricService ------------------------------------------------------------------
    def _list_time_series(self, request: monitoring_v3.ListTimeSeriesRequest) -> monitoring_v3.ListTimeSeriesResponse:
        self._check_name(request.name, "monitoring.timeSeries.list")
        pb = monitoring_v3.ListTimeSeriesRequest.pb(request)
        if not pb.interval.HasField("end_time"):
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, "Field interval.end_time had an invalid value: required")
        end = _ts(request.interval.end_time)
        start = _ts(request.interval.start_time) if pb.interval.HasField("start_time") else end
        if start > end:
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, "The start time must be before the end time")
        if request.order_by:
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, "Field order_by must be empty")
        terms = self._parse_filter(request.filter)
        agg = request.aggregation
        aligner, reducer = agg.per_series_aligner, agg.cross_series_reducer
        period = agg.alignment_period.total_seconds() if pb.aggregation.HasField("alignment_period") else 0
        if reducer != _Reducer.REDUCE_NONE and aligner == _Aligner.ALIGN_NONE:
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, "A cross-series reducer requires a per-series aligner")
        if aligner != _Aligner.ALIGN_NONE and period < MIN_ALIGNMENT_PERIOD_SECONDS:
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, "The alignment period must be at least 60 seconds")
        with self._lock:
            candidates = [monitoring_v3.TimeSeries(s) for s in self._series]
        selected = []
        for series in candidates:
            if all(_term_matches(_label_value(series, k), v) for k, v in terms):
                points = [p for p in series.points if start <= _ts(p.interval.end_time) <= end]
                if points:
                    series.points = points
                    selected.append(series)
        selected = self._aggregate(selected, aligner, reducer, period, end, list(agg.group_by_fields))
        if request.view != _FULL:
            for series in selected:
                series.points = []
        query = monitoring_v3.ListTimeSeriesRequest(request)
        query.page_token, query.page_size = "", 0
        query_key = hashlib.sha256(monitoring_v3.ListTimeSeriesRequest.serialize(query)).hexdigest()[:16]
        offset = self._offset(request.page_token, query_key)
        size = request.page_size or len(selected) or 1
        page = selected[offset : offset + size]
        token = self._token(offset + size, query_key) if offset + size < len(selected) else ""
        return monitoring_v3.ListTimeSeriesResponse(time_series=page, next_page_token=token)

    def _check_name(self, name: str, permission: str) -> None:
        if not _NAME.match(name):
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, f"Field name had an invalid value of {name!r}")
        if name != f"projects/{self.project}":
            raise _Abort(
                grpc.StatusCode.PERMISSION_DENIED, f"Permission {permission} denied (or the resource may not exist)."
            )

    def _parse_filter(self, text: str) -> list[tuple[str, str]]:
        terms: list[tuple[str, Any]] = []
        for m in _EQUALITY.finditer(text):
            if m["fn"] == "starts_with":
                terms.append((m["key"], ("prefix", tuple(_ARG.findall(m["args"] or ""))[:1])))
            elif m["fn"] == "one_of":
                terms.append((m["key"], ("one_of", tuple(_ARG.findall(m["args"] or "")))))
            else:
                terms.append((m["key"], m["q"] if m["q"] is not None else m["w"]))
        if sum(k == "metric.type" for k, _ in terms) != 1:
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, f"Field filter must name exactly one metric.type: {text!r}")
        rest = re.sub(r"\bAND\b", " ", _EQUALITY.sub(" ", text)).strip()
        if rest:
            with self._lock:
                self._ignored.append(rest)
        return terms

    def _aggregate(
        self,
        series: list[monitoring_v3.TimeSeries],
        aligner: Any,
        reducer: Any,
        period: float,
        end: float,
        group_by: list[str],
    ) -> list[monitoring_v3.TimeSeries]:
        if aligner == _Aligner.ALIGN_NONE:
            return series
        if aligner not in (_Aligner.ALIGN_DELTA, _Aligner.ALIGN_SUM, _Aligner.ALIGN_RATE):
            with self._lock:
                self._unsupported.append(_Aligner(aligner).name)
            return series
        aligned = [self._align(s, aligner, period, end) for s in series]
        if reducer == _Reducer.REDUCE_NONE:
            return aligned
        if reducer != _Reducer.REDUCE_SUM:
            with self._lock:
                self._unsupported.append(_Reducer(reducer).name)
            return aligned
        groups: dict[tuple[str | None, ...], list[monitoring_v3.TimeSeries]] = {}
        for s in aligned:
            keys = tuple(_label_value(s, f) for f in group_by)
            groups.setdefault(keys, []).append(s)
        return [self._sum_group(members, group_by, keys, aligner) for keys, members in groups.items()]

    @staticmethod
    def _align(series: monitoring_v3.TimeSeries, aligner: Any, period: float, end: float) -> monitoring_v3.TimeSeries:
        buckets: dict[int, float] = {}
        for p in series.points:
            k = int((end - _ts(p.interval.end_time)) // period)
            buckets[k] = buckets.get(k, 0.0) + _value(p)
        out = monitoring_v3.TimeSeries(series)
        rate = aligner == _Aligner.ALIGN_RATE
        if rate:
            out.value_type = metric_pb2.MetricDescriptor.DOUBLE
            out.metric_kind = metric_pb2.MetricDescriptor.GAUGE
        base = datetime.fromtimestamp(end, tz=series.points[0].interval.end_time.tzinfo)
        out.points = [
            monitoring_v3.Point(
                interval=monitoring_v3.TimeInterval(
                    start_time=base - timedelta(seconds=(k + 1) * period), end_time=base - timedelta(seconds=k * period)
                ),
                value=_typed(total / period if rate else total, rate),
            )
            for k, total in sorted(buckets.items())
        ]  # fmt: skip
        return out

    @staticmethod
    def _sum_group(
        members: list[monitoring_v3.TimeSeries], group_by: list[str], keys: tuple[str | None, ...], aligner: Any
    ) -> monitoring_v3.TimeSeries:
        first = members[0]
        metric_labels = {
            f.split(".", 2)[2]: v
            for f, v in zip(group_by, keys, strict=True)
            if f.startswith("metric.label") and v is not None
        }
        resource_labels = {
            f.split(".", 2)[2]: v
            for f, v in zip(group_by, keys, strict=True)
            if f.startswith("resource.label") and v is not None
        }
        totals: dict[datetime, float] = {}
        starts: dict[datetime, datetime] = {}
        for s in members:
            for p in s.points:
                totals[p.interval.end_time] = totals.get(p.interval.end_time, 0.0) + _value(p)
                starts[p.interval.end_time] = p.interval.start_time
        rate = aligner == _Aligner.ALIGN_RATE
        return monitoring_v3.TimeSeries(
            metric={"type": first.metric.type, "labels": metric_labels},
            resource={"type": first.resource.type, "labels": resource_labels},
            metric_kind=first.metric_kind,
            value_type=first.value_type,
            points=[
                monitoring_v3.Point(
                    interval=monitoring_v3.TimeInterval(start_time=starts[t], end_time=t),
                    value=_typed(v, rate),
                )
                for t, v in sorted(totals.items(), reverse=True)
            ],
        )  # fmt: skip

    @staticmethod
    def _token(offset: int, query_key: str) -> str:
        return base64.urlsafe_b64encode(json.dumps({"o": offset, "q": query_key}).encode()).decode()

    @staticmethod
    def _offset(token: str, query_key: str) -> int:
        if not token:
            return 0
        try:
            data = json.loads(base64.urlsafe_b64decode(token))
        except ValueError:
            data = None
        if not isinstance(data, dict) or data.get("q") != query_key:
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, "Field page_token had an invalid value")
        return int(data["o"])

    # SnoozeService -------------------------------------------------------------------
    def _create_snooze(self, request: monitoring_v3.CreateSnoozeRequest) -> monitoring_v3.Snooze:
        self._check_name(request.parent, "monitoring.snoozes.create")
        snooze = monitoring_v3.Snooze(request.snooze)
        interval = monitoring_v3.Snooze.pb(snooze).interval
        if not snooze.display_name:
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, "Field snooze.display_name is required")
        if not 1 <= len(snooze.criteria.policies) <= MAX_SNOOZE_POLICIES:
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, f"A snooze names 1 to {MAX_SNOOZE_POLICIES} alert policies")
        if not interval.HasField("end_time") or (
            interval.HasField("start_time") and snooze.interval.start_time >= snooze.interval.end_time
        ):
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, "Field snooze.interval must end after it starts")
        with self._lock:
            snooze.name = f"{request.parent}/snoozes/{len(self._snoozes) + 1}"
            self._snoozes.append(snooze)
        return monitoring_v3.Snooze(snooze)

    def _get_snooze(self, request: monitoring_v3.GetSnoozeRequest) -> monitoring_v3.Snooze:
        for snooze in self.snoozes:
            if snooze.name == request.name:
                return snooze
        raise _Abort(grpc.StatusCode.NOT_FOUND, f"Snooze {request.name} not found")

    def _list_snoozes(self, request: monitoring_v3.ListSnoozesRequest) -> monitoring_v3.ListSnoozesResponse:
        self._check_name(request.parent, "monitoring.snoozes.list")
        return monitoring_v3.ListSnoozesResponse(snoozes=[s for s in self.snoozes if s.name.startswith(request.parent)])
