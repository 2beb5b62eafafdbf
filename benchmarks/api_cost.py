"""Google API calls per incident update as the error spike grows from 100 to 1,000,000 log entries.

The deployed service (`functions.entry.wiring.build_service` with the live Cloud Logging, Cloud
Monitoring and Cloud Run sources) handles one alert, then a second alert joining the same incident
(two updates), against local fakes:

* Cloud Logging: a `LoggingFake` subclass whose entries are generated lazily, page by page,
  newest first inside the query's own time bounds: a spike of N entries costs the fake nothing
  until a page is asked for (the entries are the warning-and-above lines of benchmarks/_workload.py,
  cycled, with fresh timestamps and insert ids);
* Cloud Monitoring: the gRPC fake serving `run.googleapis.com/request_count` and sitrep's
  log-based metrics (`logging.googleapis.com/user/sitrep/<signature>`) holding the EXACT count
  of each alerting signature in the spike, per service;
* what changed: the Logging fake also holds a Cloud Run deploy of `backend` (an Admin Activity audit
  entry) in the window, answered to the audit query, and the Cloud Run Admin API fake (gRPC) serves
  the deployed revision and the one it replaced, so every update reads the changes in full.

Counted per update: `entries:list` requests, `ListTimeSeries` and `GetRevision` RPCs recorded by the
fakes (and the service's own counts, which must agree); the targets are 4, 3 and 2 (issue 13).
The card's JSON must show the exact metric counts
for those signatures, beside excerpts and templates that come from the bounded sample.
The baseline is reading the whole spike at 1,000 entries a page: N / 1,000 `entries:list` calls.

Usage (from the repository root):
    python benchmarks/api_cost.py            # 100, 10k, 100k, 1M entries
    python benchmarks/api_cost.py --quick    # 100 and 10k (CI smoke)
    python benchmarks/api_cost.py --json
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

os.environ.setdefault("GRPC_VERBOSITY", "ERROR")  # no GOAWAY notices when a fake stops under an open channel

from google.cloud import monitoring_v3

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._workload import PROJECT, REGION, SERVICES, WINDOW_END, alert_notification, entries
from functions.entry.settings import Settings
from functions.entry.wiring import build_service, core, delivery_adapters, live_sources
from functions.incidents.service import IncidentService, Outcome
from functions.intake.alert import parse_alert
from functions.intake.evidence import record_from_entry
from functions.render import render
from tests.fakes import RecordedRequest, Response
from tests.fakes.cloud_logging import MAX_PAGE_SIZE, LoggingFake, timestamp_nanos
from tests.fakes.cloud_monitoring import MonitoringFake, log_metric_series, request_count_series
from tests.fakes.cloud_run import CloudRunFake, revision

SIZES = (100, 10_000, 100_000, 1_000_000)
QUICK_SIZES = (100, 10_000)
TARGET_LOGGING_CALLS = 4  # up to 3 pages of error logs and 1 page of audit entries
TARGET_MONITORING_CALLS = 3
TARGET_RUN_CALLS = 2
POOL_SOURCE_ENTRIES = 12_000  # generated once; the warning-and-above ones are cycled
METRIC_MINUTES = 10  # the exact counts are spread over this many one-minute points
NOW = WINDOW_END
DEPLOY_AT = NOW - timedelta(minutes=35)  # inside the window the service reads (start - lookback .. now)
_STARTS_WITH = re.compile(r'metric\.type\s*=\s*starts_with\("([^"]*)"\)')
_BOUND = re.compile(r'timestamp(>=|<=)"([^"]+)"')
_SEVERITY_RANK = {"WARNING": 400, "ERROR": 500, "CRITICAL": 600, "ALERT": 700, "EMERGENCY": 800}


def spike_pool() -> list[dict[str, Any]]:
    """The distinct warning-and-above entries a spike cycles through (what the adapter's filter selects)."""
    return [e for e in entries(POOL_SOURCE_ENTRIES) if _SEVERITY_RANK.get(e["severity"], 0) >= 400]


class LazySpikeLogging(LoggingFake):
    """`entries:list` over a spike of `size` entries that exist only when a page asks for them."""

    def __init__(self, pool: Sequence[dict[str, Any]], size: int) -> None:
        super().__init__()
        self._pool = pool
        self._size = size

    def _handle(self, request: RecordedRequest) -> Response:
        body = request.body
        if request.endpoint != "entries.list" or not isinstance(body, dict):
            return super()._handle(request)
        if "cloudaudit.googleapis.com" in str(body.get("filter", "")):
            return super()._handle(request)  # the audit query: the fake's own entries (the deploy)
        bounds = {op: timestamp_nanos(value) for op, value in _BOUND.findall(str(body.get("filter", "")))}
        if set(bounds) != {">=", "<="}:  # an unbounded read is what the adapter must never send
            return Response.json(400, {"error": {"code": 400, "message": "filter without both timestamp bounds",
                                                 "status": "INVALID_ARGUMENT"}})
        page_size = int(body.get("pageSize") or 50)
        if not 0 < page_size <= MAX_PAGE_SIZE:
            return Response.json(400, {"error": {"code": 400, "message": "bad pageSize", "status": "INVALID_ARGUMENT"}})
        offset = int(str(body.get("pageToken") or "o0")[1:])
        newest_first = str(body.get("orderBy", "")).lower() == "timestamp desc"
        start_ns, end_ns = bounds[">="], bounds["<="]
        step_ns = max(1, (end_ns - start_ns) // max(self._size, 1))
        page = []
        for i in range(offset, min(offset + page_size, self._size)):
            entry = dict(self._pool[i % len(self._pool)])
            nanos = end_ns - i * step_ns if newest_first else start_ns + i * step_ns
            seconds, fraction = divmod(nanos, 1_000_000_000)
            moment = datetime.fromtimestamp(seconds, tz=UTC)
            entry["timestamp"] = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{fraction:09d}Z"
            entry["insertId"] = f"spike{i:012d}"
            page.append(entry)
        payload: dict[str, Any] = {"entries": page} if page else {}
        if offset + page_size < self._size:
            payload["nextPageToken"] = f"o{offset + page_size}"
        return Response.json(200, payload)


class PrefixMonitoring(MonitoringFake):
    """The Monitoring fake, also answering `metric.type = starts_with("...")` as Cloud Monitoring does.

    tests/fakes' MonitoringFake matches metric.type by equality only (the adapter's query for every
    sitrep log-based metric finds nothing there) and cannot group by `metric.type`; this answers it
    as the union of one equality query per served metric type with that prefix, each grouped by
    the other fields (one RPC recorded, as the service sees it).
    """

    def _list_time_series(self, request: Any) -> Any:
        match = _STARTS_WITH.search(request.filter)
        if match is None:
            return super()._list_time_series(request)
        with self._lock:
            types = sorted({s.metric.type for s in self._series if s.metric.type.startswith(match.group(1))})
        found: list[monitoring_v3.TimeSeries] = []
        for metric_type in types:
            query = monitoring_v3.ListTimeSeriesRequest(request)
            query.filter = request.filter.replace(match.group(0), f'metric.type = "{metric_type}"')
            fields = [f for f in query.aggregation.group_by_fields if f != "metric.type"]
            query.aggregation.group_by_fields = fields
            found.extend(super()._list_time_series(query).time_series)
        return monitoring_v3.ListTimeSeriesResponse(time_series=found)


def _spread(total: int) -> list[tuple[datetime, int]]:
    """`total` split over METRIC_MINUTES one-minute points ending before NOW."""
    share, extra = divmod(total, METRIC_MINUTES)
    return [(NOW - timedelta(minutes=k + 1), share + (1 if k < extra else 0)) for k in range(METRIC_MINUTES)]


def exact_counts(pool_keys: Sequence[tuple[str, str]], size: int) -> Counter[tuple[str, str]]:
    """(signature, service) counts of the first `size` entries of the cycled pool, without generating them."""
    cycles, rest = divmod(size, len(pool_keys))
    counts: Counter[tuple[str, str]] = Counter()
    for key in pool_keys:
        counts[key] += cycles
    for key in pool_keys[:rest]:
        counts[key] += 1
    return counts


def monitoring_series(pool: Sequence[dict[str, Any]], pool_keys: Sequence[tuple[str, str]], size: int) -> list[Any]:
    """Exact log-based metric counts for the alerting signatures, and request counts, for a spike of `size`."""
    alerting = {s.id for s in core().classifier.signatures if s.alert}
    counts = exact_counts(pool_keys, size)
    series = [
        log_metric_series(signature, _spread(count), service=service, project=PROJECT)
        for (signature, service), count in sorted(counts.items())
        if signature in alerting and count
    ]
    statuses = [(e["resource"]["labels"]["service_name"], e.get("httpRequest", {}).get("status")) for e in pool]
    cycles, rest = divmod(size, len(pool))
    errors = Counter({key: cycles for key in statuses}) + Counter(statuses[:rest])
    per_service_5xx: Counter[str] = Counter()
    for (service, status), count in errors.items():
        if status is not None and status >= 500:
            per_service_5xx[service] += count
    for service, count in sorted(per_service_5xx.items()):
        series.append(request_count_series(service, "5xx", _spread(count), project=PROJECT))
        series.append(request_count_series(service, "2xx", _spread(count * 3), project=PROJECT))
    return series


IMAGE = f"us-docker.pkg.dev/{PROJECT}/apps/backend"


def deploy_entry() -> dict[str, Any]:
    """`gcloud run deploy backend` as the Admin Activity audit log records it (v1 ReplaceService)."""
    previous, _ = SERVICES["backend"]
    template = {"spec": {"containers": [{"image": f"{IMAGE}@sha256:b2"}]}}
    body = {"metadata": {"name": "backend", "generation": 740}, "spec": {"template": template}}
    stamp = DEPLOY_AT.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return {
        "logName": f"projects/{PROJECT}/logs/cloudaudit.googleapis.com%2Factivity",
        "insertId": "deploy-backend", "timestamp": stamp, "receiveTimestamp": stamp, "severity": "NOTICE",
        "resource": {"type": "cloud_run_revision", "labels": {"service_name": "backend", "location": REGION,
                                                              "project_id": PROJECT, "revision_name": ""}},
        "protoPayload": {
            "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
            "authenticationInfo": {"principalEmail": f"ci@{PROJECT}.iam.gserviceaccount.com"},
            "methodName": "google.cloud.run.v1.Services.ReplaceService",
            "resourceName": f"namespaces/{PROJECT}/services/backend",
            "request": {"service": body},
            "response": {**body, "metadata": {"name": "backend", "generation": 741},
                         "status": {"latestCreatedRevisionName": previous, "latestReadyRevisionName": previous}},
        },
    }  # fmt: skip


def backend_revisions() -> list[Any]:
    return [
        revision(PROJECT, REGION, "backend", name, image=f"{IMAGE}@sha256:{digest}")
        for name, digest in zip(SERVICES["backend"], ("a1", "b2"), strict=True)
    ]


def _service(logging_url: str, monitoring_address: str, run_address: str, ledger: Path) -> IncidentService:
    settings = Settings.from_env({
        "LOGGING_API_ENDPOINT": logging_url,
        "MONITORING_API_ENDPOINT": monitoring_address,
        "RUN_API_ENDPOINT": run_address,
        "SITREP_LEDGER": str(ledger),
    })  # fmt: skip
    return build_service(settings, live_sources(settings, delivery_adapters(settings)))


def measure(size: int, pool: Sequence[dict[str, Any]], pool_keys: Sequence[tuple[str, str]],
            workdir: Path) -> dict[str, Any]:
    """Two updates of one incident over a spike of `size` entries; calls, sample and card counts."""
    alerting = {s.id for s in core().classifier.signatures if s.alert}
    exact: Counter[str] = Counter()
    for (signature, _), count in exact_counts(pool_keys, size).items():
        if signature in alerting and count:
            exact[signature] += count
    first = parse_alert(json.dumps(alert_notification(started_at=NOW - timedelta(minutes=20))).encode())
    second = parse_alert(json.dumps(alert_notification(started_at=NOW - timedelta(minutes=15),
                                                        incident_id="0.second")).encode())
    with (
        LazySpikeLogging(pool, size) as logs,
        PrefixMonitoring(project=PROJECT) as monitoring,
        CloudRunFake(backend_revisions()) as run,
    ):
        logs.add_entries([deploy_entry()])
        monitoring.add_series(*monitoring_series(pool, pool_keys, size))
        service = _service(logs.url, monitoring.address, run.address, workdir / f"ledger-{size}.json")
        updates = []
        outcome: Outcome | None = None
        for alert in (first, second):
            logging_before = len(logs.requests_to("entries.list"))
            monitoring_before = len(monitoring.requests_to("ListTimeSeries"))
            run_before = len(run.requests)
            start = time.perf_counter()
            outcome = service.handle(alert, NOW)
            seconds = time.perf_counter() - start
            updates.append({
                "transition": outcome.transition.value,
                "entries_list": len(logs.requests_to("entries.list")) - logging_before,
                "list_time_series": len(monitoring.requests_to("ListTimeSeries")) - monitoring_before,
                "get_revision": len(run.requests) - run_before,
                "service_logging_calls": outcome.logging_calls,
                "service_monitoring_calls": outcome.monitoring_calls,
                "service_run_calls": outcome.run_calls,
                "seconds": round(seconds, 3),
            })  # fmt: skip
    assert outcome is not None and outcome.incident is not None and outcome.card is not None
    analysis = render(outcome.card, "json", incident=outcome.incident)
    assert isinstance(analysis, dict)
    on_card = {f["signature"]: f["count"] for f in analysis["failures"]}
    exact_shown = sum(on_card.get(signature) == count for signature, count in exact.items())
    top, top_count = exact.most_common(1)[0]
    sample = min(size, outcome.incident.records_analysed)
    sampled_top = sum(
        1 for i in range(sample) if pool_keys[i % len(pool_keys)][0] == top
    )
    return {
        "entries": size,
        "updates": updates,
        "records_analysed": outcome.incident.records_analysed,
        "sampled": analysis["evidence"]["sampled"],
        "metric_signatures": len(exact),
        "exact_counts_on_card": exact_shown,
        "top_signature": top,
        "top_exact": top_count,
        "top_on_card": on_card.get(top),
        "top_in_sample": sampled_top,
        "naive_entries_list_calls": math.ceil(size / MAX_PAGE_SIZE),
        "changes_on_card": len(analysis["changes"]),
        "deploy_linked": any(c["linked_to"] for c in analysis["changes"]),
    }


def run(sizes: Sequence[int]) -> dict[str, Any]:
    pool = spike_pool()
    classifier = core().classifier
    keys = []
    for entry in pool:
        record = record_from_entry(entry)
        keys.append((classifier.classify(record).signature, record.service))
    with tempfile.TemporaryDirectory(prefix="sitrep-api-cost-") as tmp:
        rows = [measure(size, pool, keys, Path(tmp)) for size in sizes]
    worst_logging = max(u["entries_list"] for r in rows for u in r["updates"])
    worst_monitoring = max(u["list_time_series"] for r in rows for u in r["updates"])
    worst_run = max(u["get_revision"] for r in rows for u in r["updates"])
    return {
        "rows": rows,
        "pool_entries": len(pool),
        "max_entries_list_per_update": worst_logging,
        "max_list_time_series_per_update": worst_monitoring,
        "max_get_revision_per_update": worst_run,
        "target_logging_calls": TARGET_LOGGING_CALLS,
        "target_monitoring_calls": TARGET_MONITORING_CALLS,
        "target_run_calls": TARGET_RUN_CALLS,
        "calls_agree": all(
            u["entries_list"] == u["service_logging_calls"] and u["list_time_series"] == u["service_monitoring_calls"]
            and u["get_revision"] == u["service_run_calls"]
            for r in rows for u in r["updates"]
        ),
        "all_exact_on_card": all(r["exact_counts_on_card"] == r["metric_signatures"] for r in rows),
    }


def _rows(result: dict[str, Any]) -> Iterator[str]:
    yield (f"{'spike entries':>13} {'update':>6} {'entries:list':>12} {'ListTimeSeries':>14} {'GetRevision':>11} "
           f"{'service says':>12} "
           f"{'naive list':>10} {'analysed':>8} {'sampled':>7} {'exact on card':>13} {'seconds':>7}")
    for row in result["rows"]:
        for number, update in enumerate(row["updates"], 1):
            says = (f"{update['service_logging_calls']} + {update['service_monitoring_calls']} + "
                    f"{update['service_run_calls']}")
            yield (f"{row['entries']:>13,} {number:>6} {update['entries_list']:>12} {update['list_time_series']:>14} "
                   f"{update['get_revision']:>11} "
                   f"{says:>12} "
                   f"{row['naive_entries_list_calls']:>10,} {row['records_analysed']:>8,} {row['sampled']!s:>7} "
                   f"{row['exact_counts_on_card']:>6}/{row['metric_signatures']:<6} {update['seconds']:>7}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES), help="spike sizes (log entries)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--quick", action="store_true", help="a small run that only checks the benchmark works (CI)")
    args = parser.parse_args(argv)
    result = run(QUICK_SIZES if args.quick else args.sizes)
    if args.json:
        print(json.dumps(result, indent=2, sort_keys=True))
        return 0
    print("Google API calls per incident update (update 1: the alert opens the incident; update 2: a second "
          "alert joins it),\nas recorded by the fakes; 'service says' is Outcome.logging_calls + monitoring_calls "
          "+ run_calls")
    for line in _rows(result):
        print(line)
    print("what changed on the card: " + ", ".join(
        f"{row['entries']:,} entries: {row['changes_on_card']} change(s), deploy linked: {row['deploy_linked']}"
        for row in result["rows"]))
    print("counts on the card for the signatures with a log-based metric: exact (from metrics) vs in the sample:")
    for row in result["rows"]:
        print(f"  {row['entries']:>9,} entries: {row['top_signature']} {row['top_on_card']:,} on the card "
              f"(exact {row['top_exact']:,}; {row['top_in_sample']:,} in the sample of {row['records_analysed']:,})")
    verdict = (
        "met"
        if result["max_entries_list_per_update"] <= TARGET_LOGGING_CALLS
        and result["max_list_time_series_per_update"] <= TARGET_MONITORING_CALLS
        and result["max_get_revision_per_update"] <= TARGET_RUN_CALLS
        else "NOT met"
    )
    print(f"max per update: {result['max_entries_list_per_update']} entries:list (target <= {TARGET_LOGGING_CALLS}), "
          f"{result['max_list_time_series_per_update']} ListTimeSeries (target <= {TARGET_MONITORING_CALLS}), "
          f"{result['max_get_revision_per_update']} GetRevision (target <= {TARGET_RUN_CALLS}): "
          f"{verdict}; fakes and service agree on the counts: {result['calls_agree']}; every metric count exact on "
          f"the card: {result['all_exact_on_card']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
