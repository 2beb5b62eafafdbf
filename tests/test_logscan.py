"""The C-speed reader (functions/intake/logscan.py) gives the records of the reference reader, whatever the file.

It reads what it can and hands the rest over; these tests pin that the hand-over is invisible:
same records, in the same order, for well-formed exports and for exports with odd entries anywhere.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from functions.core.errors import EvidenceError
from functions.core.model import LogRecord
from functions.core.project_changes import AuditChange
from functions.intake.changes import iter_evidence, records_and_changes
from functions.intake.evidence import iter_log_entries
from functions.intake.logscan import Unsuitable, fast_records

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchmarks._workload import entries, write_gcloud_export  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "logs"


def reference(path: Path) -> list[LogRecord | AuditChange]:
    return list(records_and_changes(iter_log_entries(path)))


def outcome(read: Any, path: Path) -> tuple[str, Any]:
    try:
        return "records", list(read(path))
    except EvidenceError as exc:
        return "error", str(exc)


def indented(path: Path, items: list[Any]) -> Path:
    """`items` as gcloud prints them: an array indented by 2 (\\u escapes keep a lone surrogate writable)."""
    path.write_text(json.dumps(items, indent=2), encoding="utf-8")
    return path


ODD: dict[str, Any] = {
    "status as a string": {"httpRequest": {"status": "503", "requestUrl": "https://h/x"}},
    "numeric severity": {"severity": 500, "textPayload": "boom"},
    "null textPayload": {"textPayload": None, "severity": "ERROR"},
    "empty httpRequest": {"httpRequest": {}, "severity": "WARNING"},
    "httpRequest without fields sitrep reads": {"httpRequest": {"remoteIp": "10.0.0.1"}},
    "jsonPayload a string": {"jsonPayload": "text", "severity": "ERROR"},
    "empty jsonPayload, protoPayload status": {"jsonPayload": {}, "protoPayload": {"status": {"message": "denied"}}},
    "numeric service label": {"labels": {"service": 42}, "textPayload": "x"},
    "offset timestamp": {"timestamp": "2025-09-16 03:00:00,5+02:00", "textPayload": "x"},
    "implausible timestamp": {"timestamp": "0001-01-01T00:00:00.000000000Z", "textPayload": "x"},
    "lone surrogate": {"textPayload": "bad \ud800 text"},
    "latency as a number": {"httpRequest": {"status": 200, "latency": 0.25}},
    "a string element": "plain text line",
    "a null element": None,
    "structured error detail": {"jsonPayload": {"msg": "failed", "error": {"code": 7}}, "severity": "ERROR"},
    "k8s container": {"resource": {"type": "k8s_container", "labels": {"container_name": "api"}}, "textPayload": "x"},
    "a Cloud Run job's task": {"resource": {"type": "cloud_run_job", "labels": {"job_name": "nightly"}},
                               "textPayload": "Task failed"},
    "who sent a request": {"httpRequest": {"status": 404, "requestUrl": "https://h/wp-login.php",
                                           "remoteIp": "203.0.113.7", "userAgent": "scanner/1.0"}},
    "a deploy in the audit log": {
        "logName": "projects/p/logs/cloudaudit.googleapis.com%2Factivity",
        "timestamp": "2025-12-02T01:04:12Z",
        "resource": {"type": "cloud_run_revision", "labels": {"service_name": "backend", "location": "europe-west1"}},
        "protoPayload": {
            "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
            "methodName": "google.cloud.run.v1.Services.ReplaceService",
            "resourceName": "namespaces/p/services/backend",
            "authenticationInfo": {"principalEmail": "ci@p.iam.gserviceaccount.com"},
        },
    },
    "an audit entry that records no change": {
        "logName": "projects/p/logs/cloudaudit.googleapis.com%2Factivity",
        "protoPayload": {"methodName": "google.cloud.run.v2.Jobs.RunJob", "resourceName": "projects/p/jobs/j"},
    },
}


@pytest.mark.parametrize("name", ["export-cloudrun-incident.json", "export-jsonlines.json"])
def test_the_fixtures_read_the_same(name: str) -> None:
    path = FIXTURES / name
    assert list(iter_evidence(path)) == reference(path)


def test_a_generated_export_is_read_entirely_by_the_fast_reader(tmp_path: Path) -> None:
    path = tmp_path / "logs.json"
    with open(path, "w", encoding="utf-8") as stream:
        write_gcloud_export(stream, 3_000)
    fast = list(fast_records(path, chunk_bytes=4096))  # many batches, cut at element ends
    assert fast == reference(path)


@pytest.mark.parametrize("odd", list(ODD))
def test_an_odd_entry_mid_file_is_handed_over_without_a_seam(tmp_path: Path, odd: str) -> None:
    ordinary = list(entries(40))
    path = indented(tmp_path / "logs.json", [*ordinary[:20], ODD[odd], *ordinary[20:]])
    assert list(iter_evidence(path)) == reference(path)


@pytest.mark.parametrize("odd", list(ODD))
def test_json_lines_with_an_odd_entry_read_the_same(tmp_path: Path, odd: str) -> None:
    ordinary = list(entries(10))
    lines = [json.dumps(e) for e in [*ordinary[:5], ODD[odd], *ordinary[5:]]]
    path = tmp_path / "logs.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert outcome(iter_evidence, path) == outcome(reference, path)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n",
        "[]",
        '{"entries": [{"textPayload": "a"}], "nextPageToken": "t"}',
        '[{"textPayload": "compact, on one line"}, {"textPayload": "b"}]',
        '[\n  {"textPayload": "a"}\n]\n{"textPayload": "then an object"}\n',
        '[\n  {"textPayload": "a"},\n  {"jsonPayload": {"n": NaN}}\n]',
        '\ufeff[\n  {"textPayload": "after a byte order mark"}\n]',
    ],
    ids=["empty", "blank", "empty array", "entries page", "compact", "array then object", "NaN", "BOM"],
)
def test_other_layouts_read_the_same(tmp_path: Path, text: str) -> None:
    path = tmp_path / "logs.json"
    path.write_text(text, encoding="utf-8")
    assert list(iter_evidence(path)) == reference(path)


def test_a_malformed_export_fails_as_the_reference_reader_says(tmp_path: Path) -> None:
    path = indented(tmp_path / "logs.json", list(entries(30)))
    text = path.read_text(encoding="utf-8")
    cut = text.index('"severity"', len(text) // 2)
    path.write_text(text[:cut] + text[cut + 1 :], encoding="utf-8")  # an unmatched quote past the middle
    with pytest.raises(Exception) as fast:
        list(iter_evidence(path))
    with pytest.raises(Exception) as slow:
        reference(path)
    assert str(fast.value) == str(slow.value) and "line" in str(fast.value)


def test_the_fast_reader_stops_rather_than_guess(tmp_path: Path) -> None:
    path = indented(tmp_path / "logs.json", [*entries(3), {"httpRequest": {"status": "503"}}])
    seen = []
    with pytest.raises(Unsuitable) as stop:  # small reads: a few entries a batch
        for record in fast_records(path, chunk_bytes=256):
            seen.append(record)
    assert 1 <= stop.value.done == len(seen) <= 3  # never past the odd entry; a batch may end before it
    assert seen == reference(path)[: len(seen)]


def test_records_from_a_stream_are_untouched() -> None:
    # The classify command reads stdin through the reference reader only.
    from functions.intake.evidence import iter_log_entries_from

    assert list(iter_log_entries_from(io.StringIO('[{"textPayload": "a"}]'))) == [{"textPayload": "a"}]
