"""GitHub delivery: the tracking issue that carries the full report and, hidden in its body, the ledger.

`GitHubIssues` implements `ports.IssueTracker` with PyGithub, built lazily on first use (no I/O in
the constructor) with `lazy=True`, so editing or commenting on issue N is one request, not a GET
first. An issue is recognised by two HTML comments at the END of its body (invisible when rendered):

    <!-- sitrep:key=<percent-encoded key> -->
    <!-- sitrep:ledger <base64url(JSON ledger entry)> -->

`compose_body` appends them (truncating the report visibly to fit GitHub's 65,536-character body
limit) and `parse_markers` reads them back; both are pure and live in `functions.incidents.markers`
(re-exported here).

Retries inside one call (a bounded `GithubRetry`): at most 2, backoff 0.25 s then 0.5 s, for
connection errors, 429 / 5xx, and rate-limit 403s, sleeping through Retry-After only when it is
<= `max_wait_s`. POSTs (create issue, comment) are not retried after a 5xx or a read timeout:
GitHub may have applied them, and a redelivery re-finds the issue by its marker instead of
creating a second one.

Error mapping (every failure is a `functions.core.errors.DeliveryError` with surface "github"):

    GitHub answer                                             raised                   retry_after
    --------------------------------------------------------  -----------------------  -----------------------------
    HTTP 5xx, HTTP 429                                        TransientDeliveryError   Retry-After / x-ratelimit-reset
    HTTP 403 rate limit (message says "rate limit", or        TransientDeliveryError   Retry-After / x-ratelimit-reset
      Retry-After present, or x-ratelimit-remaining: 0)                                / secondary wait (60 s)
    connection refused / reset, timeout                       TransientDeliveryError   None
    HTTP 401, other 403, 404, 410, 422, other 4xx             PermanentDeliveryError   -

Titles are `PlainTitle` and bodies and comments `Markdown` (functions.render.inert): the renderers
escaped every piece of log text in them, and this adapter sends them as they are (only cut to fit).

Messages carry the operation, the HTTP status and GitHub's message (with its validation errors),
never the token: PyGithub sends it only in the Authorization header and masks it in its log.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from functions.core.errors import DeliveryError, PermanentDeliveryError, TransientDeliveryError, excerpt
from functions.core.secret import Secret
from functions.incidents.markers import (
    MAX_BODY_CHARS,
    TRUNCATION_BACKTRACK_CHARS,
    compose_body,
    key_marker,
    ledger_marker,
    parse_markers,
    report_budget,
    truncate_markdown,
)
from functions.incidents.ports import TrackedIssue
from functions.render.inert import Markdown, PlainTitle

if TYPE_CHECKING:
    from github import Github
    from github.Repository import Repository

log = logging.getLogger(__name__)

SURFACE: Final = "github"
SITREP_LABEL: Final = "sitrep"
# Title: 256 characters (GitHub's REST API reference); the body limit is markers.MAX_BODY_CHARS.
MAX_TITLE_CHARS: Final = 256
PER_PAGE: Final = 100  # GitHub's maximum page size
MAX_LIST_PAGES: Final = 3  # find() reads at most 300 open and 300 closed sitrep issues
MAX_RETRIES: Final = 2
BACKOFF_FACTOR_S: Final = 0.25
BACKOFF_MAX_S: Final = 2.0
SECONDARY_RATE_WAIT_S: Final = 60.0  # GitHub: without Retry-After, wait at least a minute
LABEL_COLOURS: Final[Mapping[str, str]] = {
    SITREP_LABEL: "5319e7",
    "incident": "b60205",
    "resolved": "0e8a16",
    "regressed": "d93f0b",
}
DEFAULT_LABEL_COLOUR: Final = "ededed"
LABEL_DESCRIPTION: Final = "Managed by sitrep"


def _title(title: str) -> str:
    title = " ".join(title.split()) or "sitrep incident"
    return title if len(title) <= MAX_TITLE_CHARS else title[: MAX_TITLE_CHARS - 1] + "…"


def _parse_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def tracked_issue(raw: Mapping[str, Any]) -> TrackedIssue:
    """A TrackedIssue from GitHub's issue JSON."""
    body = str(raw.get("body") or "")
    return TrackedIssue(
        number=int(raw["number"]),
        state=str(raw.get("state", "open")),
        closed_at=_parse_time(raw.get("closed_at")),
        body=body,
        ledger=parse_markers(body)[1],
        url=str(raw.get("html_url") or raw.get("url") or ""),
    )


# --- the adapter ----------------------------------------------------------------------------------


class GitHubIssues:
    """Tracking issues in one repository, labelled "sitrep", recognised by their key marker."""

    def __init__(
        self,
        token: Secret,
        repository: str,
        base_url: str,
        timeout_s: float,
        *,
        max_wait_s: float = 10.0,
        write_interval_s: float | None = 1.0,
        backoff_s: float = BACKOFF_FACTOR_S,
    ) -> None:
        """`max_wait_s` caps a Retry-After slept through; `write_interval_s` spaces consecutive writes as
        GitHub asks (secondary rate limits; None: no spacing); `backoff_s` is the retry backoff factor."""
        self._token = token
        self.repository = repository
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.max_wait_s = max_wait_s
        self.write_interval_s = write_interval_s
        self.backoff_s = backoff_s
        self._github: Github | None = None
        self._repo: Repository | None = None
        self._known_labels: set[str] = set()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"GitHubIssues(repository={self.repository!r}, base_url={self.base_url!r}, token=<secret>)"

    # --- IssueTracker ------------------------------------------------------------------

    def find(self, key: str, *, closed_since: datetime | None) -> TrackedIssue | None:
        """The open issue for `key`; else the latest closed at or after `closed_since` (None: no lower bound)."""
        with self._guard("find issue"):
            for raw in self._list("open", since=None):
                if parse_markers(str(raw.get("body") or ""))[0] == key:
                    return tracked_issue(raw)
            best: TrackedIssue | None = None
            for raw in self._list("closed", since=closed_since):
                if parse_markers(str(raw.get("body") or ""))[0] != key:
                    continue
                issue = tracked_issue(raw)
                if closed_since is not None and (issue.closed_at is None or issue.closed_at < closed_since):
                    continue
                if best is None or (issue.closed_at or datetime.min.replace(tzinfo=UTC)) > (
                    best.closed_at or datetime.min.replace(tzinfo=UTC)
                ):
                    best = issue
            return best

    def create(
        self, title: PlainTitle, body: Markdown, labels: Sequence[str], *, assignees: Sequence[str] = ()
    ) -> TrackedIssue:
        """Open an issue labelled "sitrep" plus `labels`, creating missing repository labels first."""
        names = list(dict.fromkeys([SITREP_LABEL, *labels]))
        with self._guard("create issue"):
            repo = self._repository()
            self._ensure_labels(repo, names)
            extra: dict[str, Any] = {"assignees": list(dict.fromkeys(assignees))} if assignees else {}
            issue = repo.create_issue(title=_title(title), body=body, labels=names, **extra)
            return tracked_issue(issue.raw_data)

    def list_open(self) -> list[TrackedIssue]:
        """Open issues labelled sitrep whose body carries a key marker, most recently updated first."""
        with self._guard("list open issues"):
            return [tracked_issue(raw) for raw in self._list("open", since=None)
                    if parse_markers(str(raw.get("body") or ""))[0] is not None]

    def edit(self, number: int, *, body: Markdown | None = None, title: PlainTitle | None = None) -> None:
        """Replace the body and/or title; nothing to change is no request."""
        changes: dict[str, Any] = {}
        if body is not None:
            changes["body"] = body
        if title is not None:
            changes["title"] = _title(title)
        if not changes:
            return
        with self._guard(f"edit issue #{number}"):
            self._repository().get_issue(number).edit(**changes)

    def comment(self, number: int, body: Markdown) -> None:
        """Comment on the issue (a body over GitHub's limit is truncated visibly)."""
        with self._guard(f"comment on issue #{number}"):
            self._repository().get_issue(number).create_comment(truncate_markdown(body, MAX_BODY_CHARS))

    def close(self, number: int) -> None:
        """Close the issue as completed."""
        with self._guard(f"close issue #{number}"):
            self._repository().get_issue(number).edit(state="closed", state_reason="completed")

    def reopen(self, number: int) -> None:
        """Reopen the issue (GitHub records state_reason "reopened")."""
        with self._guard(f"reopen issue #{number}"):
            self._repository().get_issue(number).edit(state="open")

    def add_labels(self, number: int, labels: Sequence[str]) -> None:
        """Add labels (creating missing repository labels with sitrep's colours); others stay."""
        names = list(dict.fromkeys(labels))
        if not names:
            return
        with self._guard(f"label issue #{number}"):
            repo = self._repository()
            self._ensure_labels(repo, names)
            repo.get_issue(number).add_to_labels(*names)

    # --- plumbing ------------------------------------------------------------------------

    def _client(self) -> Github:
        with self._lock:
            if self._github is None:
                self._github = _build_client(
                    self._token, self.base_url, self.timeout_s, self.max_wait_s, self.write_interval_s, self.backoff_s
                )
            return self._github

    def _repository(self) -> Repository:
        client = self._client()
        with self._lock:
            if self._repo is None:
                self._repo = client.get_repo(self.repository)  # lazy: no request
            return self._repo

    def _list(self, state: str, since: datetime | None) -> Iterator[dict[str, Any]]:
        """Issues (never pull requests) labelled sitrep, most recently updated first, at most MAX_LIST_PAGES pages.

        Raw JSON through PyGithub's requester: PyGithub's Issue objects fetch each issue again when
        a field the list omits (pull_request) is read.
        """
        params: dict[str, Any] = {
            "state": state,
            "labels": SITREP_LABEL,
            "sort": "updated",
            "direction": "desc",
            "per_page": PER_PAGE,
        }
        if since is not None:
            params["since"] = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        requester = self._client().requester
        for page in range(1, MAX_LIST_PAGES + 1):
            _, data = requester.requestJsonAndCheck(
                "GET", f"/repos/{self.repository}/issues", parameters={**params, "page": page}
            )
            if not isinstance(data, list):
                return
            for item in data:
                if isinstance(item, dict) and "pull_request" not in item and "number" in item:
                    yield item
            if len(data) < PER_PAGE:
                return

    def _ensure_labels(self, repo: Repository, names: Sequence[str]) -> None:
        """Create the repository labels `names` that do not exist yet (once per process)."""
        from github import GithubException

        missing = [n for n in names if n.lower() not in self._known_labels]
        if not missing:
            return
        self._known_labels.update(label.name.lower() for label in repo.get_labels())
        for name in missing:
            if name.lower() in self._known_labels:
                continue
            colour = LABEL_COLOURS.get(name.lower(), DEFAULT_LABEL_COLOUR)
            try:
                repo.create_label(name, colour, LABEL_DESCRIPTION)
            except GithubException as exc:
                mapped = _github_error(f"create label {name!r}", exc)
                if isinstance(mapped, TransientDeliveryError):
                    raise mapped from exc
                if not _already_exists(exc):  # e.g. no permission: GitHub may still apply it with the issue
                    log.warning("%s; continuing without creating it", mapped)
            self._known_labels.add(name.lower())

    @contextmanager
    def _guard(self, operation: str) -> Iterator[None]:
        """Translate PyGithub / requests failures into DeliveryErrors that carry no secret."""
        from github import GithubException
        from requests import RequestException

        try:
            yield
        except DeliveryError:
            raise
        except GithubException as exc:
            raise _github_error(operation, exc) from exc
        except (RequestException, OSError) as exc:  # refused, reset, timeouts, retries exhausted
            raise TransientDeliveryError(
                f"github {operation}: connection failed ({type(exc).__name__}: {excerpt(exc, 200)})", surface=SURFACE
            ) from exc


def _header(headers: Mapping[str, Any] | None, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if str(key).lower() == name:
            return str(value)
    return None


def _retry_after(headers: Mapping[str, Any] | None) -> float | None:
    """Seconds to wait: Retry-After, else until x-ratelimit-reset when the quota is spent."""
    value = _header(headers, "retry-after")
    if value is not None:
        try:
            return max(float(value), 0.0)
        except ValueError:
            pass
    reset = _header(headers, "x-ratelimit-reset")
    if reset is not None and _header(headers, "x-ratelimit-remaining") == "0":
        try:
            return max(float(reset) - time.time(), 0.0)
        except ValueError:
            return None
    return None


def _message(data: Any) -> str:
    """GitHub's message plus its validation errors, on one line."""
    if not isinstance(data, Mapping):
        return excerpt(data or "", 200)
    parts = [str(data.get("message") or "")]
    for error in data.get("errors") or []:
        if isinstance(error, Mapping):
            parts.append(str(error.get("message") or f"{error.get('field', '')} {error.get('code', '')}".strip()))
        else:
            parts.append(str(error))
    return excerpt(": ".join(p for p in parts if p), 300)


def _already_exists(exc: Any) -> bool:
    data = getattr(exc, "data", None)
    errors = data.get("errors") if isinstance(data, Mapping) else None
    return getattr(exc, "status", None) == 422 and any(
        isinstance(e, Mapping) and e.get("code") == "already_exists" for e in errors or []
    )


def _github_error(operation: str, exc: Any) -> TransientDeliveryError | PermanentDeliveryError:
    """Classify a GithubException by status, message and rate-limit headers (see the module table)."""
    from github import RateLimitExceededExceedsMaxWait

    status = int(getattr(exc, "status", 0) or 0)
    headers = getattr(exc, "headers", None)
    message = _message(getattr(exc, "data", None))
    text = f"github {operation}: HTTP {status}: {message or 'no message'}"
    if isinstance(exc, RateLimitExceededExceedsMaxWait):
        return TransientDeliveryError(text, surface=SURFACE, retry_after=exc.wait)
    rate_limited = status == 403 and (
        "rate limit" in message.lower()
        or _header(headers, "retry-after") is not None
        or _header(headers, "x-ratelimit-remaining") == "0"
    )
    if status == 429 or rate_limited:
        wait = _retry_after(headers)
        if wait is None and "secondary rate limit" in message.lower():
            wait = SECONDARY_RATE_WAIT_S
        return TransientDeliveryError(text, surface=SURFACE, retry_after=wait)
    if status >= 500 or status == 0:
        return TransientDeliveryError(text, surface=SURFACE, retry_after=_retry_after(headers))
    return PermanentDeliveryError(text, surface=SURFACE)


def _build_client(
    token: Secret,
    base_url: str,
    timeout_s: float,
    max_wait_s: float,
    write_interval_s: float | None,
    backoff_s: float,
) -> Github:
    """A lazy PyGithub client with bounded retries; PyGithub is imported here to keep import time low."""
    from github import Auth, Github, GithubRetry
    from urllib3.exceptions import MaxRetryError, ResponseError

    class BoundedRetry(GithubRetry):
        """GithubRetry that never sleeps longer than max_rate_limit_wait and never re-sends a POST after a 5xx."""

        def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
            if method.upper() == "POST":
                # A rate-limited POST was not applied; after a 5xx the issue or comment may exist
                # already, so leave that to a redelivery, which finds the issue by its marker.
                return status_code in (403, 429) and bool(super().is_retry("GET", status_code, has_retry_after))
            return bool(super().is_retry(method, status_code, has_retry_after))

        def increment(
            self,
            method: Any = None,
            url: Any = None,
            response: Any = None,
            error: Any = None,
            _pool: Any = None,
            _stacktrace: Any = None,
        ) -> Any:
            if response is not None:
                wait = self.get_retry_after(response)
                if wait is not None and self.max_rate_limit_wait is not None and wait > self.max_rate_limit_wait:
                    # Hand the response back (raise_on_status=False) so it becomes a Transient error now.
                    raise MaxRetryError(_pool, url, ResponseError(f"Retry-After {wait:g} s is too long"))
            return super().increment(method, url, response, error, _pool, _stacktrace)

    retry = BoundedRetry(
        total=MAX_RETRIES,
        backoff_factor=backoff_s,
        backoff_max=BACKOFF_MAX_S,
        status_forcelist=[429, 500, 502, 503, 504],
        allowed_methods=frozenset({"GET", "HEAD", "PUT", "DELETE", "PATCH"}),  # POST: see is_retry
        raise_on_status=False,
        respect_retry_after_header=True,
        secondary_rate_wait=SECONDARY_RATE_WAIT_S,
        max_rate_limit_wait=max_wait_s,
    )
    return Github(
        base_url=base_url,
        auth=Auth.Token(token.reveal()),
        timeout=max(math.ceil(timeout_s), 1),  # PyGithub asserts an int
        retry=retry,
        per_page=PER_PAGE,
        seconds_between_requests=None,
        seconds_between_writes=write_interval_s,
        lazy=True,
    )


__all__ = [
    "MAX_BODY_CHARS",
    "MAX_TITLE_CHARS",
    "SURFACE",
    "TRUNCATION_BACKTRACK_CHARS",
    "GitHubIssues",
    "compose_body",
    "key_marker",
    "ledger_marker",
    "parse_markers",
    "report_budget",
    "tracked_issue",
    "truncate_markdown",
]
