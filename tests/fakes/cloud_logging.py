"""Cloud Logging ``entries:list`` (REST) on loopback, for google-cloud-logging tests.

``google.cloud.logging.Client(project=P, credentials=AnonymousCredentials(),
_use_grpc=False, client_options={"api_endpoint": fake.url})`` works against it.
Errors are Google's JSON (``{"error": {"code", "message", "status"}}``).

The filter evaluator understands what our adapter sends (comparisons on LogEntry
fields, ``AND``/``OR``/``NOT``, parentheses, value groups ``f=("a" OR "b")``)
with Logging's precedence: NOT, then OR, then AND. Terms it cannot evaluate
(bare words, functions such as ``sample()``, unknown fields) match everything
and are recorded in ``ignored_filter_terms``.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tests.fakes import FakeHTTPServer, RecordedRequest, Response

PROJECT = "test-project"

# Limits from the logging.v2 discovery document and proto docs (Cloud Logging API reference, entries.list).
MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 50
MAX_FILTER_CHARS = 20_000
ORDER_BY = ("timestamp asc", "timestamp desc")
REQUEST_FIELDS = frozenset({"resourceNames", "projectIds", "filter", "orderBy", "pageSize", "pageToken"})
LOG_ENTRY_FIELDS = frozenset(
    {
        "logName", "resource", "timestamp", "receiveTimestamp", "severity", "insertId", "labels",
        "httpRequest", "trace", "spanId", "traceSampled", "sourceLocation", "operation", "split",
        "errorGroups", "textPayload", "jsonPayload", "protoPayload",
    }
)  # fmt: skip
SEVERITIES = {
    "DEFAULT": 0, "DEBUG": 100, "INFO": 200, "NOTICE": 300, "WARNING": 400,
    "ERROR": 500, "CRITICAL": 600, "ALERT": 700, "EMERGENCY": 800,
}  # fmt: skip
_TIME_FIELDS = frozenset({"timestamp", "receiveTimestamp"})
_RFC3339 = re.compile(
    r"^(\d{4})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d)(?::(\d\d)(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d\d:?\d\d)?$", re.I
)


class FilterSyntaxError(ValueError):
    """The filter cannot be parsed (the real service answers 400 INVALID_ARGUMENT)."""


def timestamp_nanos(text: str) -> int:
    """RFC3339 (also ``+0000`` offsets, as the Python client writes them) to epoch nanoseconds."""
    m = _RFC3339.match(text.strip())
    if not m:
        raise FilterSyntaxError(f"invalid timestamp: {text!r}")
    year, month, day, hour, minute, second, frac, zone = m.groups()
    moment = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0), tzinfo=UTC)
    nanos = int(moment.timestamp()) * 1_000_000_000 + int((frac or "0").ljust(9, "0"))
    if zone and zone.upper() != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        nanos -= sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60) * 1_000_000_000
    return nanos


# --- filter parsing ------------------------------------------------------------------
_TOKEN = re.compile(
    r'\s*(?:(?P<lp>\()|(?P<rp>\))|(?P<str>"(?:[^"\\]|\\.)*")|(?P<op>>=|<=|!=|=~|!~|=|>|<|:)'
    r"|(?P<word>[^\s()\"=<>!:]+))"
)


@dataclass(frozen=True)
class _Tok:
    kind: str
    text: str
    start: int


def _tokenize(text: str) -> list[_Tok]:
    tokens, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise FilterSyntaxError(f"unexpected character at {pos}: {text[pos : pos + 10]!r}")
        kind = m.lastgroup or ""
        tokens.append(_Tok(kind, m.group(kind), m.start(kind)))
        pos = m.end()
    return tokens


@dataclass(frozen=True)
class _Cmp:
    field: str
    op: str
    values: tuple[str, ...]
    any_of: bool = True  # value group joined by OR (True) or AND (False)


@dataclass(frozen=True)
class _Bool:
    op: str  # "AND" | "OR" | "NOT"
    children: tuple[_Node, ...]


@dataclass(frozen=True)
class _Ignored:
    text: str


_Node = _Cmp | _Bool | _Ignored


def _unquote(tok: _Tok) -> str:
    return json.loads(tok.text) if tok.kind == "str" else tok.text


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.i = 0
        self.ignored: list[str] = []

    def peek(self, offset: int = 0) -> _Tok | None:
        j = self.i + offset
        return self.tokens[j] if j < len(self.tokens) else None

    def take(self) -> _Tok:
        tok = self.peek()
        if tok is None:
            raise FilterSyntaxError("unexpected end of filter")
        self.i += 1
        return tok

    def parse(self) -> _Node:
        node = self.and_expr()
        if self.peek() is not None:
            raise FilterSyntaxError(f"unexpected {self.take().text!r}")
        return node

    def and_expr(self) -> _Node:
        parts = [self.or_expr()]
        while (tok := self.peek()) is not None and tok.kind != "rp":
            if tok.kind == "word" and tok.text == "AND":
                self.take()
            parts.append(self.or_expr())  # juxtaposition is an implicit AND
        return parts[0] if len(parts) == 1 else _Bool("AND", tuple(parts))

    def or_expr(self) -> _Node:
        parts = [self.unary()]
        while (tok := self.peek()) is not None and tok.kind == "word" and tok.text == "OR":
            self.take()
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else _Bool("OR", tuple(parts))

    def unary(self) -> _Node:
        tok = self.peek()
        if tok is not None and tok.kind == "word" and (tok.text == "NOT" or tok.text == "-"):
            self.take()
            return _Bool("NOT", (self.unary(),))
        if tok is not None and tok.kind == "word" and tok.text.startswith("-") and len(tok.text) > 1:
            self.tokens[self.i] = _Tok("word", tok.text[1:], tok.start + 1)
            return _Bool("NOT", (self.unary(),))
        return self.primary()

    def primary(self) -> _Node:
        tok = self.take()
        if tok.kind == "lp":
            node = self.and_expr()
            if self.take().kind != "rp":
                raise FilterSyntaxError("missing )")
            return node
        if tok.kind == "rp" or tok.kind == "op":
            raise FilterSyntaxError(f"unexpected {tok.text!r}")
        nxt = self.peek()
        if tok.kind == "word" and nxt is not None and nxt.kind == "lp":  # function call: sample(...), SEARCH(...)
            depth = 0
            while True:
                t = self.take()
                depth += {"lp": 1, "rp": -1}.get(t.kind, 0)
                if depth == 0:
                    return self.ignore(self.text[tok.start : t.start + 1])
        if tok.kind == "word" and nxt is not None and nxt.kind == "op":
            op = self.take().text
            values, any_of = self.values()
            if tok.text.split(".")[0] not in LOG_ENTRY_FIELDS:
                last = self.tokens[self.i - 1]
                return self.ignore(self.text[tok.start : last.start + len(last.text)])
            return _Cmp(tok.text, op, values, any_of)
        return self.ignore(tok.text)  # a bare value is a global text search

    def values(self) -> tuple[tuple[str, ...], bool]:
        tok = self.take()
        if tok.kind in ("str", "word"):
            return (_unquote(tok),), True
        if tok.kind != "lp":
            raise FilterSyntaxError(f"expected a value, got {tok.text!r}")
        values: list[str] = []
        joiners: set[str] = set()
        while True:
            values.append(_unquote(self.take()))
            t = self.take()
            if t.kind == "rp":
                return tuple(values), joiners != {"AND"}
            if t.text not in ("OR", "AND"):
                raise FilterSyntaxError(f"expected OR/AND in value group, got {t.text!r}")
            joiners.add(t.text)

    def ignore(self, text: str) -> _Ignored:
        self.ignored.append(text)
        return _Ignored(text)


def parse_filter(text: str) -> tuple[_Node, list[str]]:
    """Parse a Logging filter; returns the tree and the terms that will be ignored."""
    if not text.strip():
        return _Bool("AND", ()), []
    parser = _Parser(text)
    return parser.parse(), parser.ignored


def _lookup(entry: Mapping[str, Any], path: str) -> Any:
    value: Any = entry
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _compare(field: str, actual: Any, op: str, expected: str) -> bool:
    if op in ("=~", "!~"):
        found = re.search(expected, str(actual)) is not None
        return found if op == "=~" else not found
    if op == ":":
        text = json.dumps(actual) if isinstance(actual, (dict, list)) else str(actual)
        return expected.lower() in text.lower()
    left: Any
    right: Any
    if field == "severity":
        left = SEVERITIES.get(str(actual).upper(), 0)
        right = SEVERITIES.get(expected.upper())
        if right is None and not expected.isdigit():
            raise FilterSyntaxError(f"unknown severity {expected!r}")
        right = int(expected) if right is None else right
    elif field in _TIME_FIELDS:
        left, right = timestamp_nanos(str(actual)), timestamp_nanos(expected)
    elif isinstance(actual, (int, float)) and not isinstance(actual, bool) and _is_number(expected):
        left, right = actual, float(expected)
    else:
        left, right = str(actual).lower(), expected.lower()
    outcomes = {
        "=": left == right, "!=": left != right, ">": left > right,
        ">=": left >= right, "<": left < right, "<=": left <= right,
    }  # fmt: skip
    return bool(outcomes[op])


def matches(node: _Node, entry: Mapping[str, Any]) -> bool:
    """Whether ``entry`` satisfies a parsed filter (ignored terms match)."""
    if isinstance(node, _Ignored):
        return True
    if isinstance(node, _Bool):
        if node.op == "NOT":
            return not matches(node.children[0], entry)
        results = (matches(child, entry) for child in node.children)
        return all(results) if node.op == "AND" else any(results)
    actual = _lookup(entry, node.field)
    if actual is None:
        return node.op == "!="
    checks = (_compare(node.field, actual, node.op, v) for v in node.values)
    return any(checks) if node.any_of else all(checks)


def _project_of(entry: Mapping[str, Any]) -> str | None:
    m = re.match(r"^(projects|organizations|folders|billingAccounts)/([^/]+)/", str(entry.get("logName", "")))
    return f"{m.group(1)}/{m.group(2)}" if m else None


def _kept(entry: Mapping[str, Any]) -> dict[str, Any]:
    return entry if isinstance(entry, RawEntry) else copy.deepcopy(dict(entry))


def _google_error(status: int, code: str, message: str) -> Response:
    return Response.json(status, {"error": {"code": status, "message": message, "status": code}})


class RawEntry(dict[str, Any]):
    """An entry served as the JSON text given (what json.dumps cannot write, e.g. poison), filtered and
    ordered by the fields given beside it."""

    def __init__(self, fields: Mapping[str, Any], text: str) -> None:
        super().__init__(fields)
        self.text = text


def _page_body(payload: dict[str, Any]) -> Response:
    """Response.json, with each RawEntry's own text in its place."""
    raws: dict[str, str] = {}
    entries = payload.get("entries")
    if entries:
        marked: list[Any] = []
        for entry in entries:
            if isinstance(entry, RawEntry):
                key = f"raw-entry-{len(raws)}"
                raws[json.dumps(key)] = entry.text
                entry = key
            marked.append(entry)
        payload = {**payload, "entries": marked}
    body = json.dumps(payload)
    for key, text in raws.items():
        body = body.replace(key, text, 1)
    return Response(status=200, body=body.encode(), headers={"Content-Type": "application/json; charset=utf-8"})


class LoggingFake(FakeHTTPServer):
    """``POST /v2/entries:list`` over a configurable list of LogEntry dicts (REST camelCase).

    Endpoint name for ``fail_next``: ``"entries.list"``.
    """

    def __init__(self, entries: Iterable[Mapping[str, Any]] = ()) -> None:
        super().__init__()
        self._entries: list[dict[str, Any]] = [_kept(e) for e in entries]
        self._ignored: list[str] = []
        self._empty_pages = 0

    # state for tests -------------------------------------------------------------
    def add_entries(self, entries: Iterable[Mapping[str, Any]]) -> None:
        """Serve more entries."""
        with self._lock:
            self._entries.extend(_kept(e) for e in entries)

    @property
    def entries(self) -> list[dict[str, Any]]:
        """The configured entries."""
        with self._lock:
            return copy.deepcopy(self._entries)

    @property
    def ignored_filter_terms(self) -> list[str]:
        """Filter terms the evaluator could not apply (they matched everything)."""
        with self._lock:
            return list(self._ignored)

    @property
    def filters(self) -> list[str]:
        """The ``filter`` of each entries:list request, in order."""
        return [str((r.body or {}).get("filter", "")) for r in self.requests_to("entries.list")]

    def serve_empty_pages(self, count: int = 1) -> None:
        """The next ``count`` answers carry a ``nextPageToken`` but no entries, as Logging may."""
        with self._lock:
            self._empty_pages += count

    def rate_limit_next(self, *, times: int = 1) -> None:
        """429 RESOURCE_EXHAUSTED (entries.list: 60 requests/minute/project; no rate-limit headers)."""
        self.fail_next("entries.list", status=429, times=times)

    def _fault_response(self, status: int) -> Response:
        code = {400: "INVALID_ARGUMENT", 403: "PERMISSION_DENIED", 404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED",
                500: "INTERNAL", 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED"}.get(status, "UNKNOWN")  # fmt: skip
        message = (
            "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute' "
            "of service 'logging.googleapis.com'."
            if status == 429
            else "The service is currently unavailable."
        )
        return _google_error(status, code, message)

    # dispatch --------------------------------------------------------------------
    def _endpoint(self, method: str, path: str) -> str:
        return "entries.list" if path == "/v2/entries:list" else f"{method} {path}"

    def _handle(self, request: RecordedRequest) -> Response:
        if request.endpoint != "entries.list" or request.method != "POST":
            return _google_error(404, "NOT_FOUND", f"Method not found: {request.method} {request.path}")
        body = request.body
        if not isinstance(body, dict):
            return _google_error(400, "INVALID_ARGUMENT", "Invalid JSON payload received.")
        unknown = sorted(set(body) - REQUEST_FIELDS)
        if unknown:
            return _google_error(
                400,
                "INVALID_ARGUMENT",
                f'Invalid JSON payload received. Unknown name "{unknown[0]}": Cannot find field.',
            )
        names = list(body.get("resourceNames") or []) + [f"projects/{p}" for p in body.get("projectIds") or []]
        if not names:
            return _google_error(400, "INVALID_ARGUMENT", "resourceNames: Field required, but not provided.")
        order = str(body.get("orderBy") or "timestamp asc").strip().lower()
        if order not in ORDER_BY:
            return _google_error(400, "INVALID_ARGUMENT", f"invalid orderBy: {body.get('orderBy')!r}")
        page_size = int(body.get("pageSize") or DEFAULT_PAGE_SIZE)
        if page_size < 0 or page_size > MAX_PAGE_SIZE:
            return _google_error(400, "INVALID_ARGUMENT", f"pageSize must be between 0 and {MAX_PAGE_SIZE}")
        text = str(body.get("filter") or "")
        if len(text) > MAX_FILTER_CHARS:
            return _google_error(400, "INVALID_ARGUMENT", f"filter is longer than {MAX_FILTER_CHARS} characters")
        query_key = hashlib.sha256(json.dumps([sorted(names), text, order]).encode()).hexdigest()[:16]
        offset = self._offset(body.get("pageToken"), query_key)
        if offset is None:
            return _google_error(400, "INVALID_ARGUMENT", "page token is not valid for this request")
        try:
            tree, ignored = parse_filter(text)
            with self._lock:
                self._ignored.extend(ignored)
                selected = [e for e in self._entries if _project_of(e) in (None, *names) and matches(tree, e)]
                empty_page = self._empty_pages > 0
                self._empty_pages -= int(empty_page)
        except FilterSyntaxError as exc:
            return _google_error(400, "INVALID_ARGUMENT", f"Unparseable filter: {exc}")
        selected.sort(
            key=lambda e: (timestamp_nanos(str(e.get("timestamp", "1970-01-01T00:00:00Z"))), str(e.get("insertId", "")))
        )
        if order == "timestamp desc":
            selected.reverse()
        if empty_page:
            return Response.json(200, {"nextPageToken": self._token(offset, query_key)})
        page = selected[offset : offset + page_size]
        payload: dict[str, Any] = {"entries": copy.deepcopy(page)} if page else {}
        if offset + page_size < len(selected):
            payload["nextPageToken"] = self._token(offset + page_size, query_key)
        return _page_body(payload)

    @staticmethod
    def _token(offset: int, query_key: str) -> str:
        return base64.urlsafe_b64encode(json.dumps({"o": offset, "q": query_key}).encode()).decode()

    @staticmethod
    def _offset(token: Any, query_key: str) -> int | None:
        """Offset a page token stands for; None when it is bogus or from another query."""
        if not token:
            return 0
        try:
            data = json.loads(base64.urlsafe_b64decode(str(token)))
        except ValueError:
            return None
        return int(data["o"]) if isinstance(data, dict) and data.get("q") == query_key else None


def log_entry(
    text: str,
    *,
    service: str = "checkout",
    severity: str = "ERROR",
    timestamp: str = "2024-01-01T00:00:00.000000Z",
    project: str = PROJECT,
    log: str = "run.googleapis.com%2Fstderr",
    insert_id: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A Cloud Run ``textPayload`` LogEntry in REST JSON, as ``gcloud logging read`` prints it."""
    entry = {
        "logName": f"projects/{project}/logs/{log}",
        "resource": {"type": "cloud_run_revision", "labels": {
            "service_name": service, "revision_name": f"{service}-00001-abc", "configuration_name": service,
            "location": "us-central1", "project_id": project}},
        "timestamp": timestamp, "receiveTimestamp": timestamp, "severity": severity,
        "insertId": insert_id or hashlib.sha1(f"{service}{timestamp}{text}".encode()).hexdigest()[:16],
        "textPayload": text,
    }  # fmt: skip
    entry.update(extra)
    return entry
