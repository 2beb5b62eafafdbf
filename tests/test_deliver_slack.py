"""SlackChat against the local Slack fake, through the real slack_sdk WebClient.

Pinned down: the card round trip (post, update in place, thread reply, find by metadata), bounded
retries (429 honouring a short Retry-After, 5xx, dropped connections), a long Retry-After that
raises at once instead of blocking, and the error table: permanent Slack errors name their code
and no error path ever shows the token.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from slack_sdk import WebClient

from functions.adapters.slack_chat import EVENT_TYPE, SlackChat
from functions.core.errors import DeliveryError, PermanentDeliveryError, TransientDeliveryError
from functions.core.secret import Secret
from functions.render.inert import Mrkdwn
from functions.render.slack import message_of
from tests.fakes.slack import BOT_TOKEN, CHANNEL, SlackFake

SINCE = datetime(2023, 1, 1, tzinfo=UTC)  # the fake's ts values start at 1_700_000_000 (2023-11-14)
CARD = {
    "text": "ACTIVE: checkout failing",
    "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "*checkout* FAILING"}}],
}
META = {"key": "shop-prod/prod", "generation": 1, "status": "active"}


def chat(server: SlackFake, *, token: str = BOT_TOKEN, channel: str = CHANNEL, max_wait_s: float = 20.0) -> SlackChat:
    """A SlackChat on the fake; a 10 ms backoff keeps retry tests fast (Retry-After is still honoured in full)."""
    return SlackChat(Secret(token), channel, server.base_url, 2.0, max_wait_s=max_wait_s, backoff_s=0.01)


def assert_no_secret(exc: BaseException, caplog: pytest.LogCaptureFixture, token: str) -> None:
    """The token appears nowhere a person or a log sink could read it."""
    assert token not in str(exc)
    assert token not in repr(exc)
    assert token not in "".join(traceback.format_exception(exc))
    assert token not in caplog.text
    assert all(token not in r.getMessage() for r in caplog.records)


@pytest.fixture(autouse=True)
def _debug_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.DEBUG)  # slack_sdk's debug log includes request headers: it must redact them
    yield


# --- the card round trip ---------------------------------------------------------------------------


def test_constructor_does_no_io_and_hides_the_token(slack_server: SlackFake) -> None:
    surface = chat(slack_server)
    assert slack_server.requests == []
    assert BOT_TOKEN not in repr(surface)
    SlackChat(Secret(BOT_TOKEN), CHANNEL, "http://127.0.0.1:9/api/", 1.0)  # an unreachable URL is fine until used


def test_post_creates_the_card_with_metadata_and_without_unfurling(slack_server: SlackFake) -> None:
    ref = chat(slack_server).post(CARD, META)

    channel, ts = ref.split(":")
    assert channel == CHANNEL
    stored = slack_server.message(CHANNEL, ts)
    assert stored["text"] == CARD["text"]
    assert stored["blocks"] == CARD["blocks"]
    assert stored["metadata"] == {"event_type": EVENT_TYPE, "event_payload": META}
    (request,) = slack_server.requests_to("chat.postMessage")
    assert request.body["unfurl_links"] is False
    assert request.header("authorization") == f"Bearer {BOT_TOKEN}"


def test_update_replaces_the_card_in_place_and_reply_goes_to_its_thread(slack_server: SlackFake) -> None:
    surface = chat(slack_server)
    ref = surface.post(CARD, META)
    resolved = {"text": "RESOLVED", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "done"}}]}

    surface.update(ref, resolved, {**META, "status": "resolved"})
    surface.reply(ref, message_of(Mrkdwn("Resolved: every alert of the incident has closed")))

    ts = ref.split(":")[1]
    card = slack_server.message(CHANNEL, ts)
    assert (card["text"], card["blocks"]) == ("RESOLVED", resolved["blocks"])
    assert card["metadata"]["event_payload"]["status"] == "resolved"
    parent, reply = slack_server.thread(CHANNEL, ts)
    assert parent["ts"] == ts
    assert reply["text"] == "Resolved: every alert of the incident has closed"
    assert reply["thread_ts"] == ts
    assert len([m for m in slack_server.messages() if "thread_ts" not in m or m["thread_ts"] == m["ts"]]) == 1


def test_update_without_blocks_removes_the_old_blocks(slack_server: SlackFake) -> None:
    surface = chat(slack_server)
    ref = surface.post(CARD, META)
    surface.update(ref, {"text": "plain now"}, META)
    assert slack_server.message(CHANNEL, ref.split(":")[1])["blocks"] == []


def test_find_returns_the_newest_card_of_that_key_and_generation(slack_server: SlackFake) -> None:
    surface = chat(slack_server)
    surface.post(CARD, META)
    newest = surface.post(CARD, META)
    surface.post(CARD, {**META, "generation": 2})
    surface.post(CARD, {**META, "key": "other/prod"})
    surface.reply(newest, message_of(Mrkdwn("a thread reply has no metadata")))

    assert surface.find("shop-prod/prod", 1, SINCE) == (newest, META)
    assert surface.find("shop-prod/prod", 2, SINCE) is not None
    assert surface.find("shop-prod/prod", 3, SINCE) is None
    assert surface.find("nobody/prod", 1, SINCE) is None
    (request, *_) = slack_server.requests_to("conversations.history")
    assert request.body["include_all_metadata"] in ("1", 1, True)
    assert request.body["channel"] == CHANNEL


def test_find_ignores_cards_older_than_oldest(slack_server: SlackFake) -> None:
    surface = chat(slack_server)
    surface.post(CARD, META)
    assert surface.find("shop-prod/prod", 1, datetime(2030, 1, 1, tzinfo=UTC)) is None


def test_find_follows_the_cursor_to_a_card_on_the_second_page(slack_server: SlackFake) -> None:
    surface = chat(slack_server)
    ref = surface.post(CARD, META)
    people = WebClient(token=BOT_TOKEN, base_url=slack_server.base_url)
    for i in range(210):  # one history page holds 200 messages
        people.chat_postMessage(channel=CHANNEL, text=f"chatter {i}")

    assert surface.find("shop-prod/prod", 1, SINCE) == (ref, META)
    assert len(slack_server.requests_to("conversations.history")) == 2


# --- retries -------------------------------------------------------------------------------------


def test_a_short_retry_after_is_honoured_and_the_post_succeeds(slack_server: SlackFake) -> None:
    slack_server.rate_limit_next("chat.postMessage", retry_after_seconds=1)
    started = time.monotonic()

    ref = chat(slack_server).post(CARD, META)

    assert time.monotonic() - started >= 1.0
    assert len(slack_server.requests_to("chat.postMessage")) == 2
    assert slack_server.message(CHANNEL, ref.split(":")[1])["text"] == CARD["text"]


def test_a_long_retry_after_raises_at_once_for_pubsub_to_redeliver(slack_server: SlackFake) -> None:
    slack_server.rate_limit_next("chat.postMessage", retry_after_seconds=3600)
    started = time.monotonic()

    with pytest.raises(TransientDeliveryError) as caught:
        chat(slack_server, max_wait_s=20).post(CARD, META)

    assert time.monotonic() - started < 1.0
    assert caught.value.retry_after == 3600
    assert caught.value.surface == "slack" and caught.value.retryable
    assert len(slack_server.requests_to("chat.postMessage")) == 1
    assert slack_server.messages() == []


def test_retry_after_waits_count_against_one_budget_per_call(slack_server: SlackFake) -> None:
    slack_server.fail_next("chat.update", status=429, headers={"Retry-After": "0.4"}, times=2)
    surface = chat(slack_server, max_wait_s=0.6)
    ref = surface.post(CARD, META)

    with pytest.raises(TransientDeliveryError) as caught:
        surface.update(ref, CARD, META)

    assert caught.value.retry_after == 0.4
    assert len(slack_server.requests_to("chat.update")) == 2  # waited once (0.4 s); a second wait would pass 0.6 s


def test_rate_limits_beyond_two_retries_raise_transient(slack_server: SlackFake) -> None:
    slack_server.rate_limit_next("chat.postMessage", retry_after_seconds=0, times=3)
    with pytest.raises(TransientDeliveryError) as caught:
        chat(slack_server).post(CARD, META)
    assert caught.value.retry_after == 0
    assert len(slack_server.requests_to("chat.postMessage")) == 3


@pytest.mark.parametrize("status", [500, 503])
def test_a_server_error_on_update_is_retried_and_succeeds(slack_server: SlackFake, status: int) -> None:
    surface = chat(slack_server)
    ref = surface.post(CARD, META)
    slack_server.fail_next("chat.update", status=status)
    surface.update(ref, CARD, META)
    assert len(slack_server.requests_to("chat.update")) == 2


@pytest.mark.parametrize("status", [500, 503])
def test_a_server_error_on_post_is_not_blindly_retried(slack_server: SlackFake, status: int) -> None:
    """The message may have landed: the redelivery looks it up by metadata instead of posting again."""
    slack_server.fail_next("chat.postMessage", status=status)
    with pytest.raises(TransientDeliveryError):
        chat(slack_server).post(CARD, META)
    assert len(slack_server.requests_to("chat.postMessage")) == 1


@pytest.mark.parametrize("status", [500, 502, 504])
def test_persistent_server_errors_are_transient(slack_server: SlackFake, status: int) -> None:
    slack_server.fail_next("chat.update", status=status, times=3)
    surface = chat(slack_server)
    ref = surface.post(CARD, META)
    with pytest.raises(TransientDeliveryError, match=f"HTTP {status}"):
        surface.update(ref, CARD, META)


def test_a_dropped_connection_is_retried_for_updates_not_posts(slack_server: SlackFake) -> None:
    surface = chat(slack_server)
    slack_server.fail_next("chat.postMessage", drop_connection=True)
    with pytest.raises(TransientDeliveryError, match="connection failed"):
        surface.post(CARD, META)
    ref = surface.post(CARD, META)
    slack_server.fail_next("chat.update", drop_connection=True)
    surface.update(ref, CARD, META)
    assert len(slack_server.requests_to("chat.update")) == 2
    assert len(slack_server.messages()) == 1


def test_an_unreachable_server_is_transient(caplog: pytest.LogCaptureFixture) -> None:
    with SlackFake() as server:
        surface = chat(server)
    with pytest.raises(TransientDeliveryError, match="connection failed") as caught:
        surface.post(CARD, META)
    assert_no_secret(caught.value, caplog, BOT_TOKEN)


def test_a_timeout_is_transient(slack_server: SlackFake, caplog: pytest.LogCaptureFixture) -> None:
    slack_server.delay_next("chat.postMessage", 1.0)
    surface = SlackChat(Secret(BOT_TOKEN), CHANNEL, slack_server.base_url, 0.2)
    with pytest.raises(TransientDeliveryError) as caught:
        surface.post(CARD, META)
    assert_no_secret(caught.value, caplog, BOT_TOKEN)


def test_ok_false_internal_error_is_transient(slack_server: SlackFake) -> None:
    slack_server.fail_next("chat.postMessage", ok_false_error="internal_error")
    with pytest.raises(TransientDeliveryError, match="internal_error"):
        chat(slack_server).post(CARD, META)


# --- permanent errors, and no token anywhere -----------------------------------------------------

WRONG_TOKEN = "xoxb-not-a-known-token-1234567890"
REVOKED_TOKEN = "xoxb-revoked-token-0987654321"


@pytest.mark.parametrize(
    ("code", "token", "channel"),
    [
        ("channel_not_found", BOT_TOKEN, "C0NOSUCH01"),
        ("invalid_auth", WRONG_TOKEN, CHANNEL),
        ("token_revoked", REVOKED_TOKEN, CHANNEL),
    ],
)
def test_refused_posts_are_permanent_and_never_show_the_token(
    caplog: pytest.LogCaptureFixture, code: str, token: str, channel: str
) -> None:
    with SlackFake(revoked_tokens=[REVOKED_TOKEN]) as server:
        with pytest.raises(PermanentDeliveryError, match=code) as caught:
            chat(server, token=token, channel=channel).post(CARD, META)
        assert len(server.requests_to("chat.postMessage")) == 1  # not retried
    assert not caught.value.retryable
    assert_no_secret(caught.value, caplog, token)


@pytest.mark.parametrize(
    "code",
    [
        "not_in_channel",
        "account_inactive",
        "missing_scope",
        "no_text",
        "cant_update_message",
        "edit_window_closed",
    ],
)
def test_other_refusals_are_permanent_with_their_code(
    slack_server: SlackFake, caplog: pytest.LogCaptureFixture, code: str
) -> None:
    surface = chat(slack_server)
    ref = surface.post(CARD, META)
    slack_server.fail_next("chat.update", ok_false_error=code)
    with pytest.raises(PermanentDeliveryError, match=code) as caught:
        surface.update(ref, CARD, META)
    assert_no_secret(caught.value, caplog, BOT_TOKEN)


def test_invalid_blocks_say_what_slack_rejected(slack_server: SlackFake, caplog: pytest.LogCaptureFixture) -> None:
    too_many = [{"type": "divider"}] * 51
    with pytest.raises(PermanentDeliveryError, match=r"invalid_blocks.*no more than 50 items") as caught:
        chat(slack_server).post({"text": "x", "blocks": too_many}, META)
    assert_no_secret(caught.value, caplog, BOT_TOKEN)


def test_over_long_text_is_msg_too_long(slack_server: SlackFake) -> None:
    with pytest.raises(PermanentDeliveryError, match="msg_too_long"):
        chat(slack_server).post({"text": "x" * 40_001}, META)


def test_updating_a_missing_message_is_message_not_found(slack_server: SlackFake) -> None:
    with pytest.raises(PermanentDeliveryError, match="message_not_found"):
        chat(slack_server).update(f"{CHANNEL}:1600000000.000100", CARD, META)


def test_find_errors_are_mapped_too(slack_server: SlackFake) -> None:
    slack_server.fail_next("conversations.history", ok_false_error="missing_scope")
    with pytest.raises(PermanentDeliveryError, match=r"conversations\.history: missing_scope"):
        chat(slack_server).find("shop-prod/prod", 1, SINCE)


@pytest.mark.parametrize("ref", ["", "C0FAKE0001", ":1700000000.000100", "C0FAKE0001:"])
def test_a_malformed_ref_is_permanent_and_sends_nothing(slack_server: SlackFake, ref: str) -> None:
    with pytest.raises(PermanentDeliveryError, match="malformed"):
        chat(slack_server).reply(ref, "x")
    assert slack_server.requests == []


def test_every_failure_is_a_delivery_error_for_the_slack_surface(slack_server: SlackFake) -> None:
    slack_server.fail_next("chat.postMessage", status=404, body=b"not found")
    with pytest.raises(DeliveryError) as caught:
        chat(slack_server).post(CARD, META)
    assert caught.value.surface == "slack"
    assert isinstance(caught.value, PermanentDeliveryError)
