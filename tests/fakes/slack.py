"""A Slack Web API that rejects what Slack rejects, for ``slack_sdk.WebClient`` tests.

Point the client at it with ``WebClient(token=BOT_TOKEN, base_url=fake.base_url)``.
Errors come back as Slack sends them: HTTP 200 with ``{"ok": false, "error": ...}``
(plus ``response_metadata.messages`` for invalid blocks); rate limits as HTTP 429
with ``Retry-After``.
"""

from __future__ import annotations

import base64
import copy
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from tests.fakes import FakeHTTPServer, RecordedRequest, Response

BOT_TOKEN = "xoxb-fake-bot-token"
CHANNEL = "C0FAKE0001"
TEAM_ID = "T0FAKE0001"
BOT_USER_ID = "U0FAKEBOT1"
BOT_ID = "B0FAKEBOT1"
APP_ID = "A0FAKEAPP1"

# Limits, from Slack's Block Kit reference and slack_sdk's block models (Slack's Block Kit and Web API reference).
MAX_BLOCKS = 50
MAX_BLOCK_ID_CHARS = 255
MAX_HEADER_TEXT_CHARS = 150
MAX_SECTION_TEXT_CHARS = 3000
MAX_SECTION_FIELDS = 10
MAX_SECTION_FIELD_CHARS = 2000
MAX_CONTEXT_ELEMENTS = 10
MAX_ACTIONS_ELEMENTS = 25
MAX_BUTTON_TEXT_CHARS = 75
MAX_ACTION_ID_CHARS = 255
MAX_BUTTON_VALUE_CHARS = 2000
MAX_URL_CHARS = 3000
MAX_MARKDOWN_BLOCK_CHARS = 12_000
MAX_TABLE_ROWS = 100
MAX_TABLE_CELLS = 20
MAX_IMAGE_ALT_TEXT_CHARS = 2000
# Message text: chat.postMessage docs; markdown_text: 12,000 (slack_sdk docstring).
MAX_TEXT_CHARS = 40_000
MAX_MARKDOWN_TEXT_CHARS = 12_000
# Undocumented: msg_blocks_too_long seen at ~13.2k characters of block text (bolt-js #2509).
MAX_TOTAL_BLOCK_TEXT_CHARS = 13_200
# A response_url works five times within 30 minutes (Slack interactivity docs).
RESPONSE_URL_MAX_USES = 5

BLOCK_TYPES = frozenset(
    {
        "actions", "context", "divider", "file", "header", "image", "input",
        "markdown", "rich_text", "section", "table", "video",
    }
)  # fmt: skip
INTERACTIVE_ELEMENTS = frozenset(
    {
        "button", "checkboxes", "datepicker", "datetimepicker", "email_text_input",
        "external_select", "multi_static_select", "number_input", "overflow",
        "plain_text_input", "radio_buttons", "static_select", "timepicker",
        "url_text_input", "users_select", "conversations_select", "channels_select",
        "workflow_button", "rich_text_input",
    }
)  # fmt: skip
_TS_RE = re.compile(r"^\d{10}\.\d{6}$")


def _too_long(limit: int, pointer: str) -> str:
    return f"must be less than {limit + 1} characters [json-pointer:{pointer}]"


def _text_object_errors(obj: Any, pointer: str, limit: int | None, plain_only: bool) -> list[str]:
    if not isinstance(obj, dict):
        return [f"must be an object [json-pointer:{pointer}]"]
    kind = obj.get("type")
    allowed = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
    if kind not in allowed:
        return [f"must be one of {', '.join(allowed)} [json-pointer:{pointer}/type]"]
    text = obj.get("text")
    if not isinstance(text, str):
        return [f"missing required field: text [json-pointer:{pointer}]"]
    if not text:
        return [f"must be more than 0 characters [json-pointer:{pointer}/text]"]
    if limit is not None and len(text) > limit:
        return [_too_long(limit, f"{pointer}/text")]
    return []


def _element_errors(element: Any, pointer: str) -> list[str]:
    if not isinstance(element, dict):
        return [f"must be an object [json-pointer:{pointer}]"]
    kind = element.get("type")
    if kind == "image":
        return []
    if kind not in INTERACTIVE_ELEMENTS:
        return [f"unsupported element type: {kind} [json-pointer:{pointer}/type]"]
    errors = []
    action_id = element.get("action_id")
    if isinstance(action_id, str) and len(action_id) > MAX_ACTION_ID_CHARS:
        errors.append(_too_long(MAX_ACTION_ID_CHARS, f"{pointer}/action_id"))
    if kind == "button":
        errors += _text_object_errors(element.get("text"), f"{pointer}/text", MAX_BUTTON_TEXT_CHARS, True)
        value = element.get("value")
        if isinstance(value, str) and len(value) > MAX_BUTTON_VALUE_CHARS:
            errors.append(_too_long(MAX_BUTTON_VALUE_CHARS, f"{pointer}/value"))
        url = element.get("url")
        if isinstance(url, str) and len(url) > MAX_URL_CHARS:
            errors.append(_too_long(MAX_URL_CHARS, f"{pointer}/url"))
        if element.get("style") not in (None, "primary", "danger"):
            errors.append(f"must be one of primary, danger [json-pointer:{pointer}/style]")
    return errors


def _block_errors(block: dict[str, Any], p: str) -> list[str]:
    kind = block["type"]
    errors: list[str] = []
    if kind == "header":
        errors += _text_object_errors(block.get("text"), f"{p}/text", MAX_HEADER_TEXT_CHARS, True)
    elif kind == "section":
        if "text" not in block and "fields" not in block:
            errors.append(f"must provide either text or fields [json-pointer:{p}]")
        if "text" in block:
            errors += _text_object_errors(block["text"], f"{p}/text", MAX_SECTION_TEXT_CHARS, False)
        fields = block.get("fields")
        if fields is not None:
            if not isinstance(fields, list) or not fields:
                errors.append(f"must be a non-empty array [json-pointer:{p}/fields]")
            elif len(fields) > MAX_SECTION_FIELDS:
                errors.append(f"no more than {MAX_SECTION_FIELDS} items allowed [json-pointer:{p}/fields]")
            else:
                for i, f in enumerate(fields):
                    errors += _text_object_errors(f, f"{p}/fields/{i}", MAX_SECTION_FIELD_CHARS, False)
        if "accessory" in block:
            errors += _element_errors(block["accessory"], f"{p}/accessory")
    elif kind in ("context", "actions"):
        limit = MAX_CONTEXT_ELEMENTS if kind == "context" else MAX_ACTIONS_ELEMENTS
        elements = block.get("elements")
        if not isinstance(elements, list) or not elements:
            return [f"must be a non-empty array [json-pointer:{p}/elements]"]
        if len(elements) > limit:
            return [f"no more than {limit} items allowed [json-pointer:{p}/elements]"]
        seen: set[str] = set()
        for i, el in enumerate(elements):
            ep = f"{p}/elements/{i}"
            if kind == "context":
                if not (isinstance(el, dict) and el.get("type") == "image"):
                    errors += _text_object_errors(el, ep, None, False)
                continue
            errors += _element_errors(el, ep)
            action_id = el.get("action_id") if isinstance(el, dict) else None
            if isinstance(action_id, str):
                if action_id in seen:
                    errors.append(f"duplicate action_id: {action_id} [json-pointer:{ep}/action_id]")
                seen.add(action_id)
    elif kind == "markdown":
        text = block.get("text")
        if not isinstance(text, str) or not text:
            errors.append(f"missing required field: text [json-pointer:{p}]")
        elif len(text) > MAX_MARKDOWN_BLOCK_CHARS:
            errors.append(_too_long(MAX_MARKDOWN_BLOCK_CHARS, f"{p}/text"))
    elif kind == "image":
        for key, limit in (("image_url", MAX_URL_CHARS), ("alt_text", MAX_IMAGE_ALT_TEXT_CHARS)):
            value = block.get(key)
            if not isinstance(value, str) or not value:
                errors.append(f"missing required field: {key} [json-pointer:{p}]")
            elif len(value) > limit:
                errors.append(_too_long(limit, f"{p}/{key}"))
    elif kind == "table":
        rows = block.get("rows")
        if not isinstance(rows, list) or not rows:
            errors.append(f"must be a non-empty array [json-pointer:{p}/rows]")
        elif len(rows) > MAX_TABLE_ROWS:
            errors.append(f"no more than {MAX_TABLE_ROWS} items allowed [json-pointer:{p}/rows]")
        else:
            for i, row in enumerate(rows):
                if not isinstance(row, list) or len(row) > MAX_TABLE_CELLS:
                    errors.append(f"no more than {MAX_TABLE_CELLS} items allowed [json-pointer:{p}/rows/{i}]")
    elif kind == "rich_text" and not isinstance(block.get("elements"), list):
        errors.append(f"missing required field: elements [json-pointer:{p}]")
    return errors


def block_errors(blocks: list[Any]) -> list[str]:
    """Why Slack would answer ``invalid_blocks`` for ``blocks`` (empty list: valid)."""
    if len(blocks) > MAX_BLOCKS:
        return [f"no more than {MAX_BLOCKS} items allowed [json-pointer:/blocks]"]
    errors: list[str] = []
    block_ids: set[str] = set()
    for i, block in enumerate(blocks):
        p = f"/blocks/{i}"
        if not isinstance(block, dict) or block.get("type") not in BLOCK_TYPES:
            kind = block.get("type") if isinstance(block, dict) else type(block).__name__
            errors.append(f"unsupported type: {kind} [json-pointer:{p}/type]")
            continue
        block_id = block.get("block_id")
        if block_id is not None:
            if not isinstance(block_id, str) or len(block_id) > MAX_BLOCK_ID_CHARS:
                errors.append(_too_long(MAX_BLOCK_ID_CHARS, f"{p}/block_id"))
            elif block_id in block_ids:
                errors.append(f"duplicate block_id: {block_id} [json-pointer:{p}/block_id]")
            else:
                block_ids.add(block_id)
        errors += _block_errors(block, p)
    return errors


def total_block_text_chars(value: Any) -> int:
    """Characters in every ``text`` string of the blocks (what the aggregate cap counts)."""
    if isinstance(value, list):
        return sum(total_block_text_chars(v) for v in value)
    if isinstance(value, dict):
        return sum(
            len(v) if k == "text" and isinstance(v, str) else total_block_text_chars(v) for k, v in value.items()
        )
    return 0


class SlackError(Exception):
    """Raised inside the fake to answer ``{"ok": false, "error": code}``."""

    def __init__(self, code: str, messages: list[str] | None = None, status: int = 200) -> None:
        super().__init__(code)
        self.code = code
        self.messages = messages or []
        self.status = status


def _flag(value: Any) -> bool:
    return value is True or str(value).lower() in ("1", "true")


def _json_arg(args: Mapping[str, Any], key: str) -> Any:
    """A structured argument: JSON in a JSON body, a JSON string in a form body."""
    value = args.get(key)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError as exc:
            raise SlackError(f"invalid_{key}_format" if key != "blocks" else "invalid_blocks_format") from exc
    return value


class SlackFake(FakeHTTPServer):
    """Slack Web API on loopback; state is per channel, ``ts`` values are deterministic.

    Endpoint names for ``fail_next`` are Slack method names (``"chat.postMessage"``)
    and ``"response_url"`` for interactive replies.
    """

    def __init__(
        self,
        *,
        tokens: Iterable[str] = (BOT_TOKEN,),
        revoked_tokens: Iterable[str] = (),
        channels: Iterable[str] = (CHANNEL,),
        first_ts_seconds: int = 1_700_000_000,
    ) -> None:
        super().__init__()
        self.tokens = set(tokens)
        self.revoked_tokens = set(revoked_tokens)
        self._channels: dict[str, list[dict[str, Any]]] = {c: [] for c in channels}
        self._ephemeral: list[dict[str, Any]] = []
        self._response_urls: dict[str, dict[str, Any]] = {}
        self._ts_counter = 0
        self._first_ts_seconds = first_ts_seconds

    @property
    def base_url(self) -> str:
        """What ``WebClient(base_url=...)`` wants: ``http://127.0.0.1:PORT/api/``."""
        return f"{self.url}/api/"

    # state for tests -----------------------------------------------------------
    def add_channel(self, channel: str) -> None:
        """Make ``channel`` known (posting elsewhere gives ``channel_not_found``)."""
        with self._lock:
            self._channels.setdefault(channel, [])

    def messages(self, channel: str = CHANNEL) -> list[dict[str, Any]]:
        """Every message in ``channel`` (parents and replies) in posting order."""
        with self._lock:
            return copy.deepcopy(self._channels[channel])

    def message(self, channel: str, ts: str) -> dict[str, Any]:
        """One stored message; KeyError if absent."""
        with self._lock:
            return copy.deepcopy(self._find(channel, ts))

    def thread(self, channel: str, ts: str) -> list[dict[str, Any]]:
        """Parent then replies, oldest first."""
        with self._lock:
            return [copy.deepcopy(m) for m in self._channels[channel] if m.get("thread_ts", m["ts"]) == ts]

    @property
    def ephemeral_messages(self) -> list[dict[str, Any]]:
        """Ephemeral messages posted (each has ``channel`` and ``user``)."""
        with self._lock:
            return copy.deepcopy(self._ephemeral)

    def new_response_url(self, channel: str | None = None, ts: str | None = None) -> str:
        """A ``response_url`` as Slack puts in an interactive payload, bound to a message."""
        with self._lock:
            rid = f"R{len(self._response_urls) + 1:04d}"
            self._response_urls[rid] = {"channel": channel, "ts": ts, "posts": []}
        return f"{self.url}/response/{rid}"

    def response_posts(self, response_url: str) -> list[dict[str, Any]]:
        """JSON bodies posted to ``response_url``, in order."""
        with self._lock:
            return copy.deepcopy(self._response_urls[response_url.rstrip("/").rsplit("/", 1)[-1]]["posts"])

    # faults --------------------------------------------------------------------
    def fail_next(
        self,
        endpoint: str,
        *,
        status: int = 500,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
        times: int = 1,
        drop_connection: bool = False,
        delay_seconds: float = 0.0,
        ok_false_error: str | None = None,
    ) -> None:
        """Script the next ``times`` answers of a method; ``ok_false_error`` answers 200 ``ok: false``."""
        if ok_false_error is not None:
            status, body = 200, {"ok": False, "error": ok_false_error}
        if status == 429 and not any(k.lower() == "retry-after" for k in headers or {}):
            headers = {**(headers or {}), "Retry-After": "1"}
        super().fail_next(
            endpoint, status=status, headers=headers, body=body, times=times,
            drop_connection=drop_connection, delay_seconds=delay_seconds,
        )  # fmt: skip

    def rate_limit_next(self, method: str, *, retry_after_seconds: int = 1, times: int = 1) -> None:
        """Answer HTTP 429 ``ratelimited`` with ``Retry-After``."""
        self.fail_next(method, status=429, headers={"Retry-After": str(retry_after_seconds)}, times=times)

    def _fault_response(self, status: int) -> Response:
        error = {429: "ratelimited", 503: "service_unavailable"}.get(status, "fatal_error")
        return Response.json(status, {"ok": False, "error": error})

    # dispatch --------------------------------------------------------------------
    def _endpoint(self, method: str, path: str) -> str:
        if path.startswith("/api/"):
            return path[len("/api/") :]
        if path.startswith("/response/"):
            return "response_url"
        return path

    def _handle(self, request: RecordedRequest) -> Response:
        try:
            if request.endpoint == "response_url":
                return self._response_url(request)
            if not request.path.startswith("/api/"):
                return Response(status=404, body=b"Not Found")
            args: dict[str, Any] = dict(request.query)
            if isinstance(request.body, dict):
                args.update(request.body)
            elif request.raw_body and request.body is None:
                raise SlackError("invalid_json")
            self._authenticate(request, args)
            handler = self._methods().get(request.endpoint)
            if handler is None:
                raise SlackError("unknown_method")
            with self._lock:
                payload = handler(args)
            return Response.json(200, {"ok": True, **payload})
        except SlackError as err:
            body: dict[str, Any] = {"ok": False, "error": err.code}
            if err.messages:
                body["errors"] = err.messages
                body["response_metadata"] = {"messages": [f"[ERROR] {m}" for m in err.messages]}
            return Response.json(err.status, body)

    def _methods(self) -> dict[str, Any]:
        return {
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.update": self._update,
            "chat.postEphemeral": self._post_ephemeral,
            "conversations.history": self._history,
            "conversations.replies": self._replies,
        }

    def _authenticate(self, request: RecordedRequest, args: Mapping[str, Any]) -> None:
        auth = request.header("authorization") or ""
        token = auth[len("Bearer ") :] if auth.startswith("Bearer ") else args.get("token")
        if not token:
            raise SlackError("not_authed")
        if token in self.revoked_tokens:
            raise SlackError("token_revoked")
        if token not in self.tokens:
            raise SlackError("invalid_auth")

    # helpers -------------------------------------------------------------------
    def _next_ts(self) -> str:
        self._ts_counter += 1
        seconds, micros = divmod(self._ts_counter * 100, 1_000_000)
        return f"{self._first_ts_seconds + seconds}.{micros:06d}"

    def _channel(self, args: Mapping[str, Any]) -> list[dict[str, Any]]:
        channel = args.get("channel")
        if not channel or channel not in self._channels:
            raise SlackError("channel_not_found")
        return self._channels[channel]

    def _find(self, channel: str, ts: str) -> dict[str, Any]:
        for m in self._channels[channel]:
            if m["ts"] == ts:
                return m
        raise KeyError(ts)

    def _content(self, args: Mapping[str, Any], *, require: bool) -> dict[str, Any]:
        """Validated text/blocks/metadata of a post or update, as Slack checks them."""
        content: dict[str, Any] = {}
        text, markdown_text = args.get("text"), args.get("markdown_text")
        if markdown_text is not None:
            if text is not None or args.get("blocks") is not None:
                raise SlackError("markdown_text_conflict")
            if len(str(markdown_text)) > MAX_MARKDOWN_TEXT_CHARS:
                raise SlackError("msg_too_long")
            content["text"] = str(markdown_text)
        if text is not None:
            if len(str(text)) > MAX_TEXT_CHARS:
                raise SlackError("msg_too_long")
            content["text"] = str(text)
        blocks = _json_arg(args, "blocks")
        if blocks is not None:
            if not isinstance(blocks, list):
                raise SlackError("invalid_blocks_format")
            errors = block_errors(blocks)
            if errors:
                raise SlackError("invalid_blocks", errors)
            if total_block_text_chars(blocks) > MAX_TOTAL_BLOCK_TEXT_CHARS:
                raise SlackError("msg_blocks_too_long")
            content["blocks"] = blocks
        attachments = _json_arg(args, "attachments")
        if attachments:
            content["attachments"] = attachments
        if require and not content.get("text") and not content.get("blocks") and not attachments:
            raise SlackError("no_text")
        metadata = _json_arg(args, "metadata")
        if metadata is not None:
            if not (
                isinstance(metadata, dict)
                and isinstance(metadata.get("event_type"), str)
                and isinstance(metadata.get("event_payload", {}), dict)
            ):
                raise SlackError("invalid_metadata_format")
            content["metadata"] = metadata
        return content

    def _public(self, message: Mapping[str, Any], with_metadata: bool) -> dict[str, Any]:
        out = {k: copy.deepcopy(v) for k, v in message.items() if k != "channel"}
        if not with_metadata:
            out.pop("metadata", None)
        return out

    # methods ---------------------------------------------------------------------
    def _auth_test(self, args: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "url": "https://fake-workspace.slack.com/", "team": "Fake Workspace", "user": "sitrep",
            "team_id": TEAM_ID, "user_id": BOT_USER_ID, "bot_id": BOT_ID, "is_enterprise_install": False,
        }  # fmt: skip

    def _post_message(self, args: Mapping[str, Any]) -> dict[str, Any]:
        messages = self._channel(args)
        content = self._content(args, require=True)
        message: dict[str, Any] = {
            "type": "message", "user": BOT_USER_ID, "bot_id": BOT_ID, "app_id": APP_ID,
            "team": TEAM_ID, "text": content.pop("text", ""), **content,
        }  # fmt: skip
        thread_ts = args.get("thread_ts")
        if thread_ts:
            try:
                parent = self._find(args["channel"], str(thread_ts))
            except KeyError:
                raise SlackError("invalid_thread_ts") from None
            root = parent.get("thread_ts", parent["ts"])
            parent = self._find(args["channel"], root)
            message["thread_ts"] = root
            message["parent_user_id"] = parent["user"]
            if _flag(args.get("reply_broadcast")):
                message["subtype"] = "thread_broadcast"
        message["ts"] = self._next_ts()
        message["channel"] = args["channel"]
        if thread_ts:
            parent["thread_ts"] = parent["ts"]
            parent["reply_count"] = parent.get("reply_count", 0) + 1
            parent["reply_users"] = sorted({*parent.get("reply_users", []), BOT_USER_ID})
            parent["reply_users_count"] = len(parent["reply_users"])
            parent["latest_reply"] = message["ts"]
        messages.append(message)
        return {"channel": args["channel"], "ts": message["ts"], "message": self._public(message, True)}

    def _update(self, args: Mapping[str, Any]) -> dict[str, Any]:
        self._channel(args)
        try:
            message = self._find(args["channel"], str(args.get("ts")))
        except KeyError:
            raise SlackError("message_not_found") from None
        content = self._content(args, require=False)
        if not content:
            raise SlackError("no_text")
        message.update(content)
        message["edited"] = {"user": BOT_USER_ID, "ts": self._next_ts()}
        public = self._public(message, True)
        return {"channel": args["channel"], "ts": message["ts"], "text": message["text"], "message": public}

    def _post_ephemeral(self, args: Mapping[str, Any]) -> dict[str, Any]:
        self._channel(args)
        if not args.get("user"):
            raise SlackError("user_not_in_channel")
        content = self._content(args, require=True)
        ts = self._next_ts()
        self._ephemeral.append({"channel": args["channel"], "user": args["user"], "ts": ts, **content})
        return {"message_ts": ts}

    def _history(self, args: Mapping[str, Any]) -> dict[str, Any]:
        messages = self._channel(args)
        with_metadata = _flag(args.get("include_all_metadata"))
        inclusive = _flag(args.get("inclusive"))
        oldest, latest = args.get("oldest"), args.get("latest")
        visible = [
            m for m in reversed(messages)
            if m.get("thread_ts", m["ts"]) == m["ts"] or m.get("subtype") == "thread_broadcast"
        ]  # fmt: skip
        if oldest:
            visible = [m for m in visible if float(m["ts"]) > float(oldest) or (inclusive and m["ts"] == oldest)]
        if latest:
            visible = [m for m in visible if float(m["ts"]) < float(latest) or (inclusive and m["ts"] == latest)]
        return self._page(visible, args, with_metadata)

    def _replies(self, args: Mapping[str, Any]) -> dict[str, Any]:
        self._channel(args)
        ts = str(args.get("ts") or "")
        if not _TS_RE.match(ts):
            raise SlackError("invalid_ts" if ts else "thread_not_found")
        try:
            root = self._find(args["channel"], ts)
        except KeyError:
            raise SlackError("thread_not_found") from None
        root_ts = root.get("thread_ts", root["ts"])
        thread = [m for m in self._channels[args["channel"]] if m.get("thread_ts", m["ts"]) == root_ts]
        return self._page(thread, args, _flag(args.get("include_all_metadata")))

    def _page(self, items: list[dict[str, Any]], args: Mapping[str, Any], with_metadata: bool) -> dict[str, Any]:
        limit = int(args.get("limit") or 100)
        cursor = args.get("cursor")
        offset = int(base64.b64decode(cursor).decode().split(":")[1]) if cursor else 0
        page = items[offset : offset + limit]
        more = offset + limit < len(items)
        next_cursor = base64.b64encode(f"offset:{offset + limit}".encode()).decode() if more else ""
        return {
            "messages": [self._public(m, with_metadata) for m in page],
            "has_more": more,
            "response_metadata": {"next_cursor": next_cursor},
        }

    def _response_url(self, request: RecordedRequest) -> Response:
        rid = request.path.rstrip("/").rsplit("/", 1)[-1]
        with self._lock:
            entry = self._response_urls.get(rid)
            if entry is None or request.method != "POST":
                return Response.json(404, {"ok": False, "error": "expired_url"})
            if len(entry["posts"]) >= RESPONSE_URL_MAX_USES:
                return Response.json(404, {"ok": False, "error": "used_url"})
            if not isinstance(request.body, dict):
                return Response.json(400, {"ok": False, "error": "invalid_payload"})
            try:
                content = self._content(request.body, require=not _flag(request.body.get("delete_original")))
            except SlackError as err:
                return Response.json(400, {"ok": False, "error": err.code})
            entry["posts"].append(copy.deepcopy(request.body))
            channel, ts = entry["channel"], entry["ts"]
            if channel and ts:
                if _flag(request.body.get("delete_original")):
                    self._channels[channel] = [m for m in self._channels[channel] if m["ts"] != ts]
                elif _flag(request.body.get("replace_original")):
                    self._find(channel, ts).update(content)
        return Response.json(200, {"ok": True})
