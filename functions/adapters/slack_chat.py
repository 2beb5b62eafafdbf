"""Slack delivery: the incident card is one channel message, edited in place, with thread replies.

`SlackChat` implements `ports.ChatSurface` with slack_sdk's `WebClient`, built on first use (no
I/O and no client in the constructor). Each card carries message metadata
`{"event_type": "sitrep_incident", "event_payload": {...key, generation...}}`, so `find` can adopt
a card that an earlier, failed invocation posted but never recorded.

Retries inside one call (slack_sdk retry handlers, at most 2 retries in all):
connection errors, HTTP 500/503 (short exponential backoff), and HTTP 429 while the total of the
Retry-After waits stays within `max_wait_s`. A longer Retry-After is not slept through: the call
raises at once so Pub/Sub redelivers later instead of the function burning its timeout.

Error mapping (every failure is a `functions.core.errors.DeliveryError` with surface "slack"):

    Slack answer                                          raised                        retry_after
    ----------------------------------------------------  ----------------------------  -----------
    HTTP 429, or ok=false "ratelimited"                   TransientDeliveryError        Retry-After
    HTTP 5xx, ok=false internal_error / fatal_error /     TransientDeliveryError        None
      service_unavailable / request_timeout
    connection refused / reset / dropped, timeout         TransientDeliveryError        None
    ok=false anything else: channel_not_found,            PermanentDeliveryError        -
      not_in_channel, invalid_auth, token_revoked,
      account_inactive, missing_scope, invalid_blocks,
      msg_too_long, no_text, message_not_found,
      cant_update_message, edit_window_closed, ...
    other HTTP 4xx                                        PermanentDeliveryError        -

What is sent is a `SlackMessage` (functions.render.slack): its text is `Mrkdwn`, escaped by the renderer,
and its mrkdwn text objects are verbatim. Posts and updates also say `parse: none` and `link_names: false`
(Slack's defaults, made explicit): Slack turns nothing in them into a mention or a link by itself.

Messages name the method and Slack's error code (with Slack's explanation for invalid_blocks),
never the token: the token only travels in the Authorization header, which slack_sdk redacts
from its debug log.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from http.client import HTTPException
from typing import TYPE_CHECKING, Any, Final

from functions.core.errors import PermanentDeliveryError, TransientDeliveryError, excerpt
from functions.core.secret import Secret
from functions.render.slack import SlackMessage

if TYPE_CHECKING:
    from slack_sdk import WebClient

log = logging.getLogger(__name__)

SURFACE: Final = "slack"
EVENT_TYPE: Final = "sitrep_incident"
MAX_RETRIES: Final = 2  # per call, all causes together
BACKOFF_FACTOR_S: Final = 0.25  # 5xx / connection retries wait 0.25 s, then 0.5 s (+ up to 25 % jitter)
RATE_LIMIT_JITTER_S: Final = 0.25  # added to Retry-After so retries do not land on the same instant
DEFAULT_RETRY_AFTER_S: Final = 1.0  # what to assume when a 429 carries no usable Retry-After
HISTORY_PAGE_SIZE: Final = 200
HISTORY_MAX_PAGES: Final = 3
# ok=false codes that say "try again later" rather than "this request is wrong" (Slack method docs).
TRANSIENT_ERRORS: Final = frozenset({"internal_error", "fatal_error", "service_unavailable", "request_timeout"})


def parse_ref(ref: str) -> tuple[str, str]:
    """Split a card ref "CHANNEL:TS" into (channel, ts); a malformed ref is a permanent error."""
    channel, sep, ts = ref.partition(":")
    if not sep or not channel or not ts:
        raise PermanentDeliveryError(
            f"slack: malformed message ref {excerpt(ref, 60)!r} (want CHANNEL:TS)", surface=SURFACE
        )
    return channel, ts


def retry_after_seconds(headers: Mapping[str, Any]) -> float | None:
    """The Retry-After header in seconds (slack_sdk may hold header values in lists), or None."""
    for name, value in headers.items():
        if str(name).lower() != "retry-after":
            continue
        if isinstance(value, list | tuple):
            value = value[0] if value else ""
        try:
            seconds = float(str(value).strip())
        except ValueError:
            return None
        return max(seconds, 0.0)
    return None


class SlackChat:
    """The card in one Slack channel, through `chat.postMessage` / `chat.update` / `conversations.history`."""

    def __init__(
        self,
        token: Secret,
        channel: str,
        base_url: str,
        timeout_s: float,
        *,
        max_wait_s: float = 20.0,
        backoff_s: float = BACKOFF_FACTOR_S,
    ) -> None:
        """`max_wait_s` bounds the Retry-After sleeps of one call; `backoff_s` is the first 5xx/connection backoff."""
        self._token = token
        self.channel = channel
        self.base_url = base_url
        self.timeout_s = timeout_s
        self.max_wait_s = max_wait_s
        self.backoff_s = backoff_s
        self._client: WebClient | None = None
        self._client_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"SlackChat(channel={self.channel!r}, base_url={self.base_url!r}, token=<secret>)"

    # --- ChatSurface -------------------------------------------------------------------

    def post(self, message: SlackMessage, metadata: Mapping[str, Any]) -> str:
        """Post the card to the channel; returns "CHANNEL:TS"."""
        response = self._call(
            "chat.postMessage",
            lambda c: c.chat_postMessage(
                channel=self.channel,
                text=str(message.get("text", "")),
                blocks=message.get("blocks"),
                metadata=_metadata(metadata),
                unfurl_links=False,
                parse="none",
                link_names=False,
            ),
        )
        return f"{response.get('channel') or self.channel}:{response['ts']}"

    def update(self, ref: str, message: SlackMessage, metadata: Mapping[str, Any]) -> None:
        """Replace the card in place: text, blocks (none in `message` removes the old ones) and metadata."""
        channel, ts = parse_ref(ref)
        self._call(
            "chat.update",
            lambda c: c.chat_update(
                channel=channel,
                ts=ts,
                text=str(message.get("text", "")),
                blocks=message.get("blocks") or [],  # omitted would keep the old blocks
                metadata=_metadata(metadata),
                parse="none",
                link_names=False,
            ),
        )

    def reply(self, ref: str, message: SlackMessage) -> None:
        """Add a thread reply under the card (not broadcast to the channel)."""
        channel, ts = parse_ref(ref)
        self._call(
            "chat.postMessage",
            lambda c: c.chat_postMessage(
                channel=channel,
                thread_ts=ts,
                text=str(message.get("text", "")),
                blocks=message.get("blocks"),
                unfurl_links=False,
                parse="none",
                link_names=False,
            ),
        )

    def find(self, key: str, generation: int, oldest: datetime) -> tuple[str, dict[str, Any]] | None:
        """The newest card since `oldest` whose metadata names (key, generation), reading at most 3 pages."""
        cursor: str | None = None
        for _ in range(HISTORY_MAX_PAGES):
            page = self._history_page(oldest, cursor)
            for item in page.get("messages") or []:  # newest first
                payload = _matching_payload(item, key, generation)
                if payload is not None:
                    return f"{self.channel}:{item['ts']}", payload
            cursor = ((page.get("response_metadata") or {}).get("next_cursor")) or None
            if not page.get("has_more") or not cursor:
                return None
        return None

    # --- plumbing ----------------------------------------------------------------------

    def _history_page(self, oldest: datetime, cursor: str | None) -> Any:
        return self._call(
            "conversations.history",
            lambda c: c.conversations_history(
                channel=self.channel,
                oldest=f"{oldest.timestamp():.6f}",
                include_all_metadata=True,
                limit=HISTORY_PAGE_SIZE,
                cursor=cursor,
            ),
        )

    def _web(self) -> WebClient:
        with self._client_lock:
            if self._client is None:
                self._client = _build_client(
                    self._token, self.base_url, self.timeout_s, self.max_wait_s, self.backoff_s
                )
            return self._client

    def _call(self, method: str, call: Callable[[WebClient], Any]) -> Any:
        """Run one Web API call; translate every failure into a DeliveryError without secrets."""
        from slack_sdk.errors import SlackApiError, SlackClientError

        client = self._web()
        try:
            return call(client)
        except SlackApiError as exc:
            raise _api_error(method, exc) from exc
        except (OSError, HTTPException) as exc:  # URLError, refused, reset, RemoteDisconnected, timeouts
            raise TransientDeliveryError(
                f"slack {method}: connection failed ({type(exc).__name__}: {excerpt(exc)})", surface=SURFACE
            ) from exc
        except SlackClientError as exc:  # a request slack_sdk refused to send
            raise PermanentDeliveryError(
                f"slack {method}: {type(exc).__name__}: {excerpt(exc)}", surface=SURFACE
            ) from exc


def _metadata(payload: Mapping[str, Any]) -> dict[str, Any]:
    return {"event_type": EVENT_TYPE, "event_payload": dict(payload)}


def _matching_payload(item: Mapping[str, Any], key: str, generation: int) -> dict[str, Any] | None:
    metadata = item.get("metadata")
    if not isinstance(metadata, Mapping) or metadata.get("event_type") != EVENT_TYPE:
        return None
    payload = metadata.get("event_payload")
    if not isinstance(payload, Mapping) or payload.get("key") != key:
        return None
    if str(payload.get("generation")) != str(generation):  # Slack may hand numbers back as strings
        return None
    if item.get("thread_ts", item.get("ts")) != item.get("ts"):  # a broadcast reply, not a card
        return None
    return dict(payload)


def _api_error(method: str, exc: Any) -> TransientDeliveryError | PermanentDeliveryError:
    """Classify a SlackApiError by HTTP status and Slack's error code (see the module table)."""
    response = exc.response
    status = int(getattr(response, "status_code", 0) or 0)
    data = getattr(response, "data", None)
    code = str(data.get("error") or "unknown_error") if isinstance(data, Mapping) else f"http_{status}"
    if status == 429 or code == "ratelimited":
        wait = retry_after_seconds(getattr(response, "headers", None) or {})
        return TransientDeliveryError(
            f"slack {method}: rate limited (HTTP {status}, retry after {wait if wait is not None else '?'} s)",
            surface=SURFACE,
            retry_after=wait,
        )
    if status >= 500 or code in TRANSIENT_ERRORS:
        return TransientDeliveryError(f"slack {method}: {code} (HTTP {status})", surface=SURFACE)
    detail = ""
    if isinstance(data, Mapping):
        messages = (data.get("response_metadata") or {}).get("messages") or data.get("errors") or []
        if messages:
            detail = ": " + excerpt("; ".join(str(m) for m in messages), 300)
    return PermanentDeliveryError(f"slack {method}: {code} (HTTP {status}){detail}", surface=SURFACE)


def _build_client(token: Secret, base_url: str, timeout_s: float, max_wait_s: float, backoff_s: float) -> WebClient:
    """The WebClient with bounded retries; slack_sdk is imported here so import time stays low."""
    from slack_sdk import WebClient
    from slack_sdk.http_retry.builtin_handlers import (
        ConnectionErrorRetryHandler,
        RateLimitErrorRetryHandler,
        ServerErrorRetryHandler,
    )
    from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
    from slack_sdk.http_retry.jitter import Jitter
    from slack_sdk.http_retry.request import HttpRequest
    from slack_sdk.http_retry.response import HttpResponse
    from slack_sdk.http_retry.state import RetryState

    class ProportionalJitter(Jitter):
        """Up to 25 % on top of the backoff (slack_sdk's default adds up to a whole second)."""

        def recalculate(self, duration: float) -> float:
            return duration * (1 + random.random() / 4)

    class BoundedRateLimitRetryHandler(RateLimitErrorRetryHandler):
        """Sleeps through a 429's Retry-After only while the waits of this call total <= max_wait_s.

        Declining leaves the 429 to surface as SlackApiError, which becomes TransientDeliveryError
        with retry_after, so Pub/Sub redelivers instead of the function sleeping past its timeout.
        """

        def _can_retry(
            self,
            *,
            state: RetryState,
            request: HttpRequest,
            response: HttpResponse | None = None,
            error: Exception | None = None,
        ) -> bool:
            if response is None or response.status_code != 429:
                return False
            return _waited(state) + _wait_for(response) <= max_wait_s

        def prepare_for_next_attempt(
            self,
            *,
            state: RetryState,
            request: HttpRequest,
            response: HttpResponse | None = None,
            error: Exception | None = None,
        ) -> None:
            wait = _wait_for(response) if response is not None else DEFAULT_RETRY_AFTER_S
            duration = wait + random.uniform(0, RATE_LIMIT_JITTER_S)
            log.warning("slack rate limited; retrying in %.2f s", duration)
            state.custom_values = {**(state.custom_values or {}), "waited_s": _waited(state) + duration}
            state.next_attempt_requested = True
            time.sleep(duration)
            state.increment_current_attempt()

    class NotForPosts:
        """A connection error or 5xx on chat.postMessage may hide a message that did land: no blind
        retry; the redelivery first looks the card up by its metadata, so nothing is posted twice."""

        def _can_retry(
            self,
            *,
            state: RetryState,
            request: HttpRequest,
            response: HttpResponse | None = None,
            error: Exception | None = None,
        ) -> bool:
            if request.url.rstrip("/").endswith("/chat.postMessage"):
                return False
            return bool(super()._can_retry(state=state, request=request, response=response, error=error))  # type: ignore[misc]

    class SafeConnectionRetry(NotForPosts, ConnectionErrorRetryHandler):
        pass

    class SafeServerErrorRetry(NotForPosts, ServerErrorRetryHandler):
        pass

    backoff = BackoffRetryIntervalCalculator(backoff_factor=backoff_s, jitter=ProportionalJitter())
    return WebClient(
        token=token.reveal(),
        base_url=base_url,
        timeout=timeout_s,  # type: ignore[arg-type]  # typed int, passed to urlopen which takes float
        retry_handlers=[
            SafeConnectionRetry(max_retry_count=MAX_RETRIES, interval_calculator=backoff),
            BoundedRateLimitRetryHandler(max_retry_count=MAX_RETRIES),
            SafeServerErrorRetry(max_retry_count=MAX_RETRIES, interval_calculator=backoff),
        ],
    )


def _waited(state: Any) -> float:
    return float((state.custom_values or {}).get("waited_s", 0.0))


def _wait_for(response: Any) -> float:
    wait = retry_after_seconds(response.headers)
    return DEFAULT_RETRY_AFTER_S if wait is None else wait
