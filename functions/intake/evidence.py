"""Log evidence: LogEntry exports (files or streams) -> LogRecord, and RFC 3339 timestamps.

Pure: reads only the files it is given. Log exports are streamed, so memory stays
flat however large the spike's export is (docs/ARCHITECTURE.md). `record_from_entry` is shared with
the live Cloud Logging adapter. Metrics documents are read by `functions.intake.metrics`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import unquote, urlsplit

from functions.core.coerce import as_int, as_mapping, as_number, as_text, valid_text
from functions.core.errors import EvidenceError
from functions.core.model import LogRecord
from functions.intake.jsonbounds import JsonBoundsError, number_too_long, value_end
from functions.redaction.payload import redact_json_keys

DEFAULT_CHUNK_CHARS = 1 << 16

# Incomplete JSON at the end of a chunk fails within this many characters of the
# end (the longest case is a split surrogate pair escape, 12 characters).
_TAIL_CHARS = 12
_WS = re.compile(r"[ \t\n\r]*")
_RFC3339 = re.compile(r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?\s*([Zz]|[+-]\d{2}:?\d{2})?")
# LogSeverity enum numbers (google.logging.type.LogSeverity), for exports that carry them.
_SEVERITY_NUMBERS = {
    0: "DEFAULT",
    100: "DEBUG",
    200: "INFO",
    300: "NOTICE",
    400: "WARNING",
    500: "ERROR",
    600: "CRITICAL",
    700: "ALERT",
    800: "EMERGENCY",
}
_MESSAGE_KEYS = ("message", "msg")
_DETAIL_KEYS = ("error", "err", "exception", "stack_trace", "stacktrace", "traceback")
# Keys only a LogEntry has: an object without any of them but with "entries" is an entries.list page.
_LOG_ENTRY_KEYS = frozenset({"logName", "timestamp", "textPayload", "jsonPayload", "protoPayload", "insertId"})


# --- timestamps ---------------------------------------------------------------------------

# Moments the pipeline can do arithmetic on (lookbacks, windows, per-minute buckets). A log entry or an
# alert dated outside them is bogus ("0001-01-01", "9999-12-31T23:59:59Z") and is treated as undated,
# rather than overflow a subtraction or stretch a timeline over millennia.
EARLIEST_MOMENT = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_MOMENT = datetime(3000, 1, 1, tzinfo=UTC)


def plausible(moment: datetime | None) -> datetime | None:
    """`moment` when it lies between EARLIEST_MOMENT and LATEST_MOMENT, else None."""
    return moment if moment is not None and EARLIEST_MOMENT <= moment < LATEST_MOMENT else None


def parse_rfc3339(value: object) -> datetime | None:
    """Parse an RFC 3339 timestamp (any fraction length, Z or offset) to an aware UTC datetime.

    Cloud Logging writes nanoseconds, which `datetime.fromisoformat` rejects on 3.11;
    the fraction is truncated to microseconds. A naive value is taken as UTC.
    Returns None for anything unparseable rather than raising, and for an implausible moment
    (see `plausible`), including one outside datetime's range once moved to UTC.
    """
    if isinstance(value, datetime):
        try:
            return plausible((value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC))
        except OverflowError:
            return None
    if not isinstance(value, str):
        return None
    match = _RFC3339.fullmatch(value.strip())
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    micros = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        tz = UTC
        if offset and offset not in ("Z", "z"):
            digits = offset[1:].replace(":", "")
            delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
            tz = timezone(-delta if offset[0] == "-" else delta)
        parsed = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), micros, tzinfo=tz)
        return plausible(parsed.astimezone(UTC))
    except (ValueError, OverflowError):
        return None


# --- streaming JSON reader ----------------------------------------------------------------


class _JsonStream:
    """Yields top-level JSON values from a text stream, streaming the elements of arrays.

    Accepts a JSON array (what `gcloud logging read --format=json` prints), JSON Lines,
    a single object, or several of these concatenated. Holds one read chunk plus the
    value being decoded; a value longer than a chunk grows the read size geometrically
    so re-decoding it stays linear.
    """

    def __init__(self, stream: TextIO, name: str, chunk_chars: int) -> None:
        self._stream = stream
        self._name = name
        self._chunk_chars = max(1, chunk_chars)
        self._decoder = json.JSONDecoder()
        self._buf = ""
        self._pos = 0
        self._eof = False
        self._line = 1  # line number of self._buf[0]
        self._col0 = 0  # 0-based column of self._buf[0]

    def values(self) -> Iterator[tuple[Any, bool]]:
        """Yield (value, is_array_element) in file order."""
        while (char := self._skip_ws()) != "":
            if char == "[":
                self._pos += 1
                for element in self._array_elements():
                    yield element, True
            elif char == "{":
                yield self._value(), False
            else:
                raise self._error(self._pos, f"expected a JSON array or object, found {char!r}")

    def _array_elements(self) -> Iterator[Any]:
        char = self._skip_ws()
        if char == "]":
            self._pos += 1
            return
        while True:
            if char == "":
                raise self._error(self._pos, "file ends inside the array")
            if char == "]":
                raise self._error(self._pos, "trailing ',' before ']'")
            yield self._value()
            char = self._skip_ws()
            if char == "]":
                self._pos += 1
                return
            if char != ",":
                found = "end of file" if char == "" else repr(char)
                raise self._error(self._pos, f"expected ',' or ']' after an array element, found {found}")
            self._pos += 1
            char = self._skip_ws()

    def _value(self) -> Any:
        while True:
            start = self._pos
            try:
                # Bounded before decoding: the decoder recurses, our scan does not (functions.intake.jsonbounds).
                if value_end(self._buf, start) is None:
                    if self._fill():
                        continue
                    start = self._pos  # the last _fill dropped the text before the value
                value, end = self._decoder.raw_decode(self._buf, start)
            except JsonBoundsError as exc:
                raise self._error(exc.position - (start - self._pos), exc.problem) from None
            except json.JSONDecodeError as exc:
                incomplete = exc.pos >= len(self._buf) - _TAIL_CHARS or exc.msg.startswith("Unterminated string")
                if incomplete and self._fill():
                    continue
                # _fill may have dropped the text before `start`: positions moved left by that much.
                raise self._error(exc.pos - (start - self._pos), exc.msg) from None
            except ValueError:  # the int parser's digit limit, the only other ValueError json raises
                raise self._error(start - (start - self._pos), number_too_long().problem) from None
            # A bare number near the chunk end ("12" of "1234", "-0" of "-0.25") may go on in the next chunk.
            if self._buf[start] not in '{["' and end >= len(self._buf) - _TAIL_CHARS and self._fill():
                continue
            self._pos = end - (start - self._pos)
            return value

    def _skip_ws(self) -> str:
        """Move past whitespace; return the next character, or "" at end of input."""
        while True:
            match = _WS.match(self._buf, self._pos)
            self._pos = match.end() if match else self._pos
            if self._pos < len(self._buf):
                return self._buf[self._pos]
            if not self._fill():
                return ""

    def _fill(self) -> bool:
        """Drop consumed text and read more; False at end of input."""
        if self._eof:
            return False
        newlines = self._buf.count("\n", 0, self._pos)
        if newlines:
            self._line += newlines
            self._col0 = self._pos - self._buf.rfind("\n", 0, self._pos) - 1
        else:
            self._col0 += self._pos
        pending = len(self._buf) - self._pos
        try:
            more = self._stream.read(max(self._chunk_chars, pending))
        except UnicodeDecodeError as exc:
            raise self._error(len(self._buf), f"not UTF-8 text ({exc.reason})") from None
        self._buf = self._buf[self._pos :] + more
        self._pos = 0
        if not more:
            self._eof = True
        return bool(more)

    def _error(self, index: int, problem: str) -> EvidenceError:
        newlines = self._buf.count("\n", 0, index)
        if newlines:
            line, col = self._line + newlines, index - self._buf.rfind("\n", 0, index)
        else:
            line, col = self._line, self._col0 + index + 1
        return EvidenceError(self._name, f"line {line} col {col}: {problem}")


def iter_log_entries_from(
    stream: TextIO, *, name: str = "<stream>", chunk_chars: int = DEFAULT_CHUNK_CHARS
) -> Iterator[dict[str, Any]]:
    """Stream LogEntry objects from an open text stream (e.g. stdin); see `iter_log_entries`."""
    for value, in_array in _JsonStream(stream, name, chunk_chars).values():
        if not in_array and isinstance(value, dict) and _is_entries_page(value):
            for item in value["entries"]:
                yield from _as_entries(item)
        else:
            yield from _as_entries(value)


def _is_entries_page(value: dict[str, Any]) -> bool:
    """An entries.list response ({"entries": [...], "nextPageToken": ...}) rather than a LogEntry."""
    return isinstance(value.get("entries"), list) and not _LOG_ENTRY_KEYS & value.keys()


def iter_log_entries(path: Path | str, *, chunk_chars: int = DEFAULT_CHUNK_CHARS) -> Iterator[dict[str, Any]]:
    """Stream the LogEntry objects of a `gcloud logging read --format=json` export.

    Also reads JSON Lines, a single LogEntry and an `entries:list` response. Never
    loads the whole file. Elements that are not objects are salvaged: a string
    becomes {"textPayload": s}, null is skipped, anything else is kept as its JSON text.
    Raises EvidenceError naming the file and the line and column of malformed JSON.
    """
    name = str(path)
    try:
        with open(path, encoding="utf-8-sig") as stream:
            yield from iter_log_entries_from(stream, name=name, chunk_chars=chunk_chars)
    except OSError as exc:
        raise EvidenceError(name, f"cannot read: {exc.strerror or exc}") from None


def _as_entries(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        yield value
    elif isinstance(value, str):
        yield {"textPayload": value}
    elif value is not None:
        yield {"textPayload": _compact(value)}


# --- LogEntry -> LogRecord ----------------------------------------------------------------


def record_from_entry(entry: object) -> LogRecord:
    """Reduce one LogEntry (REST JSON shape) to a LogRecord, salvaging what it can.

    Never raises: a field of the wrong type is treated as absent, a bad timestamp
    becomes None, a value that is not an object becomes the message.
    """
    if not isinstance(entry, Mapping):
        text = entry if isinstance(entry, str) else _compact(entry)
        return LogRecord(timestamp=None, severity="DEFAULT", message=valid_text(text))
    resource = as_mapping(entry.get("resource"))
    resource_labels = as_mapping(resource.get("labels"))
    resource_type = as_text(resource.get("type"))
    labels = as_mapping(entry.get("labels"))
    http = as_mapping(entry.get("httpRequest"))
    status = as_int(http.get("status"))
    status = status if status is not None and 100 <= status <= 999 else None
    method = as_text(http.get("requestMethod"))
    url = as_text(http.get("requestUrl"))

    message = valid_text(_entry_message(entry))
    request_line = not message and bool(http)
    if request_line:
        message = " ".join(part for part in (method, url_path(url), "" if status is None else str(status)) if part)

    # A Cloud Run job (resource.type cloud_run_job) is a "service" named by its job: its executions
    # and tasks are its runs, and it has no revisions (labels carry execution_name instead).
    service = (
        as_text(resource_labels.get("service_name"))
        or as_text(resource_labels.get("function_name"))
        or as_text(resource_labels.get("job_name"))
        or as_text(labels.get("service"))
        or (as_text(resource_labels.get("container_name")) if resource_type == "k8s_container" else "")
    )
    return LogRecord(
        timestamp=parse_rfc3339(entry.get("timestamp")) or parse_rfc3339(entry.get("receiveTimestamp")),
        severity=_severity(entry.get("severity")),
        message=message,
        service=service,
        revision=as_text(resource_labels.get("revision_name")),
        log_name=short_log_name(as_text(entry.get("logName"))),
        resource_type=resource_type,
        http_status=status,
        http_method=method,
        http_url=url,
        latency_s=_duration_s(http.get("latency")),
        insert_id=as_text(entry.get("insertId")),
        trace=as_text(entry.get("trace")),
        request_line=request_line,
        text_field=_message_field(entry) if message else "",
        remote_ip=as_text(http.get("remoteIp")),
        user_agent=as_text(http.get("userAgent")),
    )


@lru_cache(maxsize=256)  # a window's entries share a handful of log names
def short_log_name(log_name: str) -> str:
    """'projects/p/logs/run.googleapis.com%2Fvarlog%2Fsystem' -> 'run.googleapis.com/varlog/system'."""
    _, sep, tail = log_name.partition("/logs/")
    return unquote(tail if sep else log_name)


def _entry_message(entry: Mapping[str, Any]) -> str:
    text = entry.get("textPayload")
    if isinstance(text, str) and text.strip():
        return text.rstrip()
    payload = entry.get("jsonPayload")
    if isinstance(payload, Mapping) and payload:
        return _json_payload_message(payload)
    proto = as_mapping(entry.get("protoPayload"))
    if proto:
        status_message = as_text(as_mapping(proto.get("status")).get("message"))
        return status_message or " ".join(
            part for part in (as_text(proto.get("methodName")), as_text(proto.get("resourceName"))) if part
        )
    return ""


def _message_field(entry: Mapping[str, Any]) -> str:
    """The LogEntry field `_entry_message` took the message from, as the Logging query language names it."""
    text = entry.get("textPayload")
    if isinstance(text, str) and text.strip():
        return "textPayload"
    payload = entry.get("jsonPayload")
    if isinstance(payload, Mapping) and payload:
        key = next((key for key in _MESSAGE_KEYS if key in payload), "")
        return f"jsonPayload.{key}" if key else "jsonPayload"
    if as_mapping(entry.get("protoPayload")):
        return "protoPayload"
    return ""


def _json_payload_message(payload: Mapping[str, Any]) -> str:
    """The message of a structured log line, with any error detail it carries appended."""
    head = next((_field_text(payload[key]) for key in _MESSAGE_KEYS if key in payload), "")
    parts = [head] if head else []
    for key in _DETAIL_KEYS:
        detail = _field_text(payload.get(key))
        if detail and not any(detail in part for part in parts):
            parts.append(detail)
    return "\n".join(parts) if parts else _compact(redact_json_keys(payload))


def _field_text(value: object) -> str:
    if value is None:
        return ""
    return value.rstrip() if isinstance(value, str) else _compact(redact_json_keys(value))


def _severity(value: object) -> str:
    if isinstance(value, str) and value.strip():
        return valid_text(value.strip().upper())
    if isinstance(value, int) and not isinstance(value, bool):
        return _SEVERITY_NUMBERS.get(value, "DEFAULT")
    return "DEFAULT"


def _duration_s(value: object) -> float | None:
    """'0.015613718s' (protobuf JSON Duration), a number, or {seconds, nanos} -> seconds."""
    seconds: float | None = None
    if isinstance(value, str):
        try:
            seconds = float(value.strip().removesuffix("s"))
        except ValueError:
            return None
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, Mapping):
        whole, nanos = as_number(value.get("seconds")), as_number(value.get("nanos"))
        if whole is None and nanos is None:
            return None
        seconds = (whole or 0) + (nanos or 0) / 1e9
    return seconds if seconds is not None and math.isfinite(seconds) else None


def url_path(url: str) -> str:
    """The path of a request URL (no query: it holds ids and tokens), "/" when there is none."""
    try:
        path = urlsplit(url).path
    except ValueError:
        path = url.partition("?")[0]
    return path or "/"


# --- payload text -------------------------------------------------------------------------

TOO_DEEP = "<JSON nested too deep to show>"


def _compact(value: object) -> str:
    """Compact JSON text of a payload value; a value nested deeper than the encoder can go is named, not raised."""
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    except RecursionError:  # the parser took it at a shallower stack than we encode it from
        return TOO_DEEP
