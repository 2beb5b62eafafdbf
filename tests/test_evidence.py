"""evidence: streaming LogEntry exports and LogEntry -> LogRecord."""

from __future__ import annotations

import io
import json
import time
import tracemalloc
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from functions.core.errors import EvidenceError, InputError
from functions.core.model import LogRecord
from functions.intake.changes import iter_evidence
from functions.intake.evidence import (
    iter_log_entries,
    iter_log_entries_from,
    parse_rfc3339,
    record_from_entry,
    short_log_name,
)

FIXTURES = Path(__file__).parent / "fixtures" / "logs"
EXPORT = FIXTURES / "export-cloudrun-incident.json"
JSON_LINES = FIXTURES / "export-jsonlines.json"


def write(tmp_path: Path, text: str | bytes, name: str = "logs.json") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


# --- timestamps -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-09-16T01:42:18.204417093Z", datetime(2025, 9, 16, 1, 42, 18, 204417, UTC)),
        ("2025-09-16T01:42:18.204417Z", datetime(2025, 9, 16, 1, 42, 18, 204417, UTC)),
        ("2025-09-16T01:42:18.2Z", datetime(2025, 9, 16, 1, 42, 18, 200000, UTC)),
        ("2025-09-16T01:42:18Z", datetime(2025, 9, 16, 1, 42, 18, tzinfo=UTC)),
        ("2025-09-16t01:42:18z", datetime(2025, 9, 16, 1, 42, 18, tzinfo=UTC)),
        ("2025-09-16 01:42:18", datetime(2025, 9, 16, 1, 42, 18, tzinfo=UTC)),
        ("2025-09-16T03:42:18.5+02:00", datetime(2025, 9, 16, 1, 42, 18, 500000, UTC)),
        ("2025-09-15T23:42:18-0200", datetime(2025, 9, 16, 1, 42, 18, tzinfo=UTC)),
        ("2025-02-30T00:00:00Z", None),
        ("2025-09-16T01:42:18+25:00", None),
        ("yesterday", None),
        ("", None),
        (1757986937, None),
        (None, None),
    ],
)
def test_parse_rfc3339(text: Any, expected: datetime | None) -> None:
    parsed = parse_rfc3339(text)
    assert parsed == expected
    if parsed is not None:
        assert parsed.tzinfo is UTC


def test_parse_rfc3339_makes_datetimes_utc() -> None:
    assert parse_rfc3339(datetime(2025, 1, 1, 12)) == datetime(2025, 1, 1, 12, tzinfo=UTC)
    plus_two = datetime(2025, 1, 1, 12, tzinfo=timezone(timedelta(hours=2)))
    assert parse_rfc3339(plus_two) == datetime(2025, 1, 1, 10, tzinfo=UTC)


# --- streaming reader -------------------------------------------------------------------------


@pytest.mark.parametrize("chunk_chars", [1, 2, 3, 7, 64, 4096, 1 << 16])
def test_array_export_is_read_whatever_the_chunk_size(chunk_chars: int) -> None:
    expected = json.loads(EXPORT.read_text(encoding="utf-8"))
    assert list(iter_log_entries(EXPORT, chunk_chars=chunk_chars)) == expected


@pytest.mark.parametrize("chunk_chars", [1, 5, 1 << 16])
def test_json_lines_export(chunk_chars: int) -> None:
    expected = [json.loads(line) for line in JSON_LINES.read_text(encoding="utf-8").splitlines()]
    assert list(iter_log_entries(JSON_LINES, chunk_chars=chunk_chars)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", []),
        ("  \n\t ", []),
        ("[]", []),
        ("[\n]\n", []),
        ('{"textPayload": "one"}', [{"textPayload": "one"}]),
        ('\ufeff[{"a": 1}]', [{"a": 1}]),
        ('[{"a": 1}]\n[{"a": 2}]\n', [{"a": 1}, {"a": 2}]),  # two exports appended to one file
        ('{"a": 1}{"a": 2}', [{"a": 1}, {"a": 2}]),
        ('{"entries": [{"logName": "x"}, {"logName": "y"}], "nextPageToken": "t"}',
         [{"logName": "x"}, {"logName": "y"}]),
        ('{"entries": [1], "logName": "l"}', [{"entries": [1], "logName": "l"}]),  # a LogEntry, not a page
        ('[{"entries": []}]', [{"entries": []}]),  # inside an export array every element is a LogEntry
        # non-object elements are salvaged, not dropped silently or fatal
        ('["plain line", null, 12345, true, [1]]', [
            {"textPayload": "plain line"}, {"textPayload": "12345"}, {"textPayload": "true"}, {"textPayload": "[1]"},
        ]),
        ('[{"m": "\\u00e9\\ud83d\\ude00 \\"q\\" \\\\"}]', [{"m": 'é😀 "q" \\'}]),
    ],
)  # fmt: skip
@pytest.mark.parametrize("chunk_chars", [1, 3, 1 << 16])
def test_accepted_layouts(tmp_path: Path, text: str, expected: list[Any], chunk_chars: int) -> None:
    assert list(iter_log_entries(write(tmp_path, text), chunk_chars=chunk_chars)) == expected


def test_numbers_split_across_chunks_are_not_cut() -> None:
    stream = io.StringIO("[1234567, -0.25e3, 98]")
    values = [entry["textPayload"] for entry in iter_log_entries_from(stream, chunk_chars=2)]
    assert values == ["1234567", "-250.0", "98"]


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


@settings(max_examples=60, deadline=None)
@given(
    entries=st.lists(st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=5), max_size=8),
    indent=st.sampled_from([None, 0, 2]),
    chunk_chars=st.integers(min_value=1, max_value=40),
)
def test_any_exported_array_round_trips(entries: list[dict[str, Any]], indent: int | None, chunk_chars: int) -> None:
    stream = io.StringIO(json.dumps(entries, indent=indent))
    assert list(iter_log_entries_from(stream, chunk_chars=chunk_chars)) == entries


def _outcome(text: str, chunk_chars: int) -> tuple[str, Any]:
    try:
        return "entries", list(iter_log_entries_from(io.StringIO(text), name="f", chunk_chars=chunk_chars))
    except EvidenceError as exc:
        return "error", str(exc)


@settings(max_examples=80, deadline=None)
@given(
    edits=st.lists(
        st.tuples(st.integers(min_value=0), st.sampled_from(["", "{", "}", "[", "]", ",", ":", '"', "\\", "0", "\n"])),
        min_size=1,
        max_size=3,
    ),
    chunk_chars=st.integers(min_value=1, max_value=50),
)
def test_outcome_and_error_position_do_not_depend_on_chunk_size(edits: list[tuple[int, str]], chunk_chars: int) -> None:
    text = EXPORT.read_text(encoding="utf-8")
    for position, replacement in edits:  # replace one character (or delete it) somewhere in a valid export
        position %= len(text)
        text = text[:position] + replacement + text[position + 1 :]
    assert _outcome(text, chunk_chars) == _outcome(text, 1 << 20)


MALFORMED = [
    pytest.param('[\n  {"a": 1},\n  {"a": 2}\n',
                 "line 4 col 1: expected ',' or ']' after an array element, found end of file", id="unclosed-array"),
    pytest.param('[\n  {"a": 1}\n  {"a": 2}\n]', "line 3 col 3: expected ',' or ']' after an array element, found '{'",
                 id="missing-comma"),
    pytest.param('[{"a": 1},\n]', "line 2 col 1: trailing ',' before ']'", id="trailing-comma"),
    pytest.param('[{"a": 1},', "line 1 col 11: file ends inside the array", id="ends-after-comma"),
    pytest.param('{"a": 1}\n{"b": }\n', "line 2 col 7: Expecting value", id="jsonl-bad-value"),
    pytest.param('[\n  {"a": 1,\n   "b": 2\n', "line 4 col 1: Expecting ',' delimiter", id="object-cut-off"),
    pytest.param('[{"a": "tab\there"}]', "line 1 col 12: Invalid control character", id="control-char"),
    pytest.param('[{"a": "unterminated}]', "line 1 col 8: Unterminated string", id="unterminated-string"),
    pytest.param("Container called exit(3).\n", "line 1 col 1: expected a JSON array or object, found 'C'",
                 id="plain-text"),
    pytest.param('[{"a": 1}] trailing', "line 1 col 12: expected a JSON array or object, found 't'",
                 id="text-after-array"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "problem"), MALFORMED)
@pytest.mark.parametrize("chunk_chars", [1, 4, 1 << 16])
def test_malformed_files_name_the_file_and_position(tmp_path: Path, text: str, problem: str, chunk_chars: int) -> None:
    path = write(tmp_path, text)
    with pytest.raises(EvidenceError) as caught:
        list(iter_log_entries(path, chunk_chars=chunk_chars))
    assert str(caught.value).startswith(f"{path}: {problem}")
    assert caught.value.path == str(path)
    assert isinstance(caught.value, InputError)


def test_invalid_utf8_is_an_evidence_error(tmp_path: Path) -> None:
    path = write(tmp_path, b'[{"textPayload": "caf\xe9"}]')
    with pytest.raises(EvidenceError, match="not UTF-8"):
        list(iter_log_entries(path))


def test_missing_file_is_an_evidence_error(tmp_path: Path) -> None:
    with pytest.raises(EvidenceError, match="cannot read"):
        list(iter_log_entries(tmp_path / "absent.json"))


def test_entries_stream_before_the_file_is_read_to_the_end(tmp_path: Path) -> None:
    path = write(tmp_path, '[{"n": 1},\n' + '{"n": 2},\n' * 5000 + "oops")
    entries = iter_log_entries(path, chunk_chars=256)
    assert next(entries) == {"n": 1}
    with pytest.raises(EvidenceError, match="line 5002 col 1"):
        list(entries)


_BIG_ENTRY = json.dumps(
    {
        "insertId": "{id}",
        "logName": "projects/p/logs/run.googleapis.com%2Fstderr",
        "resource": {"type": "cloud_run_revision", "labels": {"service_name": "svc", "revision_name": "svc-00001-abc"}},
        "severity": "ERROR",
        "textPayload": "ModuleNotFoundError: No module named 'auth_service'",
        "timestamp": "2025-09-16T01:42:17.911873114Z",
    },
    indent=2,
)


def _write_export(path: Path, count: int) -> None:
    with path.open("w", encoding="utf-8") as handle:
        handle.write("[\n")
        for start in range(0, count, 1000):
            block = ",\n".join(_BIG_ENTRY.replace("{id}", f"{i:016x}") for i in range(start, min(start + 1000, count)))
            handle.write(block if start == 0 else ",\n" + block)
        handle.write("\n]\n")


def _peak_bytes_while_streaming(path: Path) -> tuple[int, int]:
    tracemalloc.start()
    try:
        count = sum(1 for _ in iter_log_entries(path))
        return count, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_stays_flat_on_a_large_export(tmp_path: Path) -> None:
    path = tmp_path / "export.json"
    _write_export(path, 20_000)
    count, peak = _peak_bytes_while_streaming(path)
    assert count == 20_000
    assert peak < 2_000_000 < path.stat().st_size // 2  # a fraction of the file, not the file


@pytest.mark.slow
def test_memory_stays_flat_on_a_200k_entry_export(tmp_path: Path) -> None:
    path = tmp_path / "export.json"
    _write_export(path, 200_000)
    started = time.perf_counter()
    count, peak = _peak_bytes_while_streaming(path)
    elapsed = time.perf_counter() - started
    assert count == 200_000
    assert peak < 2_000_000, f"peak {peak} bytes for a {path.stat().st_size}-byte file"
    print(f"200k entries ({path.stat().st_size / 1e6:.0f} MB): peak {peak / 1e6:.2f} MB, {elapsed:.1f}s traced")


# --- LogEntry -> LogRecord --------------------------------------------------------------------


def fixture_entries() -> list[dict[str, Any]]:
    return list(iter_log_entries(EXPORT)) + list(iter_log_entries(JSON_LINES))


RECORDS: dict[str, dict[str, Any]] = {
    # insertId of a fixture entry: expected fields
    "66c8f1a2000e4b7f3d21c9a0": dict(
        message="Container called exit(3).", severity="WARNING", service="checkout", revision="checkout-00231-vax",
        log_name="run.googleapis.com/varlog/system", resource_type="cloud_run_revision",
        timestamp=datetime(2025, 9, 16, 1, 42, 17, 911873, UTC), http_status=None,
    ),
    "66c8f1a2000e4b7f3d21c9a1": dict(
        log_name="run.googleapis.com/stderr", severity="ERROR",
        message="Traceback (most recent call last):\n  File \"/app/main.py\", line 12, in <module>\n"
        "    from auth_service.client import AuthClient\nModuleNotFoundError: No module named 'auth_service'",
    ),
    "66c8f1a3000a11c2aa7bd431": dict(
        message="The request failed because the instance could not start successfully.",
        log_name="run.googleapis.com/requests", http_status=500, http_method="POST", latency_s=0.0,
        http_url="https://checkout-q7x2kd9m3a-ew.a.run.app/api/cart/checkout?session=abc123",
        trace="projects/shop-staging-7f3k/traces/5f2b9a0c3e7d41f6a8b1c2d3e4f50617",
    ),
    "66c8f1a3000b7731fe90c2d8": dict(
        message="GET /healthz 503", http_status=503, latency_s=0.004417,
        timestamp=datetime(2025, 9, 16, 1, 42, 19, 102000, UTC),
    ),
    "1x9k2mfe4b0c11": dict(
        message='database connection failed after 15s\nsqlalchemy.exc.OperationalError: (psycopg2.OperationalError) '
        'connection to server at "10.20.0.3", port 5432 failed: timeout expired',
        service="auth-api", log_name="run.googleapis.com/stdout",
        timestamp=datetime(2025, 9, 16, 1, 43, 2, tzinfo=UTC),
    ),
    "1x9k2mfe4b0c12": dict(
        message='{"event":"pool_exhausted","pool_size":10,"waited_ms":15000}', severity="WARNING",
        timestamp=datetime(2025, 9, 16, 5, 43, 3, 250000, UTC),
    ),
    "-3k1f9ae2ba1c": dict(
        message="Ready condition status changed to False for Revision checkout-00231-vax with message: The "
        "user-provided container failed to start and listen on the port defined provided by the PORT=8080 "
        "environment variable within the allocated timeout.",
        log_name="cloudaudit.googleapis.com/system_event", service="checkout",
    ),
    "8f1b02c4d9e7": dict(
        service="orders-worker", severity="ERROR", timestamp=datetime(2025, 9, 16, 4, 10, 0, 123456, UTC),
    ),
    "8f1b02c4d9e9": dict(
        service="frontend", severity="ERROR", resource_type="k8s_container", log_name="stdout",
        message="upstream connect error\nconnection reset by peer",
    ),
}  # fmt: skip


@pytest.mark.parametrize("insert_id", sorted(RECORDS))
def test_record_from_fixture_entries(insert_id: str) -> None:
    entry = next(entry for entry in fixture_entries() if entry["insertId"] == insert_id)
    record = record_from_entry(entry)
    assert record.insert_id == insert_id
    assert {key: getattr(record, key) for key in RECORDS[insert_id]} == RECORDS[insert_id]


RUN = {"type": "cloud_run_revision", "labels": {"service_name": "api", "revision_name": "api-00002-xyz"}}

ENTRIES = [
    pytest.param({"textPayload": "boom\n\n", "resource": RUN}, dict(message="boom", service="api", severity="DEFAULT"),
                 id="text-trailing-newlines"),
    pytest.param({"jsonPayload": {"message": "failed", "stack_trace": "Trace: failed\n at x"}},
                 dict(message="failed\nTrace: failed\n at x"), id="json-message-and-stack"),
    pytest.param({"jsonPayload": {"message": "KeyError: 'x' in handler", "error": "KeyError: 'x'"}},
                 dict(message="KeyError: 'x' in handler"), id="json-detail-already-in-message"),
    pytest.param({"jsonPayload": {"msg": "bad token", "err": {"code": 401}}}, dict(message='bad token\n{"code":401}'),
                 id="json-msg-and-structured-error"),
    pytest.param({"jsonPayload": {"message": {"nested": True}}}, dict(message='{"nested":true}'),
                 id="json-message-dict"),
    pytest.param({"jsonPayload": {"exception": "Traceback ...\nValueError: x"}},
                 dict(message="Traceback ...\nValueError: x"), id="json-exception-only"),
    pytest.param({"protoPayload": {"methodName": "google.run.v1.Services.DeleteService", "resourceName": "svc/api"}},
                 dict(message="google.run.v1.Services.DeleteService svc/api"), id="proto-without-status"),
    pytest.param({"httpRequest": {"requestMethod": "GET", "requestUrl": "/v1/items?token=abc", "status": 404}},
                 dict(message="GET /v1/items 404", http_status=404, http_url="/v1/items?token=abc"),
                 id="request-relative-url-query-dropped"),
    pytest.param({"httpRequest": {"requestMethod": "GET", "requestUrl": "https://h.example", "status": "502"}},
                 dict(message="GET / 502", http_status=502), id="request-status-as-string"),
    pytest.param({"httpRequest": {"requestMethod": "POST", "status": "n/a", "latency": "abc"}},
                 dict(message="POST /", http_status=None, latency_s=None), id="request-garbage-status-latency"),
    pytest.param({"httpRequest": {"latency": {"seconds": 1, "nanos": 500000000}, "status": 0}},
                 dict(latency_s=1.5, http_status=None), id="latency-as-duration-object"),
    pytest.param({"httpRequest": {"latency": "12s", "status": 504}}, dict(latency_s=12.0, http_status=504),
                 id="latency-whole-seconds"),
    pytest.param({"severity": "warning"}, dict(severity="WARNING"), id="severity-lower-case"),
    pytest.param({"severity": 600}, dict(severity="CRITICAL"), id="severity-number"),
    pytest.param({"severity": None}, dict(severity="DEFAULT"), id="severity-null"),
    pytest.param({"resource": {"type": "cloud_function", "labels": {"function_name": "send_mail"}}},
                 dict(service="send_mail"), id="gen1-function"),
    pytest.param({"labels": {"service": "datasette"}, "resource": {"type": "global"}}, dict(service="datasette"),
                 id="entry-label-service"),
    pytest.param({"resource": {"type": "gce_instance", "labels": {"container_name": "c"}}}, dict(service=""),
                 id="container-name-only-for-k8s"),
    pytest.param({"timestamp": "not a time", "receiveTimestamp": "2025-01-01T00:00:00.000000001Z"},
                 dict(timestamp=datetime(2025, 1, 1, tzinfo=UTC)), id="receive-timestamp-fallback"),
    pytest.param({"timestamp": 12345}, dict(timestamp=None), id="timestamp-wrong-type"),
    pytest.param({"resource": ["not", "a", "map"], "httpRequest": "oops", "labels": 3, "jsonPayload": []},
                 dict(service="", http_status=None, message=""), id="wrong-types-everywhere"),
    pytest.param("a plain log line", dict(message="a plain log line", severity="DEFAULT", timestamp=None),
                 id="not-an-object-string"),
    pytest.param(["x", 1], dict(message='["x",1]'), id="not-an-object-list"),
    pytest.param(None, dict(message="null"), id="not-an-object-null"),
]  # fmt: skip


@pytest.mark.parametrize(("entry", "expected"), ENTRIES)
def test_record_from_entry_salvages(entry: Any, expected: dict[str, Any]) -> None:
    record = record_from_entry(entry)
    assert {key: getattr(record, key) for key in expected} == expected


@pytest.mark.parametrize(
    ("log_name", "short"),
    [
        ("projects/p/logs/run.googleapis.com%2Frequests", "run.googleapis.com/requests"),
        ("projects/p/logs/run.googleapis.com%2Fvarlog%2Fsystem", "run.googleapis.com/varlog/system"),
        ("projects/p/logs/cloudfunctions.googleapis.com%2Fcloud-functions",
         "cloudfunctions.googleapis.com/cloud-functions"),
        ("organizations/1/logs/cloudaudit.googleapis.com%2Factivity", "cloudaudit.googleapis.com/activity"),
        ("run.googleapis.com%2Fstderr", "run.googleapis.com/stderr"),
        ("", ""),
    ],
)  # fmt: skip
def test_short_log_name(log_name: str, short: str) -> None:
    assert short_log_name(log_name) == short


def test_iter_evidence_reads_the_whole_export() -> None:
    records = list(iter_evidence(EXPORT))
    assert len(records) == 7
    assert all(isinstance(record, LogRecord) for record in records)


def test_a_structured_payload_is_redacted_by_key_name_before_it_becomes_text() -> None:
    entry = {
        "severity": "ERROR",
        "jsonPayload": {
            "env": [{"name": "DB_PASSWORD", "value": "hunter2-very-secret"}, {"name": "PORT", "value": "8080"}],
            "auth": {"password": {"value": "s3cr3t!"}},
        },
    }
    message = record_from_entry(entry).message
    assert "hunter2" not in message and "s3cr3t" not in message
    assert '"PORT","value":"8080"' in message  # only what a secret-naming key holds is hidden
    detail = {"severity": "ERROR", "jsonPayload": {"message": "upstream failed",
                                                   "error": {"headers": {"Authorization": "Bearer abcdefghijklmnop"}}}}
    assert "abcdefghijklmnop" not in record_from_entry(detail).message
