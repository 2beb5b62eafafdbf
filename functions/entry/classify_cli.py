"""`python main.py classify`: LogEntry JSON (array or one per line) or plain text in, one JSON object per input out."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from itertools import chain
from typing import Any, TextIO

from functions.analysis.requests import for_classification
from functions.core.errors import EvidenceError
from functions.core.model import LogRecord
from functions.intake.evidence import iter_log_entries_from, record_from_entry
from functions.intake.jsonbounds import JsonBoundsError, loads_bounded
from functions.redaction.redact import redact

PEEK_CHARS = 4096


class _Chunks(io.TextIOBase):
    """A text stream over an iterator of chunks: puts back what was peeked to detect the format."""

    def __init__(self, chunks: Iterator[str]) -> None:
        self._chunks = chunks

    def read(self, size: int | None = -1) -> str:
        return next(self._chunks, "")


def _inputs(stream: TextIO, name: str) -> Iterator[LogRecord]:
    head = stream.read(PEEK_CHARS)
    rest = chain([head], iter(lambda: stream.read(65536), ""))
    if head.lstrip()[:1] == "[":
        for entry in iter_log_entries_from(_Chunks(rest), name=name):  # type: ignore[arg-type]
            yield record_from_entry(entry)
        return
    pending = ""
    number = 0
    for chunk in rest:
        pending += chunk
        *lines, pending = pending.split("\n")
        for line in lines:
            number += 1
            record = _line_record(line, name, number)
            if record is not None:
                yield record
    record = _line_record(pending, name, number + 1)
    if record is not None:
        yield record


def _line_record(line: str, name: str, number: int) -> LogRecord | None:
    text = line.rstrip("\r")
    if not text.strip():
        return None
    if text.lstrip().startswith("{"):
        try:
            obj = loads_bounded(text)
        except JsonBoundsError as exc:
            raise EvidenceError(name, f"line {number}: {exc.problem}") from None
        except json.JSONDecodeError:
            obj = None
        if isinstance(obj, dict):
            return record_from_entry(obj)
    return LogRecord(timestamp=None, severity="DEFAULT", message=text)


def classify_stream(stream: TextIO, *, name: str) -> Iterator[dict[str, Any]]:
    """One {"category", "signature", "matched_by", "weak", "entities", "template_id", "template", ...}
    per input, in input order (``matched_by``: the signature id or the cue that decided)."""
    from functions.analysis.templates.miner import TemplateMiner
    from functions.entry.wiring import core

    c = core()
    miner = TemplateMiner()
    for record in _inputs(stream, name):
        finding = c.classifier.classify(for_classification(record))  # a URL is never classified
        template_id = miner.add(record.message)
        yield {
            "category": finding.category.value,
            "signature": finding.signature,
            "matched_by": finding.matched_by or finding.signature,
            "weak": finding.weak,
            "entities": {k: redact(v) for k, v in finding.entities.items()},
            "template_id": template_id,
            "template": redact(miner.template(template_id)),
            "service": record.service,
            "severity": finding.severity.value,
            "summary": redact(finding.summary),
        }
