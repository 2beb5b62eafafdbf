"""Answers to the person who clicked or typed: ephemeral messages posted to Slack's `response_url`.

A `response_url` needs no token (it is the credential, valid for 30 minutes and 5 posts), so this
adapter holds none. slack_sdk's `WebhookClient` posts the JSON and retries connection errors once;
its answer is checked here because it returns HTTP errors instead of raising them.

    Slack answer                    raised
    ------------------------------  ------------------------------------------------
    HTTP 200                        nothing
    HTTP 429, 5xx, connection error TransientDeliveryError(surface="slack_response")
    other 4xx (expired_url, used_url, invalid_payload)
                                    PermanentDeliveryError(surface="slack_response")
"""

from __future__ import annotations

from collections.abc import Mapping
from http.client import HTTPException
from typing import Any, Final

from functions.core.errors import PermanentDeliveryError, TransientDeliveryError, excerpt

SURFACE: Final = "slack_response"


class ResponseUrl:
    """Posts ephemeral replies to interaction and slash-command `response_url`s."""

    def __init__(self, timeout_s: float = 10.0) -> None:
        self.timeout_s = timeout_s

    def __repr__(self) -> str:
        return f"ResponseUrl(timeout_s={self.timeout_s})"

    def respond(self, response_url: str, message: Mapping[str, Any]) -> None:
        """POST `message` (text/blocks/response_type) to `response_url`."""
        if not response_url.startswith(("https://", "http://")):
            raise PermanentDeliveryError(f"response_url {excerpt(response_url, 60)!r} is not an http(s) URL",
                                         surface=SURFACE)
        from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler
        from slack_sdk.webhook import WebhookClient

        client = WebhookClient(
            response_url,
            timeout=self.timeout_s,  # type: ignore[arg-type]  # typed int, passed to urlopen which takes float
            retry_handlers=[ConnectionErrorRetryHandler(max_retry_count=1)],
        )
        try:
            response = client.send_dict(dict(message))
        except (OSError, HTTPException) as exc:
            raise TransientDeliveryError(
                f"response_url: connection failed ({type(exc).__name__}: {excerpt(exc)})", surface=SURFACE
            ) from exc
        status = int(response.status_code)
        if status == 200:
            return
        detail = f"response_url: HTTP {status} {excerpt(response.body, 80)}"
        if status == 429 or status >= 500:
            raise TransientDeliveryError(detail, surface=SURFACE)
        raise PermanentDeliveryError(detail, surface=SURFACE)
