"""Slack actions on an incident, decided without I/O: what a click or `/sitrep status` asks for, whether it
can apply to the incident's ledger entry, how the entry changes, and what the person is told.

Two inputs arrive from Slack (slack_http.py verifies and decodes them):

    block_actions payload (a card button)   -> ActionRequest(ACK | SILENCE | RESOLVE | REFRESH, key=card key)
    slash command `/sitrep status [svc]`    -> ActionRequest(STATUS, service=svc)
    anything else (unknown button, help)    -> Reply (ephemeral, nothing changes)

Every text a person is shown is `Mrkdwn` (functions.render.inert): our own sentences are templates filled
with `Mrkdwn(...).format(...)`, which escapes each value (keys, service names, user names, error messages).

Slow work is handed to the alert topic as `{"sitrep_action": {...}}` (`action_message`), which the alert
function recognises (`action_from_message`) before trying to parse a Monitoring notification.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Final

from functions.card.changes import Change
from functions.core.errors import InputError, excerpt
from functions.core.model import IncidentStatus, ServiceHealth
from functions.incidents.lifecycle import LedgerEntry, resolve_manually
from functions.render.inert import Mrkdwn
from functions.render.slack import (
    ACTION_ACK,
    ACTION_REFRESH,
    ACTION_RESOLVE,
    ACTION_SILENCE_1H,
    SLACK_MAX_KEY_VALUE,
    SLACK_MAX_LINE,
    SLACK_MAX_NAME,
    fit,
    message_of,
)
from functions.render.text import HEALTH_EMOJI, health_numbers


class ActionKind(StrEnum):
    ACK = "ack"
    SILENCE = "silence"
    RESOLVE = "resolve"
    REFRESH = "refresh"
    STATUS = "status"


CARD_ACTIONS: Final[Mapping[str, ActionKind]] = {
    ACTION_ACK: ActionKind.ACK,
    ACTION_SILENCE_1H: ActionKind.SILENCE,
    ACTION_RESOLVE: ActionKind.RESOLVE,
    ACTION_REFRESH: ActionKind.REFRESH,
}
SILENCE_DURATION: Final = timedelta(hours=1)
# A second Silence click within this much of the running silence's full hour changes nothing
# (a double click, or Pub/Sub redelivering the action).
SILENCE_RENEW_AFTER: Final = timedelta(minutes=5)
MESSAGE_KEY: Final = "sitrep_action"
MESSAGE_VERSION: Final = 1
MAX_MESSAGE_BYTES: Final = 16_384  # an action message is a few hundred bytes; anything larger is not ours
MAX_NAME_CHARS: Final = 80
SLACK_MAX_EPHEMERAL_TEXT: Final = 3_000  # a section block's text limit (Slack's Block Kit and Web API reference)
USAGE: Final = Mrkdwn(
    "Usage: `/sitrep status [service]` shows the current health of every watched service, or of one "
    "(from Cloud Run request counts)."
)
# Cloud Run service names: lowercase letters, digits and hyphens, starting with a letter, at most 63.
_SERVICE_NAME = re.compile(r"^[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?$")
_POLICY_ID = re.compile(r"^projects/[^/]+/alertPolicies/[^/]+$")
_UNSAFE_NAME = re.compile(r"[^\w.\- ]")


class ActionError(InputError):
    """A `sitrep_action` message that cannot be read: logged and acknowledged, never retried."""


@dataclass(frozen=True)
class ActionRequest:
    """What a person asked from Slack, and who asked when; `key` names the incident card (card actions)."""

    kind: ActionKind
    user_id: str
    user_name: str
    requested_at: datetime
    key: str = ""
    service: str = ""
    response_url: str = ""
    message_ref: str = ""  # "CHANNEL:TS" of the card that was clicked

    @property
    def who(self) -> str:
        """The name the card, the thread and the issue show: word characters, dots, hyphens and spaces only,
        so a name can neither mention, link nor format anything on either surface."""
        return _UNSAFE_NAME.sub("", self.user_name or self.user_id).strip() or "someone"


@dataclass(frozen=True)
class Reply:
    """An ephemeral message only the person who clicked or typed sees: mrkdwn text, blocks if more than text."""

    text: Mrkdwn
    blocks: tuple[Mapping[str, Any], ...] = ()

    def to_slack(self) -> dict[str, Any]:
        """The body for a slash command's HTTP answer or a `response_url` POST (text alone goes as a verbatim
        section, so Slack links nothing in it)."""
        blocks = [dict(b) for b in self.blocks] or message_of(self.text)["blocks"]
        return {"response_type": "ephemeral", "replace_original": False, "text": self.text, "blocks": blocks}


# --- Slack's two inputs ---------------------------------------------------------------------------


def _text(value: object, limit: int = MAX_NAME_CHARS) -> str:
    return " ".join(str(value).split())[:limit] if isinstance(value, str | int) else ""


def _object(payload: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = payload.get(name)
    return value if isinstance(value, Mapping) else {}


def action_from_interaction(payload: Mapping[str, Any], now: datetime) -> ActionRequest | Reply:
    """A card button click (`block_actions`) as an ActionRequest, or the Reply saying why it is not one."""
    if payload.get("type") != "block_actions":
        kind_text = _text(payload.get("type")) or "?"
        return Reply(Mrkdwn("sitrep only handles its card buttons (got a `{}` request).").format(kind_text))
    actions = payload.get("actions")
    first = actions[0] if isinstance(actions, list) and actions and isinstance(actions[0], Mapping) else {}
    action_id = _text(first.get("action_id"), 255)
    kind = CARD_ACTIONS.get(action_id)
    if kind is None:
        return Reply(
            Mrkdwn(
                "Unknown action `{}`: this sitrep does not know that button. "
                "Nothing was changed; press *Refresh* to redraw the card."
            ).format(action_id or "?")
        )
    key = _text(first.get("value"), SLACK_MAX_KEY_VALUE)
    if not key:
        return Reply(Mrkdwn("This button carries no incident key; nothing was changed."))
    user, container = _object(payload, "user"), _object(payload, "container")
    channel, message = _object(payload, "channel"), _object(payload, "message")
    channel_id = _text(container.get("channel_id") or channel.get("id"))
    message_ts = _text(container.get("message_ts") or message.get("ts"))
    return ActionRequest(
        kind=kind,
        user_id=_text(user.get("id")),
        user_name=_text(user.get("name") or user.get("username")),
        requested_at=now,
        key=key,
        response_url=_text(payload.get("response_url"), 2_000),
        message_ref=f"{channel_id}:{message_ts}" if channel_id and message_ts else "",
    )


def action_from_command(form: Mapping[str, str], now: datetime) -> ActionRequest | Reply:
    """`/sitrep status [service]` as an ActionRequest; help, mistakes and other words get the usage Reply."""
    words = form.get("text", "").split()
    if not words or words[0].lower() in ("help", "-h", "--help"):
        return Reply(USAGE)
    if words[0].lower() != "status":
        return Reply(Mrkdwn("Unknown subcommand `{}`. {}").format(words[0][:40], USAGE))
    if len(words) > 2:
        return Reply(Mrkdwn("`/sitrep status` takes at most one service name. {}").format(USAGE))
    service = words[1].lower() if len(words) == 2 else ""
    if service and not _SERVICE_NAME.match(service):
        return Reply(Mrkdwn("`{}` is not a Cloud Run service name. {}").format(service[:70], USAGE))
    return ActionRequest(
        kind=ActionKind.STATUS,
        user_id=_text(form.get("user_id", "")),
        user_name=_text(form.get("user_name", "")),
        requested_at=now,
        service=service,
        response_url=_text(form.get("response_url", ""), 2_000),
    )


# --- the hand-off message on the alert topic ------------------------------------------------------


def action_message(action: ActionRequest) -> bytes:
    """The Pub/Sub message that hands `action` to the alert function."""
    body = {
        MESSAGE_KEY: {
            "v": MESSAGE_VERSION,
            "kind": action.kind.value,
            "key": action.key,
            "service": action.service,
            "user_id": action.user_id,
            "user_name": action.user_name,
            "requested_at": action.requested_at.astimezone(UTC).isoformat(),
            "response_url": action.response_url,
            "message_ref": action.message_ref,
        }
    }
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def action_from_message(raw: bytes) -> ActionRequest | None:
    """The action a Pub/Sub message carries; None when it is not an action message (a Monitoring alert).

    Raises ActionError when the message claims to be an action but cannot be read.
    """
    if MESSAGE_KEY.encode() not in raw[:256]:  # cheap: alerts never begin with it; ours always do
        return None
    if len(raw) > MAX_MESSAGE_BYTES:
        raise ActionError(f"action message is {len(raw)} bytes, over {MAX_MESSAGE_BYTES}")
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ActionError(f"action message is not JSON: {excerpt(exc, 80)}") from None
    if not isinstance(document, dict) or MESSAGE_KEY not in document:
        return None
    body = document[MESSAGE_KEY]
    if not isinstance(body, dict):
        raise ActionError(f"`{MESSAGE_KEY}` is {type(body).__name__}, expected an object")
    if body.get("v") != MESSAGE_VERSION:
        raise ActionError(f"unsupported action message version {excerpt(body.get('v'), 20)!r}")
    try:
        kind = ActionKind(str(body.get("kind")))
    except ValueError:
        raise ActionError(f"unknown action kind {excerpt(body.get('kind'), 40)!r}") from None
    requested = body.get("requested_at")
    try:
        requested_at = datetime.fromisoformat(str(requested))
    except ValueError:
        raise ActionError(f"requested_at {excerpt(requested, 40)!r} is not an ISO time") from None
    if requested_at.tzinfo is None:
        raise ActionError("requested_at has no time zone")
    fields = {name: body.get(name, "") for name in ("key", "service", "user_id", "user_name", "response_url",
                                                    "message_ref")}
    if not all(isinstance(v, str) for v in fields.values()):
        raise ActionError("action message fields must be strings")
    if kind is not ActionKind.STATUS and not fields["key"]:
        raise ActionError(f"a {kind.value} action names no incident key")
    return ActionRequest(kind=kind, requested_at=requested_at, **fields)


# --- card actions on the ledger entry (pure) ------------------------------------------------------


def _hhmm(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%H:%M UTC")


def snooze_policies(entry: LedgerEntry) -> tuple[str, ...]:
    """The alert policies a Silence snoozes: every member's policy of the first policy's project (the snoozer
    splits them into snoozes of at most 16 policies each, the API's limit)."""
    policies = [m.policy_id for m in entry.members if _POLICY_ID.match(m.policy_id)]
    if not policies:
        return ()
    project = policies[0].split("/")[1]
    return tuple(p for p in dict.fromkeys(policies) if p.split("/")[1] == project)


def refusal(action: ActionRequest, entry: LedgerEntry | None, now: datetime) -> Reply | None:
    """Why this click cannot apply to the incident (the Reply), or None when it can; nothing changes on a Reply."""
    key = Mrkdwn("`{}`").format(action.key[:SLACK_MAX_NAME])
    if entry is None:
        return Reply(
            Mrkdwn(
                "The incident {} no longer exists: sitrep has no record of it (its tracking issue was closed "
                "long ago or deleted). Nothing was changed."
            ).format(key)
        )
    if action.message_ref and entry.slack.ref and action.message_ref != entry.slack.ref:
        return Reply(
            Mrkdwn(
                "This card belongs to an earlier occurrence of {}; use the newest card for it. Nothing was changed."
            ).format(key)
        )
    if action.kind is ActionKind.REFRESH:
        return None
    if entry.status is IncidentStatus.RESOLVED:
        by = Mrkdwn(" by {}").format(entry.resolved_by) if entry.resolved_by else Mrkdwn("")
        return Reply(Mrkdwn("The incident {} is already resolved{}; nothing to {}.").format(key, by, action.kind.value))
    if action.kind is ActionKind.ACK and entry.acknowledged_by and entry.acknowledged_by != action.who:
        return Reply(Mrkdwn("Already acknowledged by {}. Nothing was changed.").format(entry.acknowledged_by))
    if action.kind is ActionKind.SILENCE:
        if entry.silenced_until and entry.silenced_until >= now + SILENCE_DURATION - SILENCE_RENEW_AFTER:
            return Reply(
                Mrkdwn("Already silenced until {}. Nothing was changed.").format(_hhmm(entry.silenced_until))
            )
        if not snooze_policies(entry):
            return Reply(
                Mrkdwn(
                    "Cannot silence {}: its alert notifications do not name their alert policies, so there is "
                    "nothing to snooze. Snooze the policy in Cloud Monitoring instead."
                ).format(key)
            )
    return None


def acknowledged(entry: LedgerEntry, action: ActionRequest) -> LedgerEntry | None:
    """The entry acknowledged by the person; None when they already had (a double click or a redelivery)."""
    if entry.acknowledged_by == action.who:
        return None
    return replace(entry, acknowledged_by=action.who, acknowledged_at=action.requested_at)


def silenced(entry: LedgerEntry, until: datetime, who: str = "") -> LedgerEntry:
    return replace(entry, silenced_until=until, silenced_by=who)


def resolved(entry: LedgerEntry, action: ActionRequest) -> LedgerEntry:
    """Resolved by the person: every member counts as closed, so a later CLOSED notification is a no-op."""
    return resolve_manually(entry, action.who, action.requested_at)


def refreshed(entry: LedgerEntry) -> LedgerEntry:
    """The entry with the card marked stale, so that delivery redraws it even when nothing material changed."""
    return replace(entry, slack=replace(entry.slack, digest=""))


def change_note(action: ActionRequest, *, until: datetime | None = None, snooze: str = "") -> Change:
    """The line the thread reply and the tracking issue's comment lead with (each surface escapes the name)."""
    who = action.who
    if action.kind is ActionKind.ACK:
        return Change("Acknowledged", f"by {who} in Slack at {_hhmm(action.requested_at)}")
    if action.kind is ActionKind.SILENCE and until is not None:
        ref = f"; snooze {snooze}" if snooze else ""
        return Change("Silenced", f"for {_duration(SILENCE_DURATION)} by {who} (until {_hhmm(until)}{ref})")
    if action.kind is ActionKind.RESOLVE:
        return Change("Resolved", f"by {who} in Slack at {_hhmm(action.requested_at)}")
    return Change("Refreshed", f"by {who}")


def snooze_display_name(entry: LedgerEntry, action: ActionRequest) -> str:
    return f"sitrep: {entry.key} silenced from Slack by {action.who}"[:512]


def _duration(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes // 60} h" if minutes % 60 == 0 else f"{minutes} min"


# --- /sitrep status (pure) --------------------------------------------------------------------------


def status_services(
    requested: str, watched: Sequence[str], seen: Iterable[str]
) -> tuple[str, ...] | Reply:
    """Which services the status covers: the one asked for, or every watched one and every one with traffic."""
    known = tuple(dict.fromkeys([*watched, *sorted(seen)]))
    if not requested:
        return known
    if requested in known:
        return (requested,)
    listed = Mrkdwn(", ").join(Mrkdwn("`{}`").format(s) for s in known[:20]) or Mrkdwn("none")
    return Reply(
        Mrkdwn("No service named `{}` is watched or served requests recently. Known services: {}.").format(
            requested, listed
        )
    )


def status_reply(
    health: Sequence[ServiceHealth], *, project: str, window: timedelta, service: str = "", note: str = ""
) -> Reply:
    """The ephemeral answer to `/sitrep status`: one line per service, worst first, with its deciding numbers."""
    minutes = int(window.total_seconds() // 60)
    if service:
        scope = Mrkdwn("`{}`").format(service)
    else:
        scope = Mrkdwn("{} service{}").format(len(health), "s" if len(health) != 1 else "")
    head = Mrkdwn("*Service health* · {} · `{}` · last {} min").format(scope, project, minutes)
    lines = [
        fit(Mrkdwn("{} *{}* {} — {}").format(HEALTH_EMOJI[h.status], h.service, h.status.value, health_numbers(h)),
            SLACK_MAX_LINE)
        for h in health
    ] or [Mrkdwn("No Cloud Run service served requests in that window, and none is configured as watched.")]
    if note:
        lines.append(Mrkdwn("_{}_").format(fit(Mrkdwn.escape(note), SLACK_MAX_LINE)))
    shown = [head]
    for i, line in enumerate(lines):
        if sum(len(s) + 1 for s in shown) + len(line) + 60 > SLACK_MAX_EPHEMERAL_TEXT:
            shown.append(Mrkdwn("_… and {} more_").format(len(lines) - i))
            break
        shown.append(line)
    text = Mrkdwn("\n").join(shown)
    fallback = Mrkdwn("Service health: {}").format(", ".join(f"{h.service} {h.status.value}" for h in health))
    return Reply(fit(fallback, SLACK_MAX_EPHEMERAL_TEXT) if health else text, tuple(message_of(text)["blocks"]))


__all__ = [
    "CARD_ACTIONS",
    "SILENCE_DURATION",
    "USAGE",
    "ActionError",
    "ActionKind",
    "ActionRequest",
    "Reply",
    "acknowledged",
    "action_from_command",
    "action_from_interaction",
    "action_from_message",
    "action_message",
    "change_note",
    "refreshed",
    "refusal",
    "resolved",
    "silenced",
    "snooze_display_name",
    "snooze_policies",
    "status_reply",
    "status_services",
]
