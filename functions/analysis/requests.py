"""Request lines: a request is a request, whatever its URL says.

Log text is attacker-controlled, and a request's URL most of all: anyone can request
`/Cannot find module 'x'` or `/?q=OutOfMemoryError`. A request log (a LogEntry with an
httpRequest, or an access-log line such as `"GET /x HTTP/1.1" 404`) reports what the service
answered; what it says about a failure comes from its status and from the platform's own text,
never from the path or query it was asked for. So the classifier is shown the line with the
request target replaced by a placeholder, while templates and excerpts keep the real line.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from functions.core.model import LogRecord

TARGET_PLACEHOLDER = "/<url>"
_METHODS = "GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS|CONNECT|TRACE"
# An access-log request line: the method, the request target, optionally the protocol, then the
# status (nginx/Apache combined, uvicorn, gunicorn, morgan, Kestrel and Go formats all have it).
# Quoted with its protocol, the target may hold spaces (uvicorn prints the decoded path).
_ACCESS_LINE = re.compile(
    rf'"(?:{_METHODS}) (?P<target>[^"\n]*?) HTTP/[\d.]+" (?P<status>[1-5]\d\d)\b'
    rf'|\b(?:{_METHODS}) (?P<bare>[^\s"]+)(?: HTTP/[\d.]+)? (?P<bare_status>[1-5]\d\d)\b'
)


# Every request line holds one of these (a method word and its space): most messages hold none, and
# this one search is far cheaper than the request-line regex, which runs only on lines that may match.
_METHOD_WORD = re.compile(rf"(?:{_METHODS}) ")


def may_hold_request_line(message: str) -> bool:
    """False when `message` cannot hold an access-log request line (no method word followed by a space)."""
    return _METHOD_WORD.search(message) is not None


def request_status(record: LogRecord) -> int | None:
    """The HTTP status the record reports: its httpRequest's, else an access-log line's, else None."""
    if record.http_status is not None:
        return record.http_status
    if not may_hold_request_line(record.message):
        return None
    match = _ACCESS_LINE.search(record.message)
    return int(match.group("status") or match.group("bare_status")) if match else None


def is_request(record: LogRecord) -> bool:
    """True for a request log: an httpRequest, or a message that is an access-log request line."""
    return request_status(record) is not None


def _targets(record: LogRecord) -> list[str]:
    """The spellings of the request target that may appear in the message, longest first."""
    found: list[str] = []
    url = record.http_url
    if url:
        found.append(url)
        try:
            parts = urlsplit(url)
            found.extend(p for p in (parts.path + ("?" + parts.query if parts.query else ""), parts.path) if p)
        except ValueError:
            pass
    found.extend([unquote(t) for t in found])
    return sorted({t for t in found if len(t) > 1}, key=len, reverse=True)


def classification_text(record: LogRecord) -> str:
    """The record's message with every request target in it replaced by TARGET_PLACEHOLDER."""
    message = record.message
    if not message:
        return message
    if record.http_status is not None:
        for target in _targets(record):
            message = message.replace(target, TARGET_PLACEHOLDER)
    if not may_hold_request_line(message):
        return message
    return _ACCESS_LINE.sub(_mask_target, message)


def _mask_target(match: re.Match[str]) -> str:
    group = "target" if match.group("target") is not None else "bare"
    start, end = match.span(group)
    line_start = match.start()
    return match.group(0)[: start - line_start] + TARGET_PLACEHOLDER + match.group(0)[end - line_start :]


def for_classification(record: LogRecord) -> LogRecord:
    """The record as the classifier may see it: request targets masked (see the module docstring).

    A request log without text of its own (its message was built from method, path and status) is
    judged by its status alone: nothing in it is the service's own words.
    """
    if record.request_line:
        return record._replace(message="")
    text = classification_text(record)
    return record if text == record.message else record._replace(message=text)
