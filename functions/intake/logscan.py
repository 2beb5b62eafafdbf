"""The fast path for log exports: LogEntry batches decoded at C speed into only the fields sitrep uses.

`gcloud logging read --format=json` prints an indented JSON array; JSON Lines holds one object per
line. A JSON string holds no raw newline, so in an indented array the line that closes an element
("\\n" + the element's indent + "}") can only be that element's end; in JSON Lines every line ends
one. The scanner cuts a read chunk at the last such line and msgspec decodes the whole batch into
`_Entry` structs, skipping every field sitrep does not read (most of an entry's bytes).

Nothing here decides a result on its own: a file this path cannot read exactly as
`functions.intake.evidence` would (another layout, a field of an unexpected type, NaN, a lone surrogate,
an entries.list page, malformed or poison JSON) raises `Unsuitable` with the number of records
already yielded, and the caller reads the rest with the reference reader, which salvages or
reports it. msgspec refuses what the reference would turn into different text (lone surrogates,
infinite numbers), so every string it yields is valid UTF-8.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec

from functions.core.model import LogRecord
from functions.core.project_changes import AuditChange
from functions.intake.changes import ACTIVITY_LOG, audit_change, is_activity_audit
from functions.intake.evidence import (
    EARLIEST_MOMENT,
    LATEST_MOMENT,
    _duration_s,
    _entry_message,
    _message_field,
    parse_rfc3339,
    short_log_name,
    url_path,
)
from functions.intake.evidence import (
    _severity as _reference_severity,
)
from functions.intake.jsonbounds import MAX_JSON_DEPTH, JsonBoundsError, value_end

CHUNK_BYTES = 1 << 19  # 512 KiB: a read chunk, the batch cut from it and its decoded entries are the peak
_BOM = b"\xef\xbb\xbf"
_WS = re.compile(rb"[ \t\r\n]*")
# Cloud Logging's own timestamp shape; anything else goes through parse_rfc3339.
_CANONICAL_TS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6,9}Z", re.ASCII)
_EMPTY = msgspec.Raw()
# An http(s) URL whose host holds only characters urlsplit takes as they are, and no character it strips
# or splits on besides '?' and '#': its path is the text between the host and the first '?' or '#'.
_PLAIN_URL = re.compile(r"https?://[A-Za-z0-9.\-:_~%]*(/[^?#\x00-\x20\x7f]*)?(?:[?#][^\x00-\x20\x7f]*)?", re.ASCII)


class Unsuitable(Exception):
    """This path cannot go on; `done` records were yielded, the reference reader takes over after them."""

    def __init__(self, done: int) -> None:
        super().__init__(done)
        self.done = done


class _ResourceLabels(msgspec.Struct, gc=False):
    service_name: str = ""
    function_name: str = ""
    job_name: str = ""
    container_name: str = ""
    location: str = ""  # read by audit entries (functions.intake.changes)
    database_id: str = ""
    revision_name: str = ""


class _Resource(msgspec.Struct, gc=False):
    type: str = ""
    labels: _ResourceLabels = msgspec.field(default_factory=_ResourceLabels)


class _Labels(msgspec.Struct, gc=False):
    service: str = ""


class _Http(msgspec.Struct, gc=False):
    status: int | None = None
    requestMethod: str = ""
    requestUrl: str = ""
    latency: str | None = None
    remoteIp: str = ""
    userAgent: str = ""


class _Entry(msgspec.Struct, gc=False):
    timestamp: str = ""
    receiveTimestamp: str = ""
    severity: str | int = ""
    textPayload: str | None = None
    jsonPayload: msgspec.Raw = _EMPTY
    protoPayload: msgspec.Raw = _EMPTY
    resource: _Resource | None = None
    labels: _Labels | None = None
    httpRequest: _Http | None = None
    logName: str = ""
    insertId: str = ""
    trace: str = ""
    operation: msgspec.Raw = _EMPTY
    entries: msgspec.Raw = _EMPTY  # an entries.list page is the reference reader's business


_BATCH = msgspec.json.Decoder(list[_Entry])
_ANY = msgspec.json.Decoder()
_SEVERITIES: dict[str | int, str] = {}


def fast_records(path: Path | str, *, chunk_bytes: int = CHUNK_BYTES) -> Iterator[LogRecord | AuditChange]:
    """Yield what `records_and_changes` would of an export, or raise Unsuitable(done) where this path must stop."""
    done = 0
    with open(path, "rb") as stream:
        head = stream.read(chunk_bytes).removeprefix(_BOM)
        start = _WS.match(head).end()  # type: ignore[union-attr]
        opener = head[start : start + 1]
        if opener == b"[":
            batches = _array_batches(stream, head, start + 1, chunk_bytes)
        elif opener == b"{":
            batches = _line_batches(stream, head, start, chunk_bytes)
        else:
            raise Unsuitable(0)  # empty, blank, or not an array or object: the reference reader decides
        try:
            for batch in batches:
                try:
                    entries = _BATCH.decode(batch)
                except (msgspec.DecodeError, RecursionError):
                    # RecursionError only hands over: the reference reader enforces MAX_JSON_DEPTH itself.
                    raise _Stop from None
                for entry in entries:
                    item = _change(entry) or _record(entry)
                    if item is None:
                        raise _Stop
                    yield item
                    done += 1
        except _Stop:
            raise Unsuitable(done) from None


class _Stop(Exception):
    """Raised inside the scanner where the fast path ends."""


def _array_batches(stream: Any, buf: bytes, pos: int, chunk_bytes: int) -> Iterator[bytes]:
    """JSON arrays of the elements of an indented array, each batch cut after an element's closing line."""
    match = _WS.match(buf, pos)
    first = match.end() if match else pos
    while first >= len(buf) and (more := stream.read(chunk_bytes)):
        buf += more
        first = _WS.match(buf, pos).end()  # type: ignore[union-attr]
    if buf[first : first + 1] == b"]":
        _expect_end(stream, buf, first + 1, chunk_bytes)
        return
    newline = buf.rfind(b"\n", pos, first)
    if buf[first : first + 1] != b"{" or newline < 0:
        raise _Stop  # not an indented array of objects
    closer = b"\n" + buf[newline + 1 : first] + b"}"
    pos = first
    eof = False
    while True:
        cut = buf.rfind(closer, pos)
        if cut < 0:
            if eof:
                raise _Stop
            more = stream.read(chunk_bytes)
            if not more:
                eof = True
            buf = buf[pos:] + more
            pos = 0
            continue
        end = cut + len(closer)
        yield b"[" + buf[pos:end] + b"]"
        after = _WS.match(buf, end).end()  # type: ignore[union-attr]
        while after >= len(buf) and not eof:
            more = stream.read(chunk_bytes)
            eof = not more
            buf = buf[end:] + more
            end, after = 0, _WS.match(buf, 0).end()  # type: ignore[union-attr]
        separator = buf[after : after + 1]
        if separator == b"]":
            _expect_end(stream, buf, after + 1, chunk_bytes)
            return
        if separator != b",":
            raise _Stop
        pos = after + 1


def _expect_end(stream: Any, buf: bytes, pos: int, chunk_bytes: int) -> None:
    """Only whitespace may follow the array; anything else is the reference reader's to judge."""
    rest = buf[pos:]
    while True:
        if rest.strip(b" \t\r\n"):
            raise _Stop
        rest = stream.read(chunk_bytes)
        if not rest:
            return


def _line_batches(stream: Any, buf: bytes, pos: int, chunk_bytes: int) -> Iterator[bytes]:
    """JSON Lines: whole lines joined into an array, so one decode call reads many entries."""
    buf = buf[pos:]
    while True:
        more = stream.read(chunk_bytes)
        cut = len(buf) if not more else buf.rfind(b"\n") + 1
        lines = [line for line in buf[:cut].split(b"\n") if line.strip(b" \t\r")]
        if lines:
            yield b"[" + b",".join(lines) + b"]"
        if not more:
            return
        buf = buf[cut:] + more


def _change(entry: _Entry) -> AuditChange | None:
    """The change an Admin Activity audit entry records (decoded whole: they are few), else None."""
    if not entry.protoPayload or not short_log_name(entry.logName).endswith(ACTIVITY_LOG):
        return None
    try:
        raw: dict[str, Any] = {
            "logName": entry.logName,
            "timestamp": entry.timestamp,
            "protoPayload": _ANY.decode(entry.protoPayload),
            "operation": _ANY.decode(entry.operation) if entry.operation else {},
            "resource": msgspec.to_builtins(entry.resource) if entry.resource is not None else {},
        }
    except msgspec.DecodeError:
        return None  # the log-record path hands such an entry to the reference reader
    return audit_change(raw) if is_activity_audit(raw) else None


def _record(entry: _Entry) -> LogRecord | None:
    """The LogRecord `record_from_entry` would build, or None to hand the entry to the reference reader."""
    if entry.entries:
        return None
    text = entry.textPayload
    if text and (message := text.rstrip()):
        field = "textPayload"
    elif entry.jsonPayload or entry.protoPayload:
        payload_message = _payload_message(entry)
        if payload_message is None:
            return None
        message, field = payload_message
    else:
        message = field = ""
    status = None
    method = url = ""
    latency = None
    request_line = False
    remote_ip = user_agent = ""
    http = entry.httpRequest
    if http is not None:
        remote_ip, user_agent = http.remoteIp, http.userAgent
        status, method, url = http.status, http.requestMethod, http.requestUrl
        if status is None and not method and not url and http.latency is None:
            return None  # {} or only fields sitrep does not read: which one decides the message
        if status is not None and not 100 <= status <= 999:
            status = None
        if http.latency is not None:
            latency = _duration_s(http.latency)
        if not message:
            request_line = True
            path = _path(url)
            if method and path and status is not None:
                message = f"{method} {path} {status}"  # the common case of the line below, without its joins
            else:
                message = " ".join([part for part in (method, path, "" if status is None else str(status)) if part])
    resource = entry.resource
    resource_type = ""
    service = revision = ""
    if resource is not None:
        resource_type = resource.type
        labels = resource.labels
        service = labels.service_name or labels.function_name or labels.job_name
        revision = labels.revision_name
        if not service:
            service = (entry.labels.service if entry.labels is not None else "") or (
                labels.container_name if resource_type == "k8s_container" else ""
            )
    elif entry.labels is not None:
        service = entry.labels.service
    severity = _SEVERITIES.get(entry.severity)
    if severity is None:
        severity = _severity(entry.severity)
    # Positional, in LogRecord's field order (tests/test_logscan.py pins it): keywords cost a
    # fifth of the construction, and this runs once per entry.
    return LogRecord(
        _timestamp(entry.timestamp) or _timestamp(entry.receiveTimestamp),
        severity,
        message,
        service,
        revision,
        short_log_name(entry.logName),
        resource_type,
        status,
        method,
        url,
        latency,
        entry.insertId,
        entry.trace,
        request_line,
        field if message else "",
        remote_ip,
        user_agent,
    )


def _payload_message(entry: _Entry) -> tuple[str, str] | None:
    """The reference's message of a structured payload and the field it came from, or None when the
    payload is beyond this path."""
    decoded: dict[str, Any] = {}
    for key, raw in (("jsonPayload", entry.jsonPayload), ("protoPayload", entry.protoPayload)):
        if not raw:
            continue
        try:
            # The payload opens one level inside its entry, which the reference reader counts too.
            text = bytes(raw)
            if text.count(b"[") + text.count(b"{") >= MAX_JSON_DEPTH:
                value_end(text.decode(), 0, MAX_JSON_DEPTH - 1)
            decoded[key] = _ANY.decode(raw)
        except (msgspec.DecodeError, JsonBoundsError, UnicodeDecodeError):
            return None
    return _entry_message(decoded), _message_field(decoded)


def _path(url: str) -> str:
    """`url_path` of an ordinary http(s) URL without urlsplit's generality; anything else goes to it."""
    match = _PLAIN_URL.fullmatch(url)
    if match is None:
        return url_path(url)
    return match.group(1) or "/"


def _severity(value: str | int) -> str:
    result = _reference_severity(value)
    if len(_SEVERITIES) < 64:
        _SEVERITIES[value] = result
    return result


def _timestamp(value: str) -> datetime | None:
    if not value:
        return None
    if _CANONICAL_TS.fullmatch(value):
        # Python 3.11 reads this shape whole: fraction truncated to microseconds, "Z" as UTC.
        moment = datetime.fromisoformat(value)
        return moment if EARLIEST_MOMENT <= moment < LATEST_MOMENT else None
    return parse_rfc3339(value)
