"""No input crashes the function (issue 5): generated notifications, CloudEvents and log entries.

Three edges take outside data, and each has one contract:

- `parse_alert` returns an Alert or raises AlertError (with a `reason`), nothing else;
- `handle_cloud_event` returns for any CloudEvent it is handed (malformed ones are acknowledged);
  it may raise only to ask for a redelivery, which no bad input deserves;
- a LogEntry of any shape becomes a LogRecord, and the whole analysis and every renderer cope with
  it: no exception, the Slack message within Block Kit's limits, the issue body within GitHub's,
  the JSON output serialisable, every output encodable as UTF-8.

Inputs start from the recorded fixtures and mutate them (wrong types, missing fields, huge strings,
deep nesting, invalid UTF-8, binary, NaN/inf, nulls), so most cases get deep into the code instead
of failing the first check. The default run is small; `-m slow` runs the same properties on
>= 10,000 generated cases. A crash found here is fixed where it lives and pinned with `@example`.
"""

from __future__ import annotations

import base64
import copy
import json
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from functions.core.errors import AlertError
from functions.core.model import Alert
from functions.entry.runtime import handle_cloud_event, reset_runtime
from functions.entry.settings import Settings
from functions.entry.wiring import analyse_only
from functions.incidents.lifecycle import Transition
from functions.intake.alert import parse_alert
from functions.intake.evidence import record_from_entry
from functions.render import render
from functions.render.markdown import GITHUB_BODY_MAX_CHARS
from tests.fakes.cloud_logging import LoggingFake
from tests.fakes.slack import MAX_TEXT_CHARS, MAX_TOTAL_BLOCK_TEXT_CHARS, block_errors, total_block_text_chars

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
ALERT_REASONS = frozenset(
    {"not_base64", "not_utf8", "not_json", "not_object", "no_data", "no_incident", "no_incident_id",
     "wrong_type", "bad_value", "too_large"}
)  # fmt: skip
OUTCOMES = frozenset({"malformed", "test", "stale", "config_error", "permanent_error", "bad_input", "error"})
TRANSITIONS = frozenset(t.value for t in Transition)

# Default tier: the whole file in well under 20 s. Slow tier: 4,000 + 3,000 + 3,000 = 10,000 cases.
FAST = {"parse": 300, "event": 100, "entries": 100}
SLOW = {"parse": 4_000, "event": 3_000, "entries": 3_000}
_COMMON = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large]}


def _tier(size: int) -> Callable[[Any], Any]:
    return settings(max_examples=size, **_COMMON)  # type: ignore[arg-type]


# ---------------------------------------------------------------- building blocks


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


NOTIFICATIONS = [
    doc
    for doc in (_load(p) for p in sorted((FIXTURES / "alerts").glob("*.json")))
    if isinstance(doc, dict) and "incident" in doc
] + [_load(ROOT / "examples" / "staging-outage" / "alert.json")]
LOG_ENTRIES = _load(FIXTURES / "logs" / "export-cloudrun-incident.json")[:40]
NOW = datetime(2025, 9, 16, 1, 50, tzinfo=UTC)


@dataclass(frozen=True)
class Deep:
    """A value nested `depth` levels deep; materialised as JSON text (any depth) or Python lists (bounded)."""

    depth: int


# Python's json module gives up (RecursionError) near 1,000 levels: what a parser hands over is shallower.
MAX_PARSED_DEPTH = 990

_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),  # NaN and ±inf included
    st.text(max_size=30),
)
json_values = st.recursive(
    _leaf,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
huge_strings = st.builds(
    lambda n, unit: (unit * (n // len(unit) + 1))[:n],
    st.integers(10_000, 300_000),
    st.sampled_from(["x", "é", "🔥", "\x00", "<!channel> `|` *", "ab cd ", "\ud800", "%%%", "{"]),
)
odd_scalars = st.sampled_from(
    [math.nan, math.inf, -math.inf, 0, -1, 2**63, 2**1000, 1e308, -0.0, "", " ", "null",
     "None", "NaN", "0", "1e999", "2025-13-45T99:99:99Z", "0001-01-01T00:00:00+01:00",
     "9999-12-31T23:59:59-01:00", "9999-12-31T23:59:59.999999999Z", "0001-01-01T00:00:00Z",
     "1970-01-01T00:00:00Z", 253402300799, 253402300800, 1e-300, 0.5, "\ufeff", "\u202e", True, False]
)  # fmt: skip
weird_values = st.one_of(
    json_values,
    st.binary(max_size=40),
    huge_strings,
    st.text(st.characters(categories=["Cs"]), min_size=1, max_size=4),  # lone surrogates
    st.integers(1, 100_000).map(Deep),
    odd_scalars,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every address inside a JSON document (dict keys and list indexes), parents first."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*prefix, key)
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield (*prefix, index)
            yield from _paths(item, (*prefix, index))


def _apply(doc: Any, path: tuple[Any, ...], op: str, value: Any) -> Any:
    """Set, delete or add at `path`; a path an earlier mutation removed is skipped."""
    if not path:
        return value if op != "delete" else {}
    parent = doc
    for step in path[:-1]:
        try:
            parent = parent[step]
        except (KeyError, IndexError, TypeError):
            return doc
    last = path[-1]
    if isinstance(parent, dict):
        if op == "delete":
            parent.pop(last, None)
        elif op == "add":
            parent[f"{last}_extra"] = value
        else:
            parent[last] = value
    elif isinstance(parent, list) and isinstance(last, int) and last < len(parent):
        if op == "delete":
            del parent[last]
        else:
            parent[last] = value
    return doc


@st.composite
def mutated(draw: st.DrawFn, bases: list[Any], most: int = 6) -> Any:
    """A recorded document with up to `most` of its fields set to weird values, deleted or joined by extras."""
    doc = copy.deepcopy(draw(st.sampled_from(bases)))
    paths = [(), *_paths(doc)]
    for _ in range(draw(st.integers(0, most))):
        path = draw(st.sampled_from(paths[1:]) if draw(st.integers(0, 30)) else st.just(()))
        op = draw(st.sampled_from(["set", "set", "delete", "add"]))
        doc = _apply(doc, path, op, draw(weird_values))
    return doc


def materialise(value: Any) -> Any:
    """The document as the JSON parser would hand it over: bytes as text, Deep as (bounded) nested lists."""
    if isinstance(value, Deep):
        nested: list[Any] = []
        for _ in range(min(value.depth, MAX_PARSED_DEPTH) - 1):
            nested = [nested]
        return nested
    if isinstance(value, bytes):
        return value.decode("latin-1")
    if isinstance(value, dict):
        return {str(k): materialise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [materialise(v) for v in value]
    return value


def json_text(value: Any, *, ascii_only: bool) -> str:
    """JSON text of the document, Deep values written at their full depth (the parser must refuse them)."""
    deep: list[int] = []

    def swap(item: Any) -> Any:
        if isinstance(item, Deep):
            deep.append(item.depth)
            return f"@@deep{len(deep) - 1}@@"
        if isinstance(item, bytes):
            return item.decode("latin-1")
        if isinstance(item, dict):
            return {str(k): swap(v) for k, v in item.items()}
        if isinstance(item, list):
            return [swap(v) for v in item]
        return item

    text = json.dumps(swap(value), ensure_ascii=ascii_only)  # NaN / Infinity tokens stay: JS-style JSON
    for index, depth in enumerate(deep):
        text = text.replace(f'"@@deep{index}@@"', "[" * depth + "]" * depth, 1)
    return text


def as_bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")  # lone surrogates become invalid UTF-8


@st.composite
def alert_payloads(draw: st.DrawFn, *, materialised: bool = True) -> bytes | str | Mapping[str, Any] | Any:
    """A notification, mutated, in one of the shapes `parse_alert` is handed (a mapping still to materialise)."""
    doc = draw(mutated(NOTIFICATIONS))
    form = draw(st.sampled_from(["mapping", "text", "bytes", "corrupt", "pubsub", "cloudevent", "garbage"]))
    if form == "mapping":
        return materialise(doc) if materialised else doc
    if form == "garbage":
        return draw(weird_values | st.binary(max_size=200))
    text = json_text(doc, ascii_only=draw(st.booleans()))
    if form == "text":
        return text
    raw = as_bytes(text)
    if form == "bytes":
        return draw(st.sampled_from([b"", b"\xef\xbb\xbf"])) + raw
    if form == "corrupt":
        at = draw(st.integers(0, max(len(raw) - 1, 0)))
        return raw[:at] + draw(st.binary(min_size=1, max_size=8)) + raw[at + 1 :]
    data = base64.b64encode(raw).decode()
    if form == "pubsub":
        return {"subscription": "projects/p/subscriptions/s", "message": {"data": data, "messageId": "1"}}
    return json.dumps({"specversion": "1.0", "id": "e-1", "type": "t", "data_base64": data})


_FRESH = (NOW - timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def envelope(notification: Any, *, publish_time: str = _FRESH) -> dict[str, Any]:
    """MessagePublishedData carrying `notification` as JSON (lone surrogates escaped, as JSON allows)."""
    data = base64.b64encode(as_bytes(json_text(notification, ascii_only=True))).decode()
    return {"message": {"data": data, "messageId": "m-1", "publishTime": publish_time}}


def with_incident(**fields: Any) -> dict[str, Any]:
    """The recorded open notification with some incident fields replaced."""
    doc: dict[str, Any] = copy.deepcopy(NOTIFICATIONS[0])
    doc["incident"].update(fields)
    return doc


# Regressions: a moment out of datetime's range once moved to UTC raised OverflowError; an alert
# dated year 1 overflowed the evidence lookback; an entry dated 9999 made the timeline start in year
# 10000 (and one dated 1970 made it 29 million minutes long); a lone surrogate (a legal JSON escape)
# reached RE2, urllib's quote and the ledger file, which all encode; a payload nested ~1,000 deep,
# parsed at a shallow stack, overflowed the encoder's recursion when quoted from deep in the pipeline.
OUT_OF_RANGE = "0001-01-01T00:00:00+01:00"


# ---------------------------------------------------------------- (a) parse_alert


def check_parse_alert(payload: Any) -> None:
    try:
        alert = parse_alert(payload)
    except AlertError as exc:
        event(f"AlertError {exc.reason}")
        assert exc.reason in ALERT_REASONS
        assert str(exc)
        assert len(str(exc)) < 1_000, "an error message must not echo the payload"
        return
    event("Alert")
    assert isinstance(alert, Alert)
    assert alert.incident_id.strip()
    for name in ("started_at", "ended_at", "published_at"):
        moment = getattr(alert, name)
        assert moment is None or moment.utcoffset() == timedelta(0)
    texts = [v for f in fields(alert) if isinstance(v := getattr(alert, f.name), str)]
    texts += [*alert.services, *alert.policy_labels, *alert.policy_labels.values()]
    for text in texts:
        text.encode("utf-8")  # every consumer downstream encodes: no lone surrogates


# JSON nested 50,000 deep in a field: the parser's RecursionError must become AlertError.
_DEEP_NOTIFICATION = json.dumps(NOTIFICATIONS[0]).replace(
    '"summary": ', '"x": ' + "[" * 50_000 + "]" * 50_000 + ', "summary": ', 1
)


@_tier(FAST["parse"])
@given(alert_payloads())
@example(_DEEP_NOTIFICATION)
@example(json.dumps(with_incident(started_at=OUT_OF_RANGE)))
@example(json.dumps({"message": {"data": "e30=", "publishTime": OUT_OF_RANGE}}))
@example(json.dumps(with_incident(policy_name="\ud800", policy_user_labels={"\udfff": "\ud800"})))
def test_parse_alert_returns_an_alert_or_a_typed_error(payload: Any) -> None:
    check_parse_alert(payload)


@pytest.mark.slow
@_tier(SLOW["parse"])
@given(alert_payloads())
def test_parse_alert_at_scale(payload: Any) -> None:
    check_parse_alert(payload)


# ---------------------------------------------------------------- (b) handle_cloud_event


class Event:
    """What functions-framework hands the function: `.data` and attribute lookup by key."""

    def __init__(self, data: Any, attributes: Mapping[str, Any]) -> None:
        self.data = data
        self._attributes = dict(attributes)

    def __getitem__(self, key: str) -> Any:
        return self._attributes[key]


_publish_times = st.one_of(
    st.just(_FRESH),  # fresh: the event goes all the way
    st.sampled_from(["2020-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00+01:00"]),
    weird_values,
)


@st.composite
def pipeline_notifications(draw: st.DrawFn) -> Any:
    """A notification mutated a little, under a fresh incident id (often a fresh project): it gets all the way."""
    doc = draw(mutated(NOTIFICATIONS, most=3))
    incident = doc.get("incident") if isinstance(doc, dict) else None
    if isinstance(incident, dict):
        number = draw(st.integers(0, 10**9))
        incident["incident_id"] = f"0.fuzz{number}"
        if draw(st.booleans()):
            incident["scoping_project_id"] = f"fuzz-{number}"
    return doc


@st.composite
def message_published_data(draw: st.DrawFn) -> Any:
    """MessagePublishedData as the framework parses it (once materialised), every part of it possibly wrong.

    Half of them are well-formed envelopes around a lightly mutated notification, so that the
    analysis, the ledger and the logging of the whole pipeline see weird fields too.
    """
    if draw(st.booleans()):
        return envelope(draw(pipeline_notifications()), publish_time=_FRESH)
    inner = draw(st.one_of(alert_payloads(materialised=False), pipeline_notifications()))
    if isinstance(inner, (bytes, str)):
        raw = inner if isinstance(inner, bytes) else as_bytes(inner)
    else:
        raw = as_bytes(json_text(inner, ascii_only=draw(st.booleans())))
    encoding = draw(st.sampled_from(["base64"] * 4 + ["urlsafe", "raw-json", "not-base64", "weird"]))
    if encoding == "base64":
        data: Any = base64.b64encode(raw).decode()
    elif encoding == "urlsafe":
        data = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    elif encoding == "raw-json":
        data = raw.decode("utf-8", "replace")
    elif encoding == "not-base64":
        data = draw(st.text(max_size=60))
    else:
        data = draw(weird_values)
    message: dict[str, Any] = {
        "data": data,
        "messageId": draw(st.text(max_size=20) | weird_values),
        "publishTime": draw(_publish_times),
        "attributes": draw(st.dictionaries(st.text(max_size=10), weird_values, max_size=3)),
    }
    for key in draw(st.lists(st.sampled_from(sorted(message)), max_size=2)):
        message.pop(key, None)
    wrapper: Any = {"subscription": "projects/test-project/subscriptions/s", "message": message}
    shape = draw(st.sampled_from(["ok"] * 6 + ["snake", "message-weird", "data-weird", "no-message"]))
    if shape == "snake":
        wrapper["message"] = {
            "message_id" if k == "messageId" else "publish_time" if k == "publishTime" else k: v
            for k, v in message.items()
        }
    elif shape == "message-weird":
        wrapper["message"] = draw(weird_values)
    elif shape == "data-weird":
        wrapper = draw(weird_values)
    elif shape == "no-message":
        del wrapper["message"]
    return wrapper


_event_ids = st.one_of(st.text(max_size=20), st.none(), st.integers(), st.just("x" * 5_000))


@pytest.fixture(scope="module")
def quiet_logging_fake() -> Iterator[LoggingFake]:
    """Cloud Logging on loopback with a few entries (timestamps as the API writes them, in Z).

    The only 'network' the envelope fuzz touches.
    """
    with LoggingFake(e for e in LOG_ENTRIES if str(e.get("timestamp", "")).endswith("Z")) as fake:
        yield fake


@pytest.fixture
def no_delivery(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, quiet_logging_fake: LoggingFake) -> Iterator[None]:
    """The function with no Slack and no GitHub, a file ledger in tmp, logs from the fake, metrics skipped."""
    from tests.harness import NO_NETWORK

    for name, value in NO_NETWORK.items():
        monkeypatch.setenv(name, value)
    for name in ("SLACK_BOT_TOKEN", "SLACK_CHANNEL", "GITHUB_TOKEN", "GITHUB_REPOSITORY", "SITREP_TOPIC"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SITREP_LEDGER", str(tmp_path / "ledger.json"))
    monkeypatch.setenv("LOGGING_API_ENDPOINT", quiet_logging_fake.url)
    # An http URL is not a gRPC endpoint: the adapter notes it and reads no metrics (no network at all).
    monkeypatch.setenv("MONITORING_API_ENDPOINT", "http://metrics.invalid")
    reset_runtime()
    yield
    reset_runtime()


def check_cloud_event(data: Any, event_id: Any, time: Any) -> None:
    data = materialise(data)  # as the framework's JSON parser would hand it over
    attributes = {key: value for key, value in (("id", event_id), ("time", time)) if value is not None}
    outcome = handle_cloud_event(Event(data, attributes), now=NOW)
    event(f"outcome {outcome}")
    assert isinstance(outcome, str)
    assert outcome in OUTCOMES | TRANSITIONS


@_tier(FAST["event"])
@given(data=message_published_data(), event_id=_event_ids, time=st.none() | st.text(max_size=30))
@example(data=envelope(NOTIFICATIONS[0]), event_id="e-1", time=None)
@example(data=envelope(NOTIFICATIONS[0], publish_time=OUT_OF_RANGE), event_id="e-1", time=None)
@example(data=envelope(with_incident(started_at=OUT_OF_RANGE, incident_id="0.r1")), event_id="e-1", time=None)
@example(data=envelope(with_incident(started_at="0001-01-01T00:00:00Z", incident_id="0.r4")), event_id="e", time=None)
@example(data=envelope(with_incident(policy_name="\ud800", incident_id="0.r2")), event_id="e-1", time=None)
@example(data=envelope(with_incident(scoping_project_id="p\udc00", incident_id="0.r3")), event_id="e-1", time=None)
@example(data=[1, 2], event_id=None, time=None)
@example(data=b"\x00binary", event_id=7, time="yesterday")
@pytest.mark.usefixtures("no_delivery")
def test_cloud_events_are_handled_never_crash(data: Any, event_id: Any, time: Any) -> None:
    check_cloud_event(data, event_id, time)


@pytest.mark.slow
@_tier(SLOW["event"])
@given(data=message_published_data(), event_id=_event_ids, time=st.none() | st.text(max_size=30))
@pytest.mark.usefixtures("no_delivery")
def test_cloud_events_at_scale(data: Any, event_id: Any, time: Any) -> None:
    check_cloud_event(data, event_id, time)


# ---------------------------------------------------------------- (c) LogEntry → analysis → renderers

_http_garbage = st.fixed_dictionaries(
    {},
    optional={
        "status": weird_values | st.integers(-5, 1200),
        "requestMethod": weird_values,
        "requestUrl": weird_values | st.just("http://[::1" + "/x" * 100),
        "latency": weird_values | st.sampled_from(["0.5s", "NaNs", "infs", "-1s", "1e309s"]),
    },
)


@st.composite
def log_entries(draw: st.DrawFn) -> list[Any]:
    """1-8 LogEntry values (to materialise): recorded ones mutated, garbage request logs, or any JSON at all."""
    out: list[Any] = []
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["mutated", "mutated", "mutated", "http", "json"]))
        if kind == "mutated":
            out.append(draw(mutated(LOG_ENTRIES)))
        elif kind == "http":
            entry = copy.deepcopy(draw(st.sampled_from(LOG_ENTRIES)))
            entry.pop("textPayload", None)
            entry.pop("jsonPayload", None)
            entry["httpRequest"] = draw(_http_garbage)
            out.append(entry)
        else:
            out.append(draw(json_values | huge_strings))
    return out


_ANALYSIS_ALERT = parse_alert(NOTIFICATIONS[0])


def check_analysis_and_renderers(entries: list[Any]) -> None:
    records = [record_from_entry(materialise(entry)) for entry in entries]
    incident, card = analyse_only(_ANALYSIS_ALERT, records, None, Settings())

    text = render(card, "text", incident=incident)
    assert isinstance(text, str)
    text.encode("utf-8")

    markdown = render(card, "markdown", incident=incident)
    assert isinstance(markdown, str)
    assert len(markdown) <= GITHUB_BODY_MAX_CHARS
    markdown.encode("utf-8")

    for interactive in (False, True):
        message = render(card, "slack", incident=incident, interactive=interactive)
        assert isinstance(message, dict)
        assert block_errors(message["blocks"]) == []
        assert total_block_text_chars(message["blocks"]) <= MAX_TOTAL_BLOCK_TEXT_CHARS
        assert 0 < len(message["text"]) <= MAX_TEXT_CHARS
        json.dumps(message, ensure_ascii=False, allow_nan=False).encode("utf-8")

    analysis = render(card, "json", incident=incident)
    json.dumps(analysis, ensure_ascii=False, allow_nan=False).encode("utf-8")


@_tier(FAST["entries"])
@given(log_entries())
@example([{"timestamp": "0001-01-01T00:00:00+01:00", "textPayload": "boom", "severity": "ERROR"}])
@example([{"timestamp": "9999-12-31T23:59:59-01:00", "textPayload": "boom", "severity": "ERROR"}])
@example([{"timestamp": "9999-12-31T23:59:59.999999999Z", "textPayload": "Container called exit(3).", "severity": "9"}])
@example([{"jsonPayload": {"message": Deep(985)}, "severity": "ERROR"}])  # was a RecursionError
@example(  # a timeline from 1970 to 2025 was 29 million minutes long
    [
        {"timestamp": "1970-01-01T00:00:01Z", "textPayload": "boom", "severity": "ERROR"},
        {"timestamp": "2025-09-16T01:00:00Z", "textPayload": "boom", "severity": "ERROR"},
    ]
)
@example([{"textPayload": "x" * 200_000, "severity": "ERROR"}, ["a", ["b"]], None, 1e308])
def test_any_log_entries_analyse_and_render_within_limits(entries: list[Any]) -> None:
    check_analysis_and_renderers(entries)


@pytest.mark.slow
@_tier(SLOW["entries"])
@given(log_entries())
def test_log_entries_at_scale(entries: list[Any]) -> None:
    check_analysis_and_renderers(entries)
