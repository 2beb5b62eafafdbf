"""The Slack HTTP edge: card button clicks and `/sitrep status`, verified, decoded and answered within 3 s.

Order of business for every request:

    1. Verify Slack's signature (HMAC-SHA256 of "v0:{timestamp}:{raw body}" with SLACK_SIGNING_SECRET,
       timestamp within 5 minutes) before reading anything else: failing that -> 401, nothing changes.
       A signature already accepted within its window is a replay -> 401, nothing changes
       (functions.slack_app.replay_guard says why an in-process memory suffices, and where it does not).
    2. Decode: form field `payload` (JSON, type block_actions) or a slash command's form fields.
    3. Answer:
         card button   SITREP_TOPIC set: publish {"sitrep_action": ...} to it, answer 200 at once; the alert
                       function does the work and replies on the response_url.
                       Not set (local use): do the work, then answer 200.
         /sitrep status   computed inline when it takes under INLINE_BUDGET_S (the answer is the HTTP body);
                       otherwise a "checking" answer now and the result on the response_url (handed to
                       Pub/Sub, or finished in this process when no topic is set).
         anything else an ephemeral explanation; nothing changes.

Cloud Run may throttle CPU after the response (docs/ARCHITECTURE.md §7): nothing that must happen is left running
after answering when a topic is configured.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final
from urllib.parse import parse_qs

from functions.core.contracts import failure_fields
from functions.core.errors import ConfigError, DeliveryError, SitrepError, excerpt
from functions.render.inert import Mrkdwn
from functions.slack_app.actions import (
    ActionKind,
    ActionRequest,
    Reply,
    action_from_command,
    action_from_interaction,
    action_message,
)
from functions.slack_app.replay_guard import ReplayGuard, Verdict

if TYPE_CHECKING:
    from functions.entry.runtime import Runtime

log = logging.getLogger("sitrep")

# Slack waits 3 seconds for an answer to an interaction or a slash command (Slack interactivity docs).
SLACK_ANSWER_DEADLINE_S: Final = 3.0
# What inline work may take, leaving room for the network and a cold instance.
INLINE_BUDGET_S: Final = 2.0
MAX_BODY_BYTES: Final = 1_048_576  # a block_actions payload carries the whole card: tens of KB at most
SIGNATURE_MAX_AGE_S: Final = 300  # slack_sdk's SignatureVerifier window (Slack: verifying requests)
JSON: Final = {"Content-Type": "application/json; charset=utf-8"}
TEXT: Final = {"Content-Type": "text/plain; charset=utf-8"}

Answer = tuple[str, int, dict[str, str]]
Clock = Callable[[], float]

_pool: ThreadPoolExecutor | None = None
# Every signature this process accepted, until Slack's window closes on it: one per process, like the
# signing secret it complements.
_accepted = ReplayGuard(SIGNATURE_MAX_AGE_S)
_pool_lock = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="sitrep-slack")
        return _pool


def signature_ok(secret: str, body: bytes, headers: Mapping[str, str], clock: Clock = time.time) -> bool:
    """Slack's v0 signature of `body`, checked with slack_sdk; any malformed header is simply invalid.

    slack_sdk raises on a missing or non-numeric timestamp header and on a body that is not UTF-8
    (docs/ARCHITECTURE.md §7): those requests are unsigned, so they get False (401), never a 500.
    """
    from slack_sdk.signature import Clock as SlackClock
    from slack_sdk.signature import SignatureVerifier

    lowered = {k.lower(): v for k, v in headers.items()}
    timestamp = lowered.get("x-slack-request-timestamp", "")
    if not timestamp.strip().isdigit() or not lowered.get("x-slack-signature"):
        return False

    class _Clock(SlackClock):
        def now(self) -> float:
            return clock()

    try:
        verifier = SignatureVerifier(secret, clock=_Clock())
        return bool(verifier.is_valid_request(body, lowered))
    except (ValueError, TypeError, UnicodeDecodeError):
        return False


def _admit(replays: ReplayGuard, headers: Mapping[str, str], now: float) -> Verdict:
    """Remember a verified request's signature; its timestamp header is known to be digits by now."""
    lowered = {k.lower(): v for k, v in headers.items()}
    timestamp = float(lowered.get("x-slack-request-timestamp", "").strip() or now)
    return replays.admit(lowered.get("x-slack-signature", ""), timestamp, now)


def _form(body: bytes) -> dict[str, str]:
    pairs = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=64)
    return {k: v[0] for k, v in pairs.items() if v}


def _json(reply: Reply, status: int = 200) -> Answer:
    return json.dumps(reply.to_slack(), ensure_ascii=False), status, dict(JSON)


def handle_slack_request(
    body: bytes,
    headers: Mapping[str, str],
    *,
    clock: Clock = time.time,
    runtime: Runtime | None = None,
    replays: ReplayGuard | None = None,
) -> Answer:
    """Answer one Slack request: (body, HTTP status, headers). Never raises.

    `replays` is the memory of accepted signatures (the process-wide one by default).
    """
    from functions.entry.runtime import runtime as default_runtime
    from functions.entry.runtime import setup_logging

    setup_logging()
    started = time.perf_counter()
    rt = runtime or default_runtime()
    try:
        settings = rt.settings()
    except ConfigError as exc:
        log.error("configuration error: Slack request refused", extra=failure_fields(error=str(exc)))
        return "sitrep is misconfigured", 500, dict(TEXT)
    secret = settings.slack_signing_secret.reveal()
    if not secret:
        log.error("SLACK_SIGNING_SECRET is not set: Slack request refused", extra=failure_fields())
        return "signing secret not configured", 500, dict(TEXT)
    if len(body) > MAX_BODY_BYTES:
        return "request too large", 413, dict(TEXT)
    if not signature_ok(secret, body, headers, clock):
        log.warning("Slack request with a bad or missing signature refused", extra={"bytes": len(body)})
        return "invalid signature", 401, dict(TEXT)
    verdict = _admit(_accepted if replays is None else replays, headers, clock())
    if verdict is Verdict.REPLAY:
        log.warning("replayed Slack request refused", extra={"bytes": len(body)})
        return "request already handled", 401, dict(TEXT)
    if verdict is Verdict.FULL:
        log.error("too many Slack requests within the signing window", extra=failure_fields())
        return "too many requests", 503, dict(TEXT)
    now = datetime.fromtimestamp(clock(), tz=UTC)
    try:
        form = _form(body)
    except (UnicodeDecodeError, ValueError):
        return "not a form", 400, dict(TEXT)
    try:
        if "payload" in form:
            answer = _interaction(form["payload"], now, rt)
        elif "command" in form:
            answer = _command(form, now, rt)
        else:
            answer = "neither an interaction payload nor a slash command", 400, dict(TEXT)
    except Exception:  # an answer Slack can show beats a 500 it shows as "failed with operation_timeout"
        log.exception("unexpected error answering Slack", extra=failure_fields())
        answer = _json(Reply(Mrkdwn("sitrep hit an unexpected error; nothing was changed. Try again in a minute.")))
    log.info("Slack request answered", extra={"status": answer[1],
                                              "elapsed_ms": round((time.perf_counter() - started) * 1000, 1)})
    return answer


# --- card buttons -----------------------------------------------------------------------------------


def _interaction(raw: str, now: datetime, rt: Runtime) -> Answer:
    try:
        payload = json.loads(raw)
    except ValueError:
        return "payload is not JSON", 400, dict(TEXT)
    if not isinstance(payload, dict):
        return "payload is not an object", 400, dict(TEXT)
    decoded = action_from_interaction(payload, now)
    if isinstance(decoded, Reply):
        _reply_later(rt, str(payload.get("response_url") or ""), decoded)
        return "", 200, dict(TEXT)
    action = decoded
    fields = {"action": action.kind.value, "incident_key": action.key, "user": action.who}
    publisher = rt.publisher()
    if publisher is not None:
        try:
            message_id = publisher.publish(action_message(action), sitrep="action", kind=action.kind.value)
        except DeliveryError as exc:
            log.error("could not hand the action to Pub/Sub", extra=failure_fields(**fields, error=str(exc)))
            _reply_later(rt, action.response_url,
                         Reply(Mrkdwn("sitrep could not take that action right now (Pub/Sub unavailable); try again.")))
            return "", 200, dict(TEXT)
        log.info("action handed to the alert topic", extra={**fields, "message_id": message_id})
        return "", 200, dict(TEXT)
    from functions.entry.runtime import run_action, send_reply

    try:
        reply = run_action(action, now)
    except DeliveryError as exc:
        log.warning("action failed", extra={**fields, "surface": exc.surface, "error": str(exc)})
        reply = Reply(Mrkdwn("sitrep could not complete that ({}); try again.").format(excerpt(exc, 200)))
    except SitrepError as exc:
        log.error("action failed", extra=failure_fields(**fields, error=str(exc)))
        reply = Reply(Mrkdwn("sitrep could not complete that: {}").format(excerpt(exc, 200)))
    send_reply(action, reply)
    log.info("action done inline", extra=fields)
    return "", 200, dict(TEXT)


def _reply_later(rt: Runtime, response_url: str, reply: Reply) -> None:
    """A block_actions answer body is ignored by Slack: the person only sees what goes to the response_url."""
    if not response_url:
        return
    try:
        rt.responder().respond(response_url, reply.to_slack())
    except DeliveryError as exc:
        log.warning("could not answer on the response_url", extra={"error": str(exc)})


# --- /sitrep ------------------------------------------------------------------------------------------


def _command(form: Mapping[str, str], now: datetime, rt: Runtime) -> Answer:
    decoded = action_from_command(form, now)
    if isinstance(decoded, Reply):
        return _json(decoded)
    action = decoded
    assert action.kind is ActionKind.STATUS
    reporter = rt.status_reporter()
    future: Future[Reply] = _executor().submit(reporter.report, action, now)
    try:
        return _json(future.result(timeout=INLINE_BUDGET_S))
    except FutureTimeout:
        pass
    except SitrepError as exc:
        return _json(Reply(Mrkdwn("sitrep could not read service health: {}").format(excerpt(exc, 200))))
    publisher = rt.publisher()
    if publisher is not None:
        try:
            publisher.publish(action_message(action), sitrep="action", kind=action.kind.value)
        except DeliveryError as exc:
            log.error("could not hand /sitrep status to Pub/Sub", extra=failure_fields(error=str(exc)))
            return _json(Reply(Mrkdwn("Reading service health is taking long and sitrep could not hand it over; "
                                      "try again in a minute.")))
        log.info("/sitrep status handed to the alert topic", extra={"service": action.service})
    else:
        # Local use: nothing throttles this process, so the running computation answers when it is done.
        future.add_done_callback(lambda done: _finish_later(rt, action, done))
    return _json(Reply(Mrkdwn("⏳ Reading service health from Cloud Monitoring; the answer follows here shortly.")))


def _finish_later(rt: Runtime, action: ActionRequest, done: Future[Reply]) -> None:
    try:
        reply = done.result()
    except Exception as exc:
        reply = Reply(Mrkdwn("sitrep could not read service health: {}").format(excerpt(exc, 200)))
    _reply_later(rt, action.response_url, reply)


__all__ = ["INLINE_BUDGET_S", "SLACK_ANSWER_DEADLINE_S", "handle_slack_request", "signature_ok"]
