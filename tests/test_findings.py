"""FindingMemo: a replay classifies each distinct input once, and gets what the classifier would say."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from functions.analysis.findings import MAX_ENTRIES, MAX_MESSAGE_CHARS, FindingMemo
from functions.analysis.requests import for_classification
from functions.core.model import Finding, LogRecord
from functions.entry.wiring import core

CLASSIFIER = core().classifier
AT = datetime(2025, 9, 16, 2, 0, tzinfo=UTC)


class CountingClassifier:
    """The real classifier, counting how often it is asked."""

    def __init__(self) -> None:
        self.calls = 0

    def classify(self, record: LogRecord) -> Finding:
        self.calls += 1
        return CLASSIFIER.classify(record)

    def classify_many(self, records: Sequence[LogRecord]) -> list[Finding]:
        self.calls += len(records)
        return CLASSIFIER.classify_many(records)


def request(
    status: int, path: str, *, message: str = "", service: str = "backend", severity: str = "ERROR"
) -> LogRecord:
    """A request log; without `message`, one without text of its own (built from method, path and status)."""
    text = message or f"GET {path} {status}"
    return LogRecord(
        timestamp=AT, severity=severity, message=text, service=service, revision=f"{service}-00001-abc",
        http_status=status, http_method="GET", http_url=f"https://{service}.run.app{path}",
        request_line=not message, text_field="" if not message else "textPayload",
    )


def line(text: str, *, severity: str = "ERROR", service: str = "backend") -> LogRecord:
    return LogRecord(timestamp=AT, severity=severity, message=text, service=service, text_field="textPayload")


def one(memo: FindingMemo, record: LogRecord) -> Finding:
    """The memo's finding for a batch of one record."""
    return memo.classify_batch([record])[0]


QUOTED_PATH = "/No module named 'auth_service'"
QUOTING_TEXT = f"upstream answered for {QUOTED_PATH}"

RECORDS = [
    request(503, "/api/orders/1"),
    request(503, "/api/orders/2"),
    request(503, "/api/orders/3", service="auth"),
    request(404, "/Cannot find module 'express'"),
    request(200, "/health", severity="INFO"),
    # The same text with a status: the path it quotes is masked only when it is this record's URL.
    request(404, "/x", message=QUOTING_TEXT),
    request(404, QUOTED_PATH, message=QUOTING_TEXT),
    line("ModuleNotFoundError: No module named 'auth_service'"),
    line("ModuleNotFoundError: No module named 'auth_service'", severity="CRITICAL"),
    line("ModuleNotFoundError: No module named 'auth_service'", service="worker"),
    line('10.0.0.1 - - [16/Sep/2025:02:00:00 +0000] "GET /OutOfMemoryError HTTP/1.1" 500 12'),
    line("Database connection timeout after 10s (host=10.12.0.3 port=5432)"),
    line("Request 3fa9 completed in 12ms with status 200", severity="INFO"),
    line(""),
    line("x" * (MAX_MESSAGE_CHARS + 1) + " OutOfMemoryError"),
]


def test_each_record_gets_the_finding_the_classifier_gives_its_masked_record() -> None:
    memo = FindingMemo(CLASSIFIER)
    for record in RECORDS * 2:  # the second pass is answered from the memo
        assert one(memo, record) == CLASSIFIER.classify(for_classification(record)), record.message[:80]


def test_request_logs_without_text_are_classified_once_per_status_service_revision_and_severity() -> None:
    counting = CountingClassifier()
    memo = FindingMemo(counting)
    findings = {one(memo, request(503, f"/api/orders/{n}")).signature for n in range(1_000)}
    assert counting.calls == 1
    assert len(findings) == 1
    one(memo, request(503, "/api/orders/1", service="auth"))
    one(memo, request(502, "/api/orders/1"))
    assert counting.calls == 3


def test_a_repeated_line_is_classified_once_and_a_long_one_every_time() -> None:
    counting = CountingClassifier()
    memo = FindingMemo(counting)
    for _ in range(50):
        one(memo, line("ModuleNotFoundError: No module named 'auth_service'"))
    assert counting.calls == 1
    long_line = line("x" * (MAX_MESSAGE_CHARS + 1) + " OutOfMemoryError")
    one(memo, long_line)
    one(memo, long_line)
    assert counting.calls == 3


def test_the_same_text_under_another_url_is_its_own_input() -> None:
    memo = FindingMemo(CLASSIFIER)
    elsewhere = one(memo, request(404, "/x", message=QUOTING_TEXT))
    own_path = one(memo, request(404, QUOTED_PATH, message=QUOTING_TEXT))
    assert elsewhere.signature == "python-module-not-found"  # the service's own words
    assert own_path.signature != elsewhere.signature  # the caller's path, masked: judged by its status


def test_a_batch_gets_what_each_record_would_and_asks_once_per_new_input() -> None:
    counting = CountingClassifier()
    memo = FindingMemo(counting)
    expected = [CLASSIFIER.classify(for_classification(r)) for r in RECORDS * 2]
    assert memo.classify_batch(RECORDS * 2) == expected
    distinct_short = len({memo._key(r) for r in RECORDS} - {None})
    long_lines = sum(memo._key(r) is None for r in RECORDS)
    assert counting.calls == distinct_short + 2 * long_lines
    assert memo.classify_batch(RECORDS) == expected[: len(RECORDS)]
    assert counting.calls == distinct_short + 3 * long_lines  # known inputs come from the memo


def test_a_batch_that_fills_the_memo_still_answers_its_known_inputs() -> None:
    memo = FindingMemo(CLASSIFIER)
    known = line("ModuleNotFoundError: No module named 'auth_service'")
    one(memo, known)
    fillers = [line(f"job {n} finished", severity="INFO") for n in range(MAX_ENTRIES)]
    batch = [known, *fillers, known]  # the memo is cleared while this batch's new inputs are remembered
    findings = memo.classify_batch(batch)
    assert findings[0] == findings[-1] == CLASSIFIER.classify(known)
    assert findings[1:-1] == [CLASSIFIER.classify(f) for f in fillers]
