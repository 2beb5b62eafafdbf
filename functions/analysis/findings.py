"""One Finding per distinct classifier input, not per record.

A replay classifies every record as `for_classification` shows it, and an export repeats the same
inputs over and over: every request log without text of its own is judged by its status, service,
revision and severity alone, and text lines repeat. Building the masked record (a copy)
and the Finding for each of them is most of the per-record cost, so both are done once per
distinct input. The key holds everything the classifier reads from the record it is shown
(message, status, service, revision, severity) and everything that masked record is made from
(the URL, when the record has a status), so a memoised Finding is the one the classifier would
return.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from functions.analysis.requests import for_classification
from functions.core.model import Finding, LogRecord

MAX_ENTRIES = 4_096  # distinct inputs remembered; cleared when full (bounded memory: it keeps messages alive)
MAX_MESSAGE_CHARS = 2_048  # longer messages are classified every time, as the classifier's own cache does


_Key = tuple[str, int | None, str, str, str, str]


class _Classifier(Protocol):
    def classify(self, record: LogRecord) -> Finding: ...

    def classify_many(self, records: Sequence[LogRecord]) -> list[Finding]: ...


class FindingMemo:
    """`classify_batch(records)[i]` = `classifier.classify(for_classification(records[i]))`, asked
    once per distinct input."""

    __slots__ = ("_classifier", "_memo")

    def __init__(self, classifier: _Classifier) -> None:
        self._classifier = classifier
        self._memo: dict[_Key, Finding] = {}

    def classify_batch(self, records: Sequence[LogRecord]) -> list[Finding]:
        """`classify` of each record; the batch's new inputs go to the classifier together."""
        keys = [self._key(record) for record in records]
        known: dict[_Key, Finding] = {}
        new: dict[_Key, LogRecord] = {}
        for key, record in zip(keys, records, strict=True):
            if key is None or key in known or key in new:
                continue
            finding = self._memo.get(key)
            if finding is None:
                new[key] = for_classification(record)
            else:
                known[key] = finding
        if new:
            for key, finding in zip(new, self._classifier.classify_many(list(new.values())), strict=True):
                known[key] = finding
                self._remember(key, finding)
        return [
            known[key] if key is not None else self._classifier.classify(for_classification(record))
            for key, record in zip(keys, records, strict=True)
        ]

    def _remember(self, key: _Key, finding: Finding) -> None:
        if len(self._memo) >= MAX_ENTRIES:
            self._memo.clear()
        self._memo[key] = finding

    @staticmethod
    def _key(record: LogRecord) -> _Key | None:
        """Everything the classifier's verdict depends on; None for a message too long to remember."""
        message = record.message
        if record.request_line:
            message = ""  # shown without its text (for_classification): only the fields below count
        elif len(message) > MAX_MESSAGE_CHARS:
            return None
        status = record.http_status
        # The URL decides the masked text only for a record with a status and text of its own.
        url = record.http_url if status is not None and message else ""
        return (message, status, url, record.service, record.revision, record.severity)
