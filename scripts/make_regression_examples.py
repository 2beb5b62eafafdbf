#!/usr/bin/env python3
"""Generate three regression examples: recorded outages written beside the signatures they test.

Each example is a directory an on-call engineer could have exported:

  alert.json    the Cloud Monitoring notification (schema 1.2) that opened the incident
  logs.json     `gcloud logging read --format=json` output: a LogEntry array, newest first
  metrics.json  a timeSeries.list response for run.googleapis.com/request_count
  README.md     what happened and what a good analysis must conclude

  examples/node-oom-redis   Express `checkout` crash-looping on its memory limit after a
                            deploy; independently `cart` loses its Redis (ioredis errors)
  examples/go-tls-expired   Go `api-gateway` answers 502 because the upstream billing
                            certificate expired at midnight; no deploy involved
  examples/java-db-pool     Spring Boot `orders` exhausts its HikariCP pool after a deploy
                            whose Cloud SQL proxy dials time out; `inventory` hits a
                            Firestore read quota (429)

The phrasing comes from the real stacks (Cloud Run platform messages, V8, ioredis, npm,
Go net/http and crypto/x509, gRPC, Spring, Hibernate, HikariCP, Cloud SQL Auth Proxy).
Deterministic: fixed seeds and clock, byte-identical output from run to run. Stdlib only,
imports nothing from sitrep.

    python scripts/make_regression_examples.py [--out DIR]   # DIR defaults to examples/
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

REQUEST_LOG_SHARE = 0.07  # share of counted requests that appear as request log entries

BROWSER_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Safari/537.36"
)
MOBILE_UA = "ShopfrontApp/5.12.1 (iPhone; iOS 18.1; Scale/3.00)"
GO_UA = "Go-http-client/2.0"
JAVA_UA = "ReactorNetty/1.1.22"


@dataclass
class Recorder:
    """Accumulates LogEntry dicts and request counts for one project."""

    project_id: str
    region: str
    seed: int
    entries: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    # (service, revision, response_code, minute_start_ns) -> requests counted by Monitoring
    counts: dict[tuple[str, str, int, int], int] = field(default_factory=lambda: defaultdict(int))
    tags: Counter[tuple[str, str]] = field(default_factory=Counter)
    rng: random.Random = field(init=False)
    _instances: dict[tuple[str, str], list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    # --- ids -----------------------------------------------------------------------------
    def hexid(self, nbytes: int) -> str:
        return self.rng.getrandbits(nbytes * 8).to_bytes(nbytes, "big").hex()

    def new_instance(self, service: str, revision: str) -> str:
        instance = "00" + self.hexid(75)
        self._instances.setdefault((service, revision), []).append(instance)
        return instance

    def instance(self, service: str, revision: str) -> str:
        pool = self._instances.get((service, revision))
        if not pool:
            return self.new_instance(service, revision)
        return pool[-1] if len(pool) == 1 else self.rng.choice(pool[-3:])

    def trace(self) -> str:
        return f"projects/{self.project_id}/traces/{self.hexid(16)}"

    # --- entries -------------------------------------------------------------------------
    def revision_resource(self, service: str, revision: str) -> dict[str, Any]:
        """The monitored resource of a Cloud Run revision, as log entries and time series both carry it."""
        return {
            "labels": {
                "configuration_name": service,
                "location": self.region,
                "project_id": self.project_id,
                "revision_name": revision,
                "service_name": service,
            },
            "type": "cloud_run_revision",
        }

    def _entry(
        self,
        ns: int,
        service: str,
        revision: str,
        log: str,
        severity: str,
        tag: str,
        *,
        instance: str | None = None,
        labels: dict[str, str] | None = None,
        trace: str | None = None,
        digits: int = 9,
    ) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "insertId": self.hexid(12) if log == "requests" else self.hexid(7)[:14],
            "labels": {"instanceId": instance or self.instance(service, revision), **(labels or {})},
            "logName": f"projects/{self.project_id}/logs/run.googleapis.com%2F{log.replace('/', '%2F')}",
            "receiveTimestamp": rfc3339(ns + self.rng.randrange(40_000_000, 900_000_000)),
            "resource": self.revision_resource(service, revision),
            "severity": severity,
            "timestamp": rfc3339(ns, digits),
        }
        if trace:
            entry["trace"] = trace
        self.entries.append((ns, entry))
        self.tags[(service, tag)] += 1
        return entry

    def text(self, ns: int, service: str, revision: str, text: str, *, severity: str = "ERROR",
             log: str = "stderr", tag: str = "app", **kw: Any) -> dict[str, Any]:
        entry = self._entry(ns, service, revision, log, severity, tag, **kw)
        entry["textPayload"] = text
        return entry

    def system(self, ns: int, service: str, revision: str, text: str, *, severity: str,
               tag: str, instance: str | None = None) -> dict[str, Any]:
        return self.text(ns, service, revision, text, severity=severity, log="varlog/system",
                         tag=tag, instance=instance)

    def json(self, ns: int, service: str, revision: str, payload: dict[str, Any], *,
             severity: str = "INFO", log: str = "stdout", tag: str = "app",
             **kw: Any) -> dict[str, Any]:
        entry = self._entry(ns, service, revision, log, severity, tag, **kw)
        entry["jsonPayload"] = payload
        return entry

    def request(self, ns: int, service: str, revision: str, method: str, path: str, status: int,
                latency_s: float, *, ua: str = BROWSER_UA, text: str | None = None,
                tag: str | None = None, instance: str | None = None) -> dict[str, Any]:
        severity = "ERROR" if status >= 500 else "WARNING" if status >= 400 else "INFO"
        entry = self._entry(ns, service, revision, "requests", severity,
                            tag or f"request_{status // 100}xx", instance=instance,
                            trace=self.trace(), digits=6)
        entry["httpRequest"] = {
            "latency": f"{latency_s:.9f}s",
            "protocol": "HTTP/1.1",
            "remoteIp": f"{self.rng.randrange(20, 220)}.{self.rng.randrange(256)}."
                        f"{self.rng.randrange(256)}.{self.rng.randrange(1, 255)}",
            "requestMethod": method,
            "requestSize": str(self.rng.randrange(300, 2400)),
            "requestUrl": f"https://{service}-{self.project_id}.{self.region}.run.app{path}",
            "responseSize": str(self.rng.randrange(180, 42000) if status < 400 else self.rng.randrange(90, 900)),
            "serverIp": "216.239.36.53",
            "status": status,
            "userAgent": ua,
        }
        entry["spanId"] = self.hexid(8)
        if text:
            entry["textPayload"] = text
        return entry

    # --- traffic -------------------------------------------------------------------------
    def count(self, service: str, revision: str, status: int, minute_ns: int, n: int) -> None:
        self.counts[(service, revision, status, minute_ns)] += n

    def sampled(self, n: int) -> int:
        """How many of n counted requests show up in the exported request log (never more than n)."""
        k = int(n * REQUEST_LOG_SHARE + self.rng.random())
        return min(k, n)

    def at(self, minute_ns: int) -> int:
        """A random instant inside the minute starting at minute_ns."""
        return minute_ns + self.rng.randrange(60 * NS_PER_S)

    # --- output --------------------------------------------------------------------------
    def logs(self) -> list[dict[str, Any]]:
        ordered = sorted(self.entries, key=lambda pair: (pair[0], pair[1]["insertId"]), reverse=True)
        return [entry for _, entry in ordered]

    def metrics(self) -> dict[str, Any]:
        series: dict[tuple[str, str, int], list[tuple[int, int]]] = defaultdict(list)
        for (service, revision, status, minute_ns), n in self.counts.items():
            if n:
                series[(service, revision, status)].append((minute_ns, n))
        out = []
        for (service, revision, status), points in sorted(series.items()):
            points.sort(reverse=True)
            out.append({
                "metric": {
                    "labels": {"response_code": str(status), "response_code_class": f"{status // 100}xx"},
                    "type": "run.googleapis.com/request_count",
                },
                "metricKind": "DELTA",
                "points": [
                    {
                        "interval": {
                            "endTime": rfc3339(start + 60 * NS_PER_S, 0),
                            "startTime": rfc3339(start, 0),
                        },
                        "value": {"int64Value": str(n)},
                    }
                    for start, n in points
                ],
                "resource": self.revision_resource(service, revision),
                "valueType": "INT64",
            })
        return {"timeSeries": out, "unit": "1"}


def traffic(rec: Recorder, minute_ns: int, service: str, revision: str,
            mix: dict[int, int], route: Callable[[int], tuple[str, str, float, str | None]],
            *, ua: str = BROWSER_UA, tag: Callable[[int], str | None] = lambda status: None) -> None:
    """Count one minute of requests and log a sample of them; route(status) -> (method, path, latency, text)."""
    for status, n in mix.items():
        rec.count(service, revision, status, minute_ns, n)
        for _ in range(rec.sampled(n)):
            method, path, latency, text = route(status)
            rec.request(rec.at(minute_ns), service, revision, method, path, status, latency,
                        ua=ua, text=text, tag=tag(status))


def alert(*, project_id: str, project_number: int, region: str, service: str, incident_id: str,
          policy: str, policy_id: str, condition_id: str, started: datetime, severity: str,
          labels: dict[str, str], observed: str, threshold: float) -> dict[str, Any]:
    """A metric-threshold notification on a service's 5xx ratio, schema 1.2."""
    base = (f'resource.type = "cloud_run_revision" AND resource.labels.service_name = "{service}" '
            'AND metric.type = "run.googleapis.com/request_count"')
    agg = [{
        "alignmentPeriod": "60s",
        "crossSeriesReducer": "REDUCE_SUM",
        "groupByFields": ["resource.label.service_name"],
        "perSeriesAligner": "ALIGN_DELTA",
    }]
    resource_name = (f"{project_id} Cloud Run Revision labels {{project_id={project_id}, "
                     f"service_name={service}, location={region}}}")
    condition_name = f"{service} 5xx ratio above {threshold:.0%}"
    return {
        "incident": {
            "condition": {
                "conditionThreshold": {
                    "aggregations": agg,
                    "comparison": "COMPARISON_GT",
                    "denominatorAggregations": agg,
                    "denominatorFilter": base,
                    "duration": "120s",
                    "filter": base + ' AND metric.labels.response_code_class = "5xx"',
                    "thresholdValue": threshold,
                    "trigger": {"count": 1},
                },
                "displayName": condition_name,
                "name": f"projects/{project_id}/alertPolicies/{policy_id}/conditions/{condition_id}",
            },
            "condition_name": condition_name,
            "documentation": {
                "content": f"More than {threshold:.0%} of `{service}` requests fail with 5xx.",
                "mime_type": "text/markdown",
                "subject": f"[ALERT - {severity}] {policy}",
            },
            "ended_at": None,
            "incident_id": incident_id,
            "metadata": {"system_labels": {}, "user_labels": {}},
            "metric": {"displayName": "Request Count", "labels": {},
                       "type": "run.googleapis.com/request_count"},
            "observed_value": observed,
            "policy_name": policy,
            "policy_user_labels": labels,
            "resource": {"labels": {"location": region, "project_id": project_id, "service_name": service},
                         "type": "cloud_run_revision"},
            "resource_display_name": service,
            "resource_id": "",
            "resource_name": resource_name,
            "resource_type_display_name": "Cloud Run Revision",
            "scoping_project_id": project_id,
            "scoping_project_number": project_number,
            "severity": severity,
            "started_at": int(started.timestamp()),
            "state": "open",
            "summary": (f"Request Count for {resource_name} is above the threshold of "
                        f"{threshold:.3f} with a value of {observed}."),
            "threshold_value": f"{threshold:g}",
            "url": f"https://console.cloud.google.com/monitoring/alerting/incidents/{incident_id}?project={project_id}",
        },
        "version": "1.2",
    }


# =========================================================================================
# (a) node-oom-redis
# =========================================================================================

def node_oom_redis() -> tuple[Recorder, dict[str, Any], str]:
    start = datetime(2025, 11, 4, 14, 0, tzinfo=UTC)
    rec = Recorder("shopfront-prod", "europe-west1", seed=20251104)
    minutes = 40
    deploy_min, oom_min, redis_min = 8, 10, 15
    co_prev, co_new = "checkout-00213-vak", "checkout-00214-gul"
    cart_rev, catalog_rev = "cart-00057-rit", "catalog-00311-pex"
    redis_host = "10.0.0.5:6379"
    r = rec.rng

    def startup_checkout(ns: int, revision: str) -> None:
        inst = rec.new_instance("checkout", revision)
        rec.system(ns, "checkout", revision,
                   'Default STARTUP TCP probe succeeded after 1 attempt for container "checkout-1" on port 8080.',
                   severity="INFO", tag="info", instance=inst)
        rec.text(ns - 900_000_000, "checkout", revision,
                 "(node:1) [DEP0040] DeprecationWarning: The `punycode` module is deprecated. "
                 "Please use a userland alternative instead.", tag="noise", instance=inst)
        rec.text(ns - 899_000_000, "checkout", revision,
                 "(Use `node --trace-deprecation ...` to show where the warning was created)",
                 tag="noise", instance=inst)
        rec.text(ns - 700_000_000, "checkout", revision,
                 "(node:1) ExperimentalWarning: CommonJS module /app/dist/server.js is loading ES Module "
                 "/app/node_modules/@shopfront/money/index.mjs using require().\nSupport for loading ES "
                 "Module in require() is an experimental feature and might change at any time",
                 tag="noise", instance=inst)
        rec.json(ns - 300_000_000, "checkout", revision,
                 {"message": "checkout listening on :8080", "pid": 1, "hostname": "localhost",
                  "env": "production", "node": "v22.11.0"}, tag="info", instance=inst)

    def startup_cart(ns: int) -> None:
        inst = rec.new_instance("cart", cart_rev)
        rec.text(ns - 2_000_000_000, "cart", cart_rev, "npm warn config production Use `--omit=dev` instead.",
                 tag="noise", instance=inst)
        rec.text(ns - 1_900_000_000, "cart", cart_rev, "\n> cart@3.4.0 start\n> node src/index.js\n",
                 severity="INFO", log="stdout", tag="info", instance=inst)
        rec.text(ns - 1_000_000_000, "cart", cart_rev,
                 "npm notice New major version of npm available! 10.9.0 -> 11.6.2",
                 tag="noise", instance=inst)
        rec.json(ns, "cart", cart_rev, {"message": "cart api ready on port 8080", "redis": redis_host},
                 tag="info", instance=inst)

    t0 = ns_of(start)
    startup_checkout(t0 + 3 * NS_PER_S, co_prev)
    startup_checkout(t0 + 7 * NS_PER_S, co_prev)
    startup_cart(t0 + 5 * NS_PER_S)
    startup_cart(t0 + 9 * NS_PER_S)
    rec.new_instance("catalog", catalog_rev)
    rec.new_instance("catalog", catalog_rev)

    def checkout_route(status: int) -> tuple[str, str, float, str | None]:
        path = r.choice(["/api/checkout", "/api/checkout/quote", "/api/checkout/session"])
        if status == 500:
            return ("POST", path, r.uniform(0.8, 6.0),
                    "While handling this request, the container instance was found to be using too much "
                    "memory and was terminated. This is likely to cause a new container instance to be "
                    "used for the next request to this revision. If you see this message frequently, you "
                    "may have a memory leak in your code or may need more memory. Consider creating a new "
                    "revision with more memory.")
        if status == 503:
            return ("POST", path, r.uniform(0.5, 9.0),
                    "The request failed because either the HTTP response was malformed or connection to "
                    "the instance had an error. Additional troubleshooting documentation can be found at: "
                    "https://cloud.google.com/run/docs/troubleshooting#malformed-response-or-connection-error")
        if status == 400:
            return ("POST", path, r.uniform(0.01, 0.05), None)
        return ("POST", path, r.uniform(0.08, 0.6), None)

    def cart_route(status: int) -> tuple[str, str, float, str | None]:
        cart_id = f"c_{r.randrange(10**8):08d}"
        method, path = r.choice([("GET", f"/api/cart/{cart_id}"), ("POST", f"/api/cart/{cart_id}/items"),
                                 ("DELETE", f"/api/cart/{cart_id}/items/sku-{r.randrange(9999)}")])
        return (method, path, r.uniform(0.01, 0.09) if status < 500 else r.uniform(0.9, 2.4), None)

    def catalog_route(status: int) -> tuple[str, str, float, str | None]:
        if status == 404:
            return ("GET", f"/api/products/{r.randrange(10**6)}", r.uniform(0.005, 0.02), None)
        return ("GET", r.choice(["/api/products?page=1", "/api/products/featured", "/api/categories",
                                 f"/api/products/{r.randrange(10**6)}"]), r.uniform(0.01, 0.12), None)

    for m in range(minutes):
        mns = t0 + m * 60 * NS_PER_S
        # checkout: previous revision healthy until the deploy, then the new revision takes all traffic
        if m < deploy_min:
            traffic(rec, mns, "checkout", co_prev, {200: r.randrange(52, 62), 400: r.randrange(0, 2)},
                    checkout_route, ua=MOBILE_UA)
        elif m < oom_min:
            traffic(rec, mns, "checkout", co_new, {200: r.randrange(50, 58), 503: r.randrange(1, 3)},
                    checkout_route, ua=MOBILE_UA)
        else:
            ok = r.randrange(5, 11)
            traffic(rec, mns, "checkout", co_new,
                    {200: ok, 503: r.randrange(30, 38), 500: r.randrange(12, 18)}, checkout_route, ua=MOBILE_UA)
        # cart: Redis goes away at 14:15; reads and writes that need it fail
        if m < redis_min:
            traffic(rec, mns, "cart", cart_rev, {200: r.randrange(38, 46)}, cart_route, ua=MOBILE_UA)
        else:
            traffic(rec, mns, "cart", cart_rev, {200: r.randrange(24, 30), 500: r.randrange(15, 20)},
                    cart_route, ua=MOBILE_UA)
        traffic(rec, mns, "catalog", catalog_rev, {200: r.randrange(70, 90), 404: r.randrange(0, 3)},
                catalog_route)
        # healthy app lines
        for _ in range(2):
            rec.json(rec.at(mns), "catalog", catalog_rev,
                     {"message": "request completed", "req": {"method": "GET", "url": "/api/products/featured"},
                      "res": {"statusCode": 200}, "responseTime": r.randrange(4, 60)}, tag="info")
        if m < oom_min:
            rev = co_prev if m < deploy_min else co_new
            rec.json(rec.at(mns), "checkout", rev,
                     {"message": "order placed", "orderId": f"ord_{r.randrange(10**9)}",
                      "amountCents": r.randrange(900, 40000), "currency": "EUR"}, tag="info")

    # The deploy: new instances of co_new start at 14:08
    startup_checkout(t0 + deploy_min * 60 * NS_PER_S + 4 * NS_PER_S, co_new)
    startup_checkout(t0 + deploy_min * 60 * NS_PER_S + 6 * NS_PER_S, co_new)

    # checkout crash loop from 14:10: mostly killed by Cloud Run at the limit, sometimes V8 aborts first
    crash_kinds = ["kill"] * 22 + ["v8"] * 8
    r.shuffle(crash_kinds)
    for i, kind in enumerate(crash_kinds):
        ns = t0 + oom_min * 60 * NS_PER_S + i * 60 * NS_PER_S + r.randrange(5, 50) * NS_PER_S
        inst = rec.instance("checkout", co_new)
        if kind == "kill":
            used = r.choice([1025, 1027, 1029, 1031, 1031, 1033, 1038, 1041])
            rec.system(ns, "checkout", co_new,
                       f"Memory limit of 1024 MiB exceeded with {used} MiB used. Consider increasing the "
                       "memory limit, see https://cloud.google.com/run/docs/configuring/memory-limits",
                       severity="ERROR", tag="oom_limit", instance=inst)
            rec.system(ns + 180_000_000, "checkout", co_new, "Container terminated on signal 9.",
                       severity="WARNING", tag="signal", instance=inst)
        else:
            uptime = r.randrange(150_000, 400_000)
            addr = f"0x{r.randrange(0x5000000, 0x7000000):x}"
            lines = [
                "<--- Last few GCs --->",
                f"[1:{addr}]   {uptime} ms: Scavenge 1011.9 (1041.3) -> 1009.8 (1042.1) MB, 4.12 / 0.00 ms  "
                "(average mu = 0.164, current mu = 0.049) allocation failure; ",
                f"[1:{addr}]   {uptime + 1450} ms: Mark-Compact 1013.4 (1042.8) -> 1010.2 (1043.6) MB, "
                "1321.88 / 0.00 ms  (average mu = 0.118, current mu = 0.031) allocation failure; scavenge "
                "might not succeed",
                "<--- JS stacktrace --->",
                "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory"
                if i % 2 else
                "FATAL ERROR: Ineffective mark-compacts near heap limit Allocation failed - JavaScript heap "
                "out of memory",
                "----- Native stack trace -----",
                " 1: 0xb8a6e1 node::OOMErrorHandler(char const*, v8::OOMDetails const&) [node]",
                " 2: 0xf01de0 v8::Utils::ReportOOMFailure(v8::internal::Isolate*, char const*, "
                "v8::OOMDetails const&) [node]",
                " 3: 0x10d4f85  [node]",
            ]
            for j, line in enumerate(lines):
                tag = "v8_fatal" if line.startswith("FATAL ERROR") else "v8_trace"
                rec.text(ns + j * 1_000_000, "checkout", co_new, line, tag=tag, instance=inst)
            rec.system(ns + 300_000_000, "checkout", co_new, "Container terminated on signal 6.",
                       severity="WARNING", tag="signal", instance=inst)
        startup_checkout(ns + r.randrange(3, 8) * NS_PER_S, co_new)

    # cart: Redis connection reset at 14:15, then refused on every reconnect; requests give up
    redis_ns = t0 + redis_min * 60 * NS_PER_S
    for k in range(2):
        rec.text(redis_ns + k * 400_000_000, "cart", cart_rev,
                 "[ioredis] Unhandled error event: Error: read ECONNRESET\n"
                 "    at TCP.onStreamRead (node:internal/stream_base_commons:218:20)", tag="redis_error")
    for m in range(redis_min, minutes):
        mns = t0 + m * 60 * NS_PER_S
        for _ in range(2):
            rec.text(rec.at(mns), "cart", cart_rev,
                     f"[ioredis] Unhandled error event: Error: connect ECONNREFUSED {redis_host}\n"
                     "    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1610:16)", tag="redis_error")
        if m % 4 == 0:
            rec.text(rec.at(mns), "cart", cart_rev,
                     "[ioredis] Unhandled error event: Error: connect ETIMEDOUT\n"
                     "    at Socket.<anonymous> (/app/node_modules/ioredis/built/Redis.js:170:41)\n"
                     "    at Object.onceWrapper (node:events:634:28)\n"
                     "    at Socket.emit (node:events:520:28)", tag="redis_error")
        for j in range(3):
            cart_id = f"c_{r.randrange(10**8):08d}"
            stack = ('MaxRetriesPerRequestError: Reached the max retries per request limit (which is 20). '
                     'Refer to "maxRetriesPerRequest" option for details.\n'
                     '    at Socket.<anonymous> (/app/node_modules/ioredis/built/redis/event_handler.js:182:37)\n'
                     '    at Object.onceWrapper (node:events:634:28)\n'
                     '    at Socket.emit (node:events:520:28)\n'
                     '    at TCP.<anonymous> (node:net:346:12)')
            if j == 0:
                payload: dict[str, Any] = {
                    "message": f"GET /api/cart/{cart_id} failed", "stack_trace": stack,
                    "cartId": cart_id, "component": "cart-store"}
            else:
                payload = {"message": f"failed to load cart {cart_id}: {stack.splitlines()[0]}",
                           "cartId": cart_id, "component": "cart-store"}
            rec.json(rec.at(mns), "cart", cart_rev, payload, severity="ERROR", log="stderr", tag="redis_error")
    for m in range(0, minutes, 3):
        rec.json(rec.at(t0 + m * 60 * NS_PER_S), "cart", cart_rev,
                 {"message": "cart updated", "items": r.randrange(1, 7)}, tag="info")

    alert_doc = alert(
        project_id="shopfront-prod", project_number=418206733519, region="europe-west1",
        service="checkout", incident_id="0.p4s7kq2m9dxe", policy="prod checkout 5xx ratio",
        policy_id="8821460371542290117", condition_id="8821460371542291003",
        started=start + timedelta(minutes=12), severity="Critical", labels={"env": "prod", "team": "payments"},
        observed="0.842", threshold=0.05)
    readme = f"""# node-oom-redis: Node.js checkout out of memory after a deploy, cart loses Redis

Synthetic but realistic export for project `shopfront-prod` (`europe-west1`, env `prod`),
2025-11-04 14:00–14:40 UTC. Services: `checkout` and `cart` (Node.js/Express), `catalog`.

## What happened

- **14:08** `{co_new}` replaces `{co_prev}` (which answered 200s). The new build leaks
  memory per request: from 14:10 every instance climbs to the 1024 MiB limit. Cloud Run kills
  most of them (`Memory limit of 1024 MiB exceeded with 1031 MiB used.` then
  `Container terminated on signal 9.`); on some V8 aborts first (`FATAL ERROR: Reached heap limit
  Allocation failed - JavaScript heap out of memory`, `Container terminated on signal 6.`).
  Clients get 503 (`...connection to the instance had an error`) and 500 (`...using too much
  memory and was terminated`). The alert on checkout's 5xx ratio opens at 14:12.
- **14:15**, independently, the Redis instance at `{redis_host}` behind `cart` stops accepting
  connections: ioredis logs `Unhandled error event: Error: connect ECONNREFUSED {redis_host}`, requests
  fail with `MaxRetriesPerRequestError` and about 40% of cart requests answer 500.
- `catalog` is healthy throughout. Noise on every start: Node `DeprecationWarning` (punycode),
  `ExperimentalWarning` (require of ES module), `npm warn config production`, `npm notice`.

## What a good analysis concludes

- health: checkout FAILING, cart DEGRADED (or FAILING), catalog HEALTHY.
- roots: memory exhaustion in `checkout` (limit 1024 MiB) and, separately, Redis/`{redis_host}`
  unreachable in `cart`. Container signals and 5xx are symptoms; warnings are noise.
- P0 actions: raise the memory limit / fix the leak, naming 1024 MiB; roll back checkout with
  `gcloud run services update-traffic checkout --to-revisions={co_prev}=100`; check Redis at `{redis_host}`.
"""
    return rec, alert_doc, readme


# =========================================================================================
# (b) go-tls-expired
# =========================================================================================

def go_tls_expired() -> tuple[Recorder, dict[str, Any], str]:
    start = datetime(2025, 12, 1, 23, 45, tzinfo=UTC)
    expiry = datetime(2025, 12, 2, 0, 0, tzinfo=UTC)
    rec = Recorder("fieldnote-prod", "us-central1", seed=20251202)
    minutes = 40
    expiry_min = 15
    gw, billing, users = "api-gateway-00402-wuz", "billing-00177-sog", "users-00093-jab"
    host = "billing.internal.example.com"
    r = rec.rng
    t0 = ns_of(start)
    for svc, rev in (("api-gateway", gw), ("api-gateway", gw), ("api-gateway", gw),
                     ("billing", billing), ("users", users)):
        rec.new_instance(svc, rev)

    def go_time(ns: int) -> str:
        return datetime.fromtimestamp(ns // NS_PER_S, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def x509(ns: int) -> str:
        return (f"x509: certificate has expired or is not yet valid: current time {go_time(ns)} "
                f"is after {expiry.strftime('%Y-%m-%dT%H:%M:%SZ')}")

    def gw_route(status: int) -> tuple[str, str, float, str | None]:
        if status == 502:
            return ("GET", r.choice(["/v1/invoices", f"/v1/invoices/inv_{r.randrange(10**6)}",
                                     "/v1/billing/balance"]), r.uniform(0.004, 0.03), None)
        if status == 401:
            return ("GET", "/v1/users/me", r.uniform(0.002, 0.01), None)
        return r.choice([("GET", "/v1/users/me", r.uniform(0.01, 0.05), None),
                         ("GET", "/v1/invoices", r.uniform(0.05, 0.2), None),
                         ("GET", "/v1/search?q=report", r.uniform(0.08, 0.4), None),
                         ("PATCH", "/v1/users/me/preferences", r.uniform(0.02, 0.08), None)])

    def internal_route(svc: str) -> Callable[[int], tuple[str, str, float, str | None]]:
        def route(status: int) -> tuple[str, str, float, str | None]:
            if svc == "billing":
                return ("GET", r.choice(["/v1/invoices", "/v1/billing/balance", "/healthz"]),
                        r.uniform(0.01, 0.1), None)
            return ("GET", r.choice(["/v1/users/me", "/v1/users/batch", "/healthz"]), r.uniform(0.005, 0.05), None)
        return route

    for m in range(minutes):
        mns = t0 + m * 60 * NS_PER_S
        if m < expiry_min:
            traffic(rec, mns, "api-gateway", gw, {200: r.randrange(110, 130), 401: r.randrange(1, 4)}, gw_route)
            traffic(rec, mns, "billing", billing, {200: r.randrange(45, 55)}, internal_route("billing"), ua=GO_UA)
        else:
            traffic(rec, mns, "api-gateway", gw,
                    {200: r.randrange(70, 80), 401: r.randrange(1, 4), 502: r.randrange(42, 50)}, gw_route)
            # billing keeps serving its other callers; the gateway's calls never reach it
            traffic(rec, mns, "billing", billing, {200: r.randrange(8, 14)}, internal_route("billing"), ua=GO_UA)
        traffic(rec, mns, "users", users, {200: r.randrange(60, 70)}, internal_route("users"), ua=GO_UA)
        for _ in range(3):
            path, status = r.choice([("/v1/users/me", 200), ("/v1/search", 200), ("/v1/invoices", 200)])
            if m >= expiry_min and path == "/v1/invoices":
                continue
            rec.json(rec.at(mns), "api-gateway", gw,
                     {"message": "request served", "method": "GET", "path": path, "status": status,
                      "duration_ms": r.randrange(8, 180)}, tag="info")
        rec.json(rec.at(mns), "billing", billing,
                 {"message": "invoice list served", "count": r.randrange(0, 40),
                  "customer": f"cus_{r.randrange(10**5)}"},
                 tag="info")
        rec.json(rec.at(mns), "users", users, {"message": "GET /v1/users/me 200", "latency": "4.1ms"}, tag="info")

        if m >= expiry_min:
            for j in range(4):
                ns = rec.at(mns)
                form = (m + j) % 4
                if form == 0:
                    rec.text(ns, "api-gateway", gw,
                             f"{datetime.fromtimestamp(ns // NS_PER_S, UTC):%Y/%m/%d %H:%M:%S} http: proxy error: "
                             f"tls: failed to verify certificate: {x509(ns)}", tag="tls")
                elif form == 1:
                    rec.json(ns, "api-gateway", gw,
                             {"message": f'upstream billing: Get "https://{host}/v1/invoices": {x509(ns)}',
                              "upstream": "billing", "route": "/v1/invoices"},
                             severity="ERROR", log="stderr", tag="tls", trace=rec.trace())
                elif form == 2:
                    rec.json(ns, "api-gateway", gw,
                             {"message": "upstream request failed",
                              "error": f'Get "https://{host}/v1/billing/balance": tls: failed to verify '
                                       f"certificate: {x509(ns)}",
                              "upstream": "billing", "attempt": 3},
                             severity="ERROR", log="stderr", tag="tls", trace=rec.trace())
                else:
                    rec.json(ns, "api-gateway", gw,
                             {"message": f"billing.v1.Invoices/ListInvoices ({host}:443): rpc error: code = "
                                         "Unavailable desc = connection error: desc = \"transport: authentication "
                                         f"handshake failed: tls: failed to verify certificate: {x509(ns)}\"",
                              "grpc.code": "Unavailable"},
                             severity="ERROR", log="stderr", tag="tls")
            rec.json(rec.at(mns), "api-gateway", gw,
                     {"message": "GET /v1/invoices 502 Bad Gateway", "status": 502, "duration_ms": r.randrange(2, 20)},
                     severity="ERROR", tag="gw_502")

    # unrelated, and already there before midnight: slow search backend
    for m in (7, 21, 33):
        rec.json(rec.at(t0 + m * 60 * NS_PER_S), "api-gateway", gw,
                 {"message": 'search: Post "https://search.internal.example.com/v2/query": context deadline '
                             "exceeded (Client.Timeout exceeded while awaiting headers)", "path": "/v1/search"},
                 severity="WARNING", log="stderr", tag="search_timeout")
    rec.json(rec.at(t0 + 27 * 60 * NS_PER_S), "api-gateway", gw,
             {"message": "write response: context deadline exceeded", "path": "/v1/search"},
             severity="WARNING", log="stderr", tag="search_timeout")

    alert_doc = alert(
        project_id="fieldnote-prod", project_number=552093118734, region="us-central1",
        service="api-gateway", incident_id="0.w8n2r5t1c6ha", policy="api-gateway 5xx ratio",
        policy_id="5530917284460128743", condition_id="5530917284460129801",
        started=expiry + timedelta(minutes=4), severity="Error", labels={"env": "prod"},
        observed="0.381", threshold=0.1)
    readme = f"""# go-tls-expired: the gateway's upstream certificate expired at midnight

Synthetic but realistic export for project `fieldnote-prod` (`us-central1`, env `prod`),
2025-12-01 23:45 – 2025-12-02 00:25 UTC. Services: `api-gateway` (Go), `billing`, `users`.

## What happened

- The TLS certificate served for `{host}` expired at 2025-12-02T00:00:00Z. From then on
  every call from `api-gateway` to billing fails the handshake:
  `x509: certificate has expired or is not yet valid: current time ... is after 2025-12-02T00:00:00Z`,
  written four ways (net/http/httputil `http: proxy error: tls: failed to verify certificate: ...`,
  `Get "https://{host}/...": x509: ...` in the message, the same under an `error` field, and a
  gRPC `code = Unavailable ... authentication handshake failed: tls: ...` to `{host}:443`).
- The gateway answers 502 on the billing routes (about 38% of its traffic) and 200 elsewhere.
  `billing` itself is healthy (its other callers get 200s; it simply sees fewer requests).
- No deploy: `{gw}` served the whole window. A rollback is NOT the fix.
- Unrelated: a few `context deadline exceeded` warnings from the search backend, before and
  after midnight.

## What a good analysis concludes

- health: api-gateway DEGRADED (38% 5xx), billing HEALTHY, users HEALTHY.
- root: `tls` in `api-gateway`, naming `{host}`; the timeouts are at most a minor separate item.
- P0 action: renew/rotate the certificate for `{host}`; no rollback command.
"""
    return rec, alert_doc, readme


# =========================================================================================
# (c) java-db-pool
# =========================================================================================

ORDERS_FRAMES = (
    "\tat org.springframework.orm.jpa.JpaTransactionManager.doBegin(JpaTransactionManager.java:466)\n"
    "\tat org.springframework.transaction.support.AbstractPlatformTransactionManager.startTransaction"
    "(AbstractPlatformTransactionManager.java:531)\n"
    "\tat org.springframework.transaction.interceptor.TransactionAspectSupport.invokeWithinTransaction"
    "(TransactionAspectSupport.java:380)\n"
    "\tat com.acme.orders.api.OrderController.create(OrderController.java:64)\n"
    "\tat org.apache.tomcat.util.threads.ThreadPoolExecutor$Worker.run(ThreadPoolExecutor.java:659)\n"
    "\tat java.base/java.lang.Thread.run(Thread.java:1583)\n"
)


def java_db_pool() -> tuple[Recorder, dict[str, Any], str]:
    start = datetime(2025, 10, 21, 9, 0, tzinfo=UTC)
    rec = Recorder("acme-orders-prd", "us-east1", seed=20251021)
    minutes = 45
    deploy_min, quota_min = 10, 25
    prev, new = "orders-00088-kex", "orders-00089-wov"
    inv, web = "inventory-00141-bam", "storefront-00502-lut"
    conn_name = "acme-orders-prd:us-east1:orders-db"
    db_ip = "10.61.0.3:3307"
    r = rec.rng
    t0 = ns_of(start)
    proxy_labels = {"container_name": "cloud-sql-proxy"}

    def spring(ns: int, revision: str, level: str, logger: str, thread: str, message: str, *,
               tag: str, service: str = "orders") -> None:
        rec.json(ns, service, revision,
                 {"message": message, "thread": thread, "logger": logger, "context": "default",
                  "serviceContext": {"service": service}},
                 severity=level, log="stdout", tag=tag)

    def boot(ns: int, revision: str) -> None:
        rec.new_instance("orders", revision)
        spring(ns, revision, "INFO", "com.acme.orders.OrdersApplication", "main",
               "Starting OrdersApplication v4.7.0 using Java 21.0.5 with PID 1 "
               "(/app/orders.jar started by cnb in /workspace)",
               tag="info")
        spring(ns + 2 * NS_PER_S, revision, "WARNING", "org.hibernate.orm.deprecation", "main",
               "HHH90000025: PostgreSQLDialect does not need to be specified explicitly using 'hibernate.dialect' "
               "(remove the property setting and it will be selected by default)", tag="noise")
        spring(ns + 3 * NS_PER_S, revision, "WARNING",
               "o.s.b.a.o.j.JpaBaseConfiguration$JpaWebConfiguration", "main",
               "spring.jpa.open-in-view is enabled by default. Therefore, database queries may be performed during "
               "view rendering. Explicitly configure spring.jpa.open-in-view to disable this warning", tag="noise")
        spring(ns + 4 * NS_PER_S, revision, "INFO", "com.acme.orders.OrdersApplication", "main",
               "Started OrdersApplication in 6.912 seconds (process running for 7.804)", tag="info")
        rec.text(ns - NS_PER_S, "orders", revision,
                 f"2025/10/21 {datetime.fromtimestamp(ns // NS_PER_S, UTC):%H:%M:%S} [{conn_name}] "
                 "Listening on 127.0.0.1:5432",
                 severity="INFO", tag="info", labels=proxy_labels)
        rec.text(ns - NS_PER_S + 1000, "orders", revision,
                 f"2025/10/21 {datetime.fromtimestamp(ns // NS_PER_S, UTC):%H:%M:%S} The proxy has started "
                 "successfully and is ready for new connections!", severity="INFO", tag="info", labels=proxy_labels)

    boot(t0 + 2 * NS_PER_S, prev)
    boot(t0 + 4 * NS_PER_S, prev)
    rec.new_instance("inventory", inv)
    rec.new_instance("storefront", web)

    def orders_route(status: int) -> tuple[str, str, float, str | None]:
        method, path = r.choice([("POST", "/api/orders"), ("GET", f"/api/orders/{r.randrange(10**7)}"),
                                 ("GET", "/api/orders?customer=me")])
        if status == 500:
            return (method, path, r.uniform(30.0, 30.4), None)
        return (method, path, r.uniform(0.02, 0.3), None)

    def inv_route(status: int) -> tuple[str, str, float, str | None]:
        path = r.choice([f"/v1/stock/sku-{r.randrange(99999)}", "/v1/stock:batchGet", "/v1/reservations"])
        return ("GET" if "stock" in path else "POST", path, r.uniform(0.01, 0.2), None)

    def web_route(status: int) -> tuple[str, str, float, str | None]:
        return ("GET", r.choice(["/", "/products", "/cart", "/static/app.8f2c1.js"]), r.uniform(0.003, 0.08), None)

    for m in range(minutes):
        mns = t0 + m * 60 * NS_PER_S
        if m < deploy_min:
            traffic(rec, mns, "orders", prev,
                    {200: r.randrange(75, 90), 201: r.randrange(10, 16), 404: r.randrange(0, 2)},
                    orders_route, ua=JAVA_UA)
        elif m < deploy_min + 2:
            traffic(rec, mns, "orders", new, {200: r.randrange(40, 50), 500: r.randrange(20, 30)},
                    orders_route, ua=JAVA_UA)
        else:
            traffic(rec, mns, "orders", new, {200: r.randrange(4, 9), 500: r.randrange(70, 85)},
                    orders_route, ua=JAVA_UA)
        if m < quota_min:
            traffic(rec, mns, "inventory", inv, {200: r.randrange(95, 110)}, inv_route, ua=JAVA_UA)
        else:
            traffic(rec, mns, "inventory", inv,
                    {200: r.randrange(70, 80), 429: r.randrange(24, 30), 500: r.randrange(1, 3)},
                    inv_route, ua=JAVA_UA)
        traffic(rec, mns, "storefront", web, {200: r.randrange(60, 75), 304: r.randrange(5, 10)}, web_route)
        rev = prev if m < deploy_min else new
        if m < deploy_min + 1:
            spring(rec.at(mns), rev, "INFO", "com.acme.orders.api.OrderController", "http-nio-8080-exec-3",
                   f"Order {r.randrange(10**7)} created for customer {r.randrange(10**6)}", tag="info")
        rec.json(rec.at(mns), "inventory", inv,
                 {"message": f"Reserved {r.randrange(1, 5)} units of sku-{r.randrange(99999)}",
                  "logger_name": "com.acme.inventory.ReservationService", "thread_name": "http-nio-8080-exec-1",
                  "level_value": 20000}, tag="info")
        if m % 2 == 0:
            spring(rec.at(mns), rev, "WARNING", "org.hibernate.orm.query", "http-nio-8080-exec-6",
                   "HHH90003004: firstResult/maxResults specified with collection fetch; applying in memory",
                   tag="noise")

    # the deploy at 09:18: new instances boot, the proxy's dials to the private IP time out
    for k in range(3):
        boot(t0 + deploy_min * 60 * NS_PER_S + (5 + 7 * k) * NS_PER_S, new)
    for m in range(deploy_min, minutes):
        mns = t0 + m * 60 * NS_PER_S
        for _ in range(2):
            ns = rec.at(mns)
            clock = datetime.fromtimestamp(ns // NS_PER_S, UTC).strftime("%Y/%m/%d %H:%M:%S")
            rec.text(ns, "orders", new,
                     f"{clock} [{conn_name}] failed to connect to instance: Dial error: failed to dial "
                     f'(connection name = "{conn_name}"): dial tcp {db_ip}: i/o timeout',
                     tag="sql_proxy", labels=proxy_labels)
        for j in range(3):
            ns = rec.at(mns)
            waiting = r.randrange(8, 60)
            pool = f"total=0, active=0, idle=0, waiting={waiting}"
            thread = f"http-nio-8080-exec-{r.randrange(1, 200)}"
            kind = (m + j) % 3
            if kind == 0:
                spring(ns, new, "WARNING", "o.h.engine.jdbc.spi.SqlExceptionHelper", thread,
                       "SQL Error: 0, SQLState: 08001", tag="sql_state")
                spring(ns + 1000, new, "ERROR", "o.h.engine.jdbc.spi.SqlExceptionHelper", thread,
                       f"HikariPool-1 - Connection is not available, request timed out after 30000ms ({pool}).",
                       tag="hikari")
            elif kind == 1:
                spring(ns, new, "ERROR", "o.a.c.c.C.[.[.[/].[dispatcherServlet]", thread,
                       "Servlet.service() for servlet [dispatcherServlet] in context with path [] threw exception "
                       "[Request processing failed: org.springframework.transaction.CannotCreateTransactionException: "
                       "Could not open JPA EntityManager for transaction] with root cause\n"
                       f"java.sql.SQLTransientConnectionException: HikariPool-1 - Connection is not available, "
                       f"request timed out after 30000ms ({pool}).\n"
                       "\tat com.zaxxer.hikari.pool.HikariPool.createTimeoutException(HikariPool.java:686)\n"
                       "\tat com.zaxxer.hikari.pool.HikariPool.getConnection(HikariPool.java:179)\n"
                       "\tat com.zaxxer.hikari.HikariDataSource.getConnection(HikariDataSource.java:100)\n"
                       + ORDERS_FRAMES, tag="hikari")
            else:
                spring(ns, new, "ERROR", "c.a.o.api.GlobalExceptionHandler", thread,
                       "org.springframework.transaction.CannotCreateTransactionException: Could not open JPA "
                       "EntityManager for transaction\n" + ORDERS_FRAMES
                       + "Caused by: org.hibernate.exception.JDBCConnectionException: Unable to acquire JDBC "
                       f"Connection [HikariPool-1 - Connection is not available, request timed out after 30000ms "
                       f"({pool}).] [n/a]\n"
                       "\tat org.hibernate.exception.internal.SQLStateConversionDelegate.convert"
                       "(SQLStateConversionDelegate.java:100)\n"
                       "\t... 48 common frames omitted\n"
                       "Caused by: java.sql.SQLTransientConnectionException: HikariPool-1 - Connection is not "
                       f"available, request timed out after 30000ms ({pool}).\n"
                       "\tat com.zaxxer.hikari.pool.HikariPool.createTimeoutException(HikariPool.java:686)\n"
                       "\t... 57 common frames omitted\n"
                       "Caused by: org.postgresql.util.PSQLException: The connection attempt failed.\n"
                       "\tat org.postgresql.core.v3.ConnectionFactoryImpl.openConnectionImpl"
                       "(ConnectionFactoryImpl.java:358)\n"
                       "\t... 9 common frames omitted\n"
                       "Caused by: java.io.EOFException: null\n"
                       "\tat org.postgresql.core.PGStream.receiveChar(PGStream.java:467)\n"
                       "\t... 14 common frames omitted", tag="hikari")
        if m % 5 == 0:
            spring(rec.at(mns), new, "DEBUG", "com.zaxxer.hikari.pool.HikariPool", "HikariPool-1 housekeeper",
                   "HikariPool-1 - Pool stats (total=0, active=0, idle=0, waiting=41)", tag="hikari_stats")

    # inventory: Firestore read quota from 09:25 (a batch export elsewhere in the project eats it)
    quota = ("Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute' of service "
             "'firestore.googleapis.com' for consumer 'project_number:990314552087'.")
    for m in range(quota_min, minutes):
        mns = t0 + m * 60 * NS_PER_S
        for j in range(3):
            sku = f"sku-{r.randrange(99999)}"
            if j == 0:
                payload: dict[str, Any] = {
                    "message": f"Stock read failed for {sku}, answering 429",
                    "logger_name": "com.acme.inventory.StockRepository", "thread_name": "http-nio-8080-exec-9",
                    "level_value": 40000,
                    "stack_trace": "com.google.api.gax.rpc.ResourceExhaustedException: io.grpc.StatusRuntimeException: "
                                   f"RESOURCE_EXHAUSTED: {quota}\n"
                                   "\tat com.google.api.gax.rpc.ApiExceptionFactory.createException"
                                   "(ApiExceptionFactory.java:100)\n"
                                   "\tat com.google.cloud.firestore.FirestoreImpl.getAll(FirestoreImpl.java:214)\n"
                                   "Caused by: io.grpc.StatusRuntimeException: RESOURCE_EXHAUSTED: " + quota + "\n"
                                   "\tat io.grpc.Status.asRuntimeException(Status.java:533)\n"
                                   "\t... 21 common frames omitted"}
                rec.json(rec.at(mns), "inventory", inv, payload, severity="ERROR", tag="quota")
            elif j == 1:
                rec.json(rec.at(mns), "inventory", inv,
                         {"message": "Firestore read failed: io.grpc.StatusRuntimeException: "
                                     f"RESOURCE_EXHAUSTED: {quota}",
                          "logger_name": "com.acme.inventory.StockRepository", "level_value": 40000},
                         severity="ERROR", tag="quota")
            else:
                rec.json(rec.at(mns), "inventory", inv,
                         {"message": f"Retrying batchGet for {sku} after RESOURCE_EXHAUSTED (attempt 2 of 3)",
                          "logger_name": "com.acme.inventory.StockRepository", "level_value": 30000},
                         severity="WARNING", tag="quota")

    alert_doc = alert(
        project_id="acme-orders-prd", project_number=990314552087, region="us-east1",
        service="orders", incident_id="0.k3v9m2d7q1zf", policy="orders 5xx ratio (production)",
        policy_id="11207734459120658812", condition_id="11207734459120660234",
        started=start + timedelta(minutes=deploy_min + 3), severity="Critical", labels={"environment": "production"},
        observed="0.913", threshold=0.05)
    readme = f"""# java-db-pool: Spring Boot orders starves its HikariCP pool after a deploy; inventory hits a quota

Synthetic but realistic export for project `acme-orders-prd` (`us-east1`, environment
`production`), 2025-10-21 09:00–09:45 UTC. Services: `orders` (Spring Boot + Cloud SQL Auth
Proxy sidecar), `inventory` (Spring Boot + Firestore), `storefront`.

## What happened

- **09:10** `{new}` replaces `{prev}` (which answered 200/201). The new revision's egress no
  longer reaches the Cloud SQL instance's private IP: the proxy sidecar logs
  `[{conn_name}] failed to connect to instance: Dial error: failed to dial ...: dial tcp {db_ip}: i/o timeout`.
  HikariCP cannot open connections, so each request waits the pool's 30 s and fails:
  `HikariPool-1 - Connection is not available, request timed out after 30000ms (total=0, ...)`,
  `CannotCreateTransactionException` stack traces with `Caused by:` chains (JDBCConnectionException,
  SQLTransientConnectionException, PSQLException, EOFException). About 90% of orders requests
  answer 500 after ~30 s. The alert opens at 09:13.
- **09:25**, independently, `inventory` exhausts the Firestore read quota:
  `RESOURCE_EXHAUSTED: Quota exceeded for quota metric 'Read requests' and limit 'Read requests per
  minute'`; about 25% of its requests answer 429.
- `storefront` is healthy. Noise: Hibernate `HHH90000025` dialect and `HHH90003004`
  (collection fetch paging) warnings, the `spring.jpa.open-in-view` warning.

## What a good analysis concludes

- health: orders FAILING, inventory DEGRADED, storefront HEALTHY.
- roots: `database` in `orders` (pool timeouts from Cloud SQL dial timeouts to `{db_ip}`), and
  separately `resource_exhaustion` (quota) in `inventory`. HHH/open-in-view warnings are noise.
- P0 actions name the pool / its 30 s timeout or the Cloud SQL connection, and roll back:
  `gcloud run services update-traffic orders --to-revisions={prev}=100`.
"""
    return rec, alert_doc, readme


EXAMPLES: dict[str, Callable[[], tuple[Recorder, dict[str, Any], str]]] = {
    "node-oom-redis": node_oom_redis,
    "go-tls-expired": go_tls_expired,
    "java-db-pool": java_db_pool,
}


def check(logs: list[dict[str, Any]], metrics: dict[str, Any]) -> None:
    """Newest first, and no minute holds more request logs than Monitoring counted."""
    stamps = [parse_ns(e["timestamp"]) for e in logs]
    assert all(a >= b for a, b in itertools.pairwise(stamps)), "logs not newest-first"
    counted: Counter[tuple[str, str, int, str]] = Counter()
    for ts in metrics["timeSeries"]:
        labels = ts["resource"]["labels"]
        for p in ts["points"]:
            counted[(labels["service_name"], labels["revision_name"], int(ts["metric"]["labels"]["response_code"]),
                     p["interval"]["startTime"][:16])] += int(p["value"]["int64Value"])
    logged: Counter[tuple[str, str, int, str]] = Counter()
    for e in logs:
        if "httpRequest" in e:
            labels = e["resource"]["labels"]
            logged[(labels["service_name"], labels["revision_name"], e["httpRequest"]["status"],
                    e["timestamp"][:16])] += 1
    for key, n in logged.items():
        assert n <= counted[key], f"more request logs than counted requests for {key}"


def write(name: str, out: Path) -> str:
    rec, alert_doc, readme = EXAMPLES[name]()
    logs, metrics = rec.logs(), rec.metrics()
    check(logs, metrics)
    folder = out / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "alert.json").write_text(dump(alert_doc), encoding="utf-8")
    (folder / "logs.json").write_text(dump(logs), encoding="utf-8")
    (folder / "metrics.json").write_text(dump(metrics), encoding="utf-8")
    table = "\n".join(f"| {svc} | {tag} | {n} |" for (svc, tag), n in sorted(rec.tags.items()))
    totals: Counter[tuple[str, str]] = Counter()
    for (svc, _rev, status, _m), n in rec.counts.items():
        totals[(svc, f"{status // 100}xx")] += n
    req_table = "\n".join(
        f"| {svc} | {sum(n for (s, _), n in totals.items() if s == svc)} | "
        + " | ".join(str(totals[(svc, c)]) for c in ("2xx", "4xx", "5xx")) + " |"
        for svc in sorted({s for s, _ in totals}))
    readme += (
        f"\n## Files\n\n`logs.json`: {len(logs)} LogEntry, newest first. `metrics.json`: "
        f"{len(metrics['timeSeries'])} request_count series (per revision and response code, 60 s DELTA).\n"
        "Generated by `python scripts/make_regression_examples.py`; do not edit by hand.\n\n"
        "| service | entries of kind | count |\n|---|---|---|\n" + table + "\n\n"
        "| service | requests (metrics) | 2xx | 4xx | 5xx |\n|---|---|---|---|---|\n" + req_table + "\n")
    (folder / "README.md").write_text(readme, encoding="utf-8")
    return f"{name}: {len(logs)} entries, {len(metrics['timeSeries'])} series -> {folder}"


def main(argv: list[str] | None = None) -> int:
    return write_examples(__doc__, EXAMPLES, write, argv)


if __name__ == "__main__":
    sys.exit(main())
