"""Aggregation: one streaming pass over classified records, keeping counts, never the records.

Memory is bounded whatever the spike: per-signature and per-template counters, a capped set of
entity values, one example per group, and a per-minute histogram.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from functions.analysis.classify.signatures import log_severity_rank
from functions.analysis.deploys import RevisionTraffic
from functions.analysis.requests import request_status
from functions.core.model import (
    Category,
    ClientErrors,
    Failure,
    Finding,
    LogRecord,
    RequestStats,
    Severity,
    Template,
)
from functions.intake.evidence import url_path

MAX_ENTITY_VALUES = 16  # distinct values kept per entity per signature
MAX_EXAMPLE_CHARS = 2_000  # an excerpt, not the whole 100 KB message
MAX_SERVICES_PER_GROUP = 64
MAX_SERVICE_ENTITY_VALUES = 4  # distinct values kept per entity per signature per service
MAX_CLIENTS = 256  # distinct client IPs / user agents counted per service; later ones are not (bounded memory)
MAX_CLIENT_PATHS = 32  # distinct paths remembered per client
_THROTTLED = 429
_WARNING_RANK = log_severity_rank("WARNING")
_NOT_FAILURES = (Category.NOISE, Category.UNKNOWN)
_rank = functools.lru_cache(maxsize=64)(log_severity_rank)  # a handful of severity names per export


def _count_values(counters: dict[str, Counter[str]], entities: Mapping[str, str], cap: int) -> None:
    """Count each entity's value; a value not yet seen is counted only while fewer than `cap` are kept."""
    for name, value in entities.items():
        counter = counters.get(name)
        if counter is None:
            counter = counters[name] = Counter()
        if value in counter:
            counter[value] += 1
        elif len(counter) < cap:
            counter[value] = 1


def _status_class(status: int) -> str:
    return f"{status // 100}xx" if 100 <= status <= 599 else "other"


@dataclass
class _FailureAcc:
    category: Category
    signature: str
    severity: Severity
    summary: str
    count: int = 0
    by_service: Counter[str] = field(default_factory=Counter)
    revisions: Counter[str] = field(default_factory=Counter)
    entities: dict[str, Counter[str]] = field(default_factory=dict)
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    example: str = ""
    weak: bool = True  # until a finding that is not a weak cue is counted
    client_errors: int = 0
    svc_first: dict[str, datetime] = field(default_factory=dict)
    svc_entities: dict[str, dict[str, Counter[str]]] = field(default_factory=dict)


@dataclass
class _TemplateAcc:
    category: Category
    signature: str
    count: int = 0
    services: set[str] = field(default_factory=set)
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    example: str = ""
    text_field: str = ""
    loud: int = 0


@dataclass
class _Requests:
    by_class: Counter[str] = field(default_factory=Counter)
    by_status: Counter[int] = field(default_factory=Counter)
    by_revision_total: Counter[str] = field(default_factory=Counter)
    by_revision_5xx: Counter[str] = field(default_factory=Counter)
    by_minute_total: Counter[int] = field(default_factory=Counter)
    by_minute_failed: Counter[int] = field(default_factory=Counter)
    clients_4xx: dict[str, _ClientAcc] = field(default_factory=dict)


@dataclass
class _ClientAcc:
    count: int = 0
    auth: int = 0
    paths: Counter[str] = field(default_factory=Counter)


def _earlier(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return a if a <= b else b


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return a if a >= b else b


@dataclass(frozen=True)
class Aggregates:
    """What one pass over the evidence yields."""

    records: int
    failures: tuple[Failure, ...]
    templates: tuple[Template, ...]
    request_stats: dict[str, RequestStats]
    traffic: dict[str, dict[str, RevisionTraffic]]
    minutes: dict[int, int]
    services: tuple[str, ...]
    latest: datetime | None


class Aggregator:
    """Folds (record, finding, template id) triples into bounded aggregates."""

    def __init__(self) -> None:
        self.records = 0
        self._failures: dict[str, _FailureAcc] = {}
        self._templates: dict[str, _TemplateAcc] = {}
        self._requests: dict[str, _Requests] = {}
        self._rev_failures: dict[str, Counter[str]] = {}
        self._minutes: Counter[int] = Counter()
        self._services: dict[str, None] = {}
        self._latest: datetime | None = None

    def add_request(self, record: LogRecord) -> None:
        """Count a request log line (any status) for health when metrics are absent."""
        status = record.http_status
        if status is None:
            return
        req = self._requests.get(record.service)
        if req is None:
            req = self._requests[record.service] = _Requests()
        cls = _status_class(status)
        req.by_class[cls] += 1
        req.by_status[status] += 1
        if record.revision:
            req.by_revision_total[record.revision] += 1
            if cls == "5xx":
                req.by_revision_5xx[record.revision] += 1
        if record.timestamp is not None:
            minute = int(record.timestamp.timestamp()) // 60
            req.by_minute_total[minute] += 1
            if cls == "5xx" or status == _THROTTLED:
                req.by_minute_failed[minute] += 1
        if cls == "4xx":
            path = url_path(record.http_url)
            for client in (f"ip {record.remote_ip}" if record.remote_ip else "",
                           f"agent {record.user_agent}" if record.user_agent else ""):
                acc = req.clients_4xx.get(client) if client else None
                if client and acc is None and len(req.clients_4xx) < MAX_CLIENTS:
                    acc = req.clients_4xx[client] = _ClientAcc()
                if acc is None:
                    continue
                acc.count += 1
                acc.auth += status in (401, 403)
                if path in acc.paths or len(acc.paths) < MAX_CLIENT_PATHS:
                    acc.paths[path] += 1

    def add(self, record: LogRecord, finding: Finding, template_id: str | None) -> None:
        """Count one record; `template_id` is None for records that are not worth a template.

        Runs once per record of an export: locals and inline comparisons, no helper calls per field.
        """
        self.records += 1
        ts = record.timestamp
        if ts is not None:
            latest = self._latest
            if latest is None or ts > latest:
                self._latest = ts
        service = record.service
        if service and service not in self._services:
            self._services[service] = None
        status = record.http_status
        if status is not None:
            self.add_request(record)
        if template_id is None:
            return
        signature = finding.signature
        acc = self._failures.get(signature)
        if acc is None:
            acc = self._failures[signature] = _FailureAcc(
                finding.category, signature, finding.severity, finding.summary
            )
        acc.count += 1
        if acc.weak and not finding.weak:
            acc.weak = False
        if status is None:
            status = request_status(record)
        if status is not None and 400 <= status < 500 and status != _THROTTLED:
            acc.client_errors += 1
        by_service = acc.by_service
        if service in by_service:
            by_service[service] += 1
        elif len(by_service) < MAX_SERVICES_PER_GROUP:
            by_service[service] = 1
        revision = record.revision
        if revision:
            acc.revisions[revision] += 1
        entities = finding.entities
        if service in by_service:  # bounded like by_service
            if ts is not None:
                first = acc.svc_first.get(service)
                if first is None or ts < first:
                    acc.svc_first[service] = ts
            own = acc.svc_entities.get(service)
            if own is None:
                own = acc.svc_entities[service] = {}
            _count_values(own, entities, MAX_SERVICE_ENTITY_VALUES)
        if entities:
            _count_values(acc.entities, entities, MAX_ENTITY_VALUES)
        if ts is not None:
            if acc.first_seen is None or ts < acc.first_seen:
                acc.first_seen = ts
            if acc.last_seen is None or ts > acc.last_seen:
                acc.last_seen = ts
        if not acc.example:
            acc.example = record.message[:MAX_EXAMPLE_CHARS]
        tpl = self._templates.get(template_id)
        if tpl is None:
            tpl = self._templates[template_id] = _TemplateAcc(finding.category, signature)
            tpl.example = record.message[:MAX_EXAMPLE_CHARS]
            tpl.text_field = record.text_field
        tpl.count += 1
        if _rank(record.severity) >= _WARNING_RANK:
            tpl.loud += 1
        if service and len(tpl.services) < MAX_SERVICES_PER_GROUP:
            tpl.services.add(service)
        if ts is not None:
            if tpl.first_seen is None or ts < tpl.first_seen:
                tpl.first_seen = ts
            if tpl.last_seen is None or ts > tpl.last_seen:
                tpl.last_seen = ts
        if finding.category not in _NOT_FAILURES:
            if ts is not None:
                self._minutes[int(ts.timestamp()) // 60] += 1
            if revision:
                per_service = self._rev_failures.get(service)
                if per_service is None:
                    per_service = self._rev_failures[service] = Counter()
                per_service[revision] += 1

    def merge_templates(self, resolve: Callable[[str], str]) -> None:
        """Fold rows whose clusters merged after they were counted (the miner widens templates)."""
        merged: dict[str, _TemplateAcc] = {}
        for tid, acc in self._templates.items():
            target = resolve(tid)
            into = merged.get(target)
            if into is None:
                merged[target] = acc
                continue
            into.count += acc.count
            into.loud += acc.loud
            into.services |= acc.services
            into.first_seen = _earlier(into.first_seen, acc.first_seen)
            into.last_seen = _later(into.last_seen, acc.last_seen)
        self._templates = merged

    def result(self, template_text: dict[str, str]) -> Aggregates:
        """Freeze the aggregates; `template_text` maps template ids to their final masked text."""
        failures = []
        for acc in self._failures.values():
            failures.append(
                Failure(
                    category=acc.category,
                    signature=acc.signature,
                    severity=acc.severity,
                    summary=acc.summary,
                    count=acc.count,
                    services=tuple(s for s, _ in acc.by_service.most_common() if s),
                    entities={k: tuple(v for v, _ in c.most_common()) for k, c in acc.entities.items()},
                    first_seen=acc.first_seen,
                    last_seen=acc.last_seen,
                    revisions=tuple(r for r, _ in acc.revisions.most_common()),
                    example=acc.example,
                    counts_by_service=dict(acc.by_service),
                    weak=acc.weak,
                    client_errors=acc.client_errors,
                    first_seen_by_service=dict(acc.svc_first) if len(acc.by_service) > 1 else {},
                    entities_by_service={
                        service: {k: tuple(v for v, _ in c.most_common()) for k, c in own.items()}
                        for service, own in acc.svc_entities.items()
                    } if len(acc.by_service) > 1 else {},
                )
            )
        failures.sort(key=lambda f: (f.severity.rank, -f.count, f.signature))
        templates = [
            Template(
                template_id=tid,
                text=template_text.get(tid, acc.example),
                count=acc.count,
                category=acc.category,
                signature=acc.signature,
                services=tuple(sorted(acc.services)),
                first_seen=acc.first_seen,
                last_seen=acc.last_seen,
                example=acc.example,
                text_field=acc.text_field,
                loud=acc.loud,
            )
            for tid, acc in self._templates.items()
        ]
        templates.sort(key=lambda t: (-t.count, t.first_seen or datetime.max.replace(tzinfo=UTC)))
        stats = {
            service: RequestStats(
                service=service,
                by_class=dict(req.by_class),
                source="logs",
                by_revision_5xx=dict(req.by_revision_5xx),
                by_revision_total=dict(req.by_revision_total),
                by_status=dict(req.by_status),
                by_minute_total=dict(req.by_minute_total),
                by_minute_failed=dict(req.by_minute_failed),
                clients_4xx={
                    client: ClientErrors(acc.count, acc.auth, tuple(p for p, _ in acc.paths.most_common()))
                    for client, acc in req.clients_4xx.items()
                },
                logged_4xx=req.by_class.get("4xx", 0),
            )
            for service, req in self._requests.items()
            if service
        }
        return Aggregates(
            records=self.records,
            failures=tuple(failures),
            templates=tuple(templates),
            request_stats=stats,
            traffic=self._traffic(stats),
            minutes=dict(self._minutes),
            services=tuple(self._services),
            latest=self._latest,
        )

    def _traffic(self, stats: dict[str, RequestStats]) -> dict[str, dict[str, RevisionTraffic]]:
        out: dict[str, dict[str, RevisionTraffic]] = {}
        services = set(self._rev_failures) | set(stats)
        for service in services:
            req = stats.get(service)
            fails = self._rev_failures.get(service, Counter())
            revisions = set(fails) | set(req.by_revision_total if req else {})
            out[service] = {
                rev: RevisionTraffic(
                    requests=req.by_revision_total.get(rev, 0) if req else 0,
                    errors_5xx=req.by_revision_5xx.get(rev, 0) if req else 0,
                    failures=fails.get(rev, 0),
                )
                for rev in revisions
            }
        return out
