"""GitHubIssues against the local GitHub fake, through the real PyGithub; and the body markers.

Pinned down: create with coloured labels, find by the hidden key marker (skipping pull requests
and other keys, preferring the open issue, else the latest closed one), comment / edit / close /
reopen / label, bounded retries that never re-send a POST after a 5xx, a long Retry-After that
raises at once, the error table, no token anywhere, and bodies that always fit GitHub's limit.
"""

from __future__ import annotations

import base64
import json
import logging
import time
import traceback
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from functions.adapters.github_issues import (
    MAX_BODY_CHARS,
    GitHubIssues,
    compose_body,
    key_marker,
    parse_markers,
    truncate_markdown,
)
from functions.core.errors import PermanentDeliveryError, TransientDeliveryError
from functions.core.model import IncidentStatus
from functions.core.secret import Secret
from functions.incidents.lifecycle import LedgerEntry, SurfaceState, entry_from_json, entry_to_json
from tests.fakes.github import REPOSITORY, TOKEN, GitHubFake

KEY = "shop-prod/prod"
LEDGER = {"v": 1, "key": KEY, "generation": 1, "slack": {"ref": "C0FAKE0001:1700000000.000100"}}


def issues(server: GitHubFake, *, token: str = TOKEN) -> GitHubIssues:
    """GitHubIssues on the fake: no write spacing and a 10 ms backoff keep tests fast; Retry-After still counts."""
    return GitHubIssues(Secret(token), REPOSITORY, server.base_url, 2.0, write_interval_s=None, backoff_s=0.01)


def body_for(key: str, ledger: dict[str, object] | None = None, markdown: str = "# Incident") -> str:
    return compose_body(markdown, key, ledger if ledger is not None else {**LEDGER, "key": key})


def assert_no_secret(exc: BaseException, caplog: pytest.LogCaptureFixture, token: str) -> None:
    assert token not in str(exc)
    assert token not in repr(exc)
    assert token not in "".join(traceback.format_exception(exc))
    assert token not in caplog.text
    assert all(token not in r.getMessage() for r in caplog.records)


@pytest.fixture(autouse=True)
def _debug_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.DEBUG)  # PyGithub's debug log shows request headers: it must mask the token
    yield


# --- the issue round trip ---------------------------------------------------------------------------


def test_constructor_does_no_io_and_hides_the_token(github_server: GitHubFake) -> None:
    tracker = issues(github_server)
    assert github_server.requests == []
    assert TOKEN not in repr(tracker)


def test_create_makes_coloured_labels_then_the_issue(github_server: GitHubFake) -> None:
    created = issues(github_server).create("checkout FAILING in prod", body_for(KEY), ["incident"])

    assert created.state == "open" and created.closed_at is None
    assert created.ledger == LEDGER
    assert created.url.endswith(f"/issues/{created.number}")
    stored = github_server.issue(created.number)
    assert [label["name"] for label in stored["labels"]] == ["sitrep", "incident"]
    colours = {label["name"]: label["color"] for label in github_server.labels()}
    assert colours == {"sitrep": "5319e7", "incident": "b60205"}
    assert parse_markers(stored["body"]) == (KEY, LEDGER)


def test_create_reuses_existing_labels_and_tolerates_a_label_created_meanwhile(github_server: GitHubFake) -> None:
    github_server.create_issue(title="someone else's", labels=["sitrep"])
    github_server.fail_next(
        "issues/create-label",
        status=422,
        body={"message": "Validation Failed", "errors": [{"resource": "Label", "code": "already_exists"}]},
    )
    created = issues(github_server).create("t", body_for(KEY), ["incident"])

    assert [r.body["name"] for r in github_server.requests_to("issues/create-label")] == ["incident"]
    assert [label["name"] for label in github_server.issue(created.number)["labels"]] == ["sitrep", "incident"]


def test_labels_are_looked_up_once_per_process(github_server: GitHubFake) -> None:
    tracker = issues(github_server)
    tracker.create("a", body_for("a/prod"), ["incident"])
    tracker.create("b", body_for("b/prod"), ["incident"])
    assert len(github_server.requests_to("issues/list-labels-for-repo")) == 1


def test_an_over_long_title_is_shortened_to_githubs_limit(github_server: GitHubFake) -> None:
    created = issues(github_server).create("x" * 300, body_for(KEY), [])
    title = github_server.issue(created.number)["title"]
    assert len(title) == 256 and title.endswith("…")


def test_find_matches_the_key_marker_and_skips_pull_requests(github_server: GitHubFake) -> None:
    tracker = issues(github_server)
    tracker.create("other", body_for("other/prod"), [])
    wanted = tracker.create("ours", body_for(KEY), [])
    # Pull request #1 carries the same label and marker and is the most recently updated item.
    tracker.edit(1, body=body_for(KEY))
    tracker.add_labels(1, ["sitrep"])
    github_server.clear_requests()

    found = tracker.find(KEY, closed_since=None)

    assert found is not None and found.number == wanted.number != 1
    assert found.ledger == LEDGER
    (listing,) = github_server.requests_to("issues/list-for-repo")
    assert listing.query["state"] == "open" and listing.query["labels"] == "sitrep"
    assert listing.query["per_page"] == "100"
    assert github_server.requests_to("issues/get") == []  # no hidden per-issue fetches


def test_find_ignores_a_key_quoted_in_the_report_text(github_server: GitHubFake) -> None:
    tracker = issues(github_server)
    quoted = f"log line: {key_marker(KEY)}"
    tracker.create("other", compose_body(quoted, "other/prod", LEDGER), [])
    assert tracker.find(KEY, closed_since=None) is None


def test_find_prefers_the_open_issue_over_closed_ones(github_server: GitHubFake) -> None:
    tracker = issues(github_server)
    old = tracker.create("old", body_for(KEY), [])
    tracker.close(old.number)
    current = tracker.create("current", body_for(KEY), [])

    found = tracker.find(KEY, closed_since=None)
    assert found is not None and found.number == current.number


def test_find_returns_the_latest_closed_issue_closed_since(github_server: GitHubFake) -> None:
    tracker = issues(github_server)
    first = tracker.create("first", body_for(KEY), [])
    second = tracker.create("second", body_for(KEY), [])
    tracker.close(second.number)
    tracker.close(first.number)  # closed last: the most recent

    found = tracker.find(KEY, closed_since=datetime(2023, 1, 1, tzinfo=UTC))
    assert found is not None and (found.number, found.state) == (first.number, "closed")
    assert found.closed_at is not None and found.closed_at.tzinfo is not None
    closed_listing = github_server.requests_to("issues/list-for-repo")[-1]
    assert closed_listing.query["since"] == "2023-01-01T00:00:00Z"

    assert tracker.find(KEY, closed_since=datetime(2030, 1, 1, tzinfo=UTC)) is None
    assert tracker.find("nobody/prod", closed_since=None) is None


def test_comment_edit_close_reopen_and_label(github_server: GitHubFake) -> None:
    tracker = issues(github_server)
    number = tracker.create("t", body_for(KEY), []).number

    tracker.comment(number, "Severity ERROR → CRITICAL")
    tracker.edit(number, body=body_for(KEY, {**LEDGER, "generation": 2}), title="new title")
    tracker.close(number)
    closed = github_server.issue(number)
    tracker.reopen(number)
    tracker.add_labels(number, ["regressed"])

    assert [c["body"] for c in github_server.comments(number)] == ["Severity ERROR → CRITICAL"]
    assert (closed["state"], closed["state_reason"]) == ("closed", "completed")
    issue = github_server.issue(number)
    assert (issue["state"], issue["state_reason"], issue["title"]) == ("open", "reopened", "new title")
    assert parse_markers(issue["body"])[1] == {**LEDGER, "generation": 2}
    assert [label["name"] for label in issue["labels"]] == ["sitrep", "regressed"]
    assert {label["name"]: label["color"] for label in github_server.labels()}["regressed"] == "d93f0b"
    close_request = github_server.requests_to("issues/update")[1]
    assert close_request.body == {"state": "closed", "state_reason": "completed"}  # nothing else touched


def test_edit_with_nothing_to_change_sends_nothing(github_server: GitHubFake) -> None:
    issues(github_server).edit(2)
    assert github_server.requests == []


def test_an_over_long_comment_is_truncated_visibly(github_server: GitHubFake) -> None:
    tracker = issues(github_server)
    number = tracker.create("t", body_for(KEY), []).number
    tracker.comment(number, "line\n" * 20_000)
    (comment,) = github_server.comments(number)
    assert len(comment["body"]) <= MAX_BODY_CHARS
    assert "Report truncated" in comment["body"]


def test_the_ledger_entry_survives_the_issue_body(github_server: GitHubFake) -> None:
    entry = LedgerEntry(
        key=KEY,
        generation=3,
        status=IncidentStatus.ACTIVE,
        opened_at=datetime(2025, 9, 16, 1, 0, tzinfo=UTC),
        resolved_at=None,
        members=(),
        slack=SurfaceState(ref="C0FAKE0001:1700000000.000100", digest="abc", generation=3),
    )
    tracker = issues(github_server)
    tracker.create("t", compose_body("# Report", KEY, entry_to_json(entry)), [])
    found = tracker.find(KEY, closed_since=None)
    assert found is not None and found.ledger is not None
    assert entry_from_json(found.ledger) == entry


# --- retries and the error table --------------------------------------------------------------------


def test_a_502_on_an_edit_is_retried_and_succeeds(github_server: GitHubFake) -> None:
    tracker = issues(github_server)
    number = tracker.create("t", body_for(KEY), []).number
    github_server.fail_next("issues/update", status=502)
    tracker.close(number)
    assert github_server.issue(number)["state"] == "closed"
    assert len(github_server.requests_to("issues/update")) == 2


@pytest.mark.parametrize(
    ("operation", "call", "attempts"),
    [
        ("issues/update", lambda t: t.close(2), 3),  # PATCH is idempotent: retried twice
        ("issues/create-comment", lambda t: t.comment(2, "x"), 1),  # POST may have landed: not re-sent
        ("issues/list-for-repo", lambda t: t.find(KEY, closed_since=None), 3),
    ],
)
def test_persistent_502s_are_transient(github_server: GitHubFake, operation: str, call: object, attempts: int) -> None:
    github_server.create_issue(title="t", body=body_for(KEY), labels=["sitrep"])
    github_server.fail_next(operation, status=502, times=5)
    with pytest.raises(TransientDeliveryError, match="HTTP 502") as caught:
        call(issues(github_server))  # type: ignore[operator]
    assert caught.value.surface == "github" and caught.value.retryable
    assert len(github_server.requests_to(operation)) == attempts


def test_a_429_with_a_short_retry_after_is_honoured_and_succeeds(github_server: GitHubFake) -> None:
    github_server.create_issue(title="t", body=body_for(KEY))
    github_server.fail_next("issues/create-comment", status=429, headers={"retry-after": "1"})
    started = time.monotonic()
    issues(github_server).comment(2, "x")
    assert time.monotonic() - started >= 1.0
    assert [c["body"] for c in github_server.comments(2)] == ["x"]
    assert len(github_server.requests_to("issues/create-comment")) == 2


def test_a_429_with_a_long_retry_after_raises_at_once(github_server: GitHubFake) -> None:
    github_server.create_issue(title="t", body=body_for(KEY))
    github_server.fail_next("issues/create-comment", status=429, headers={"retry-after": "3600"})
    started = time.monotonic()
    with pytest.raises(TransientDeliveryError) as caught:
        issues(github_server).comment(2, "x")
    assert time.monotonic() - started < 1.0
    assert caught.value.retry_after == 3600
    assert len(github_server.requests_to("issues/create-comment")) == 1


@pytest.mark.parametrize(("retry_after", "expected_wait"), [(3600, 3600), (None, 60)])
def test_a_secondary_rate_limit_is_transient_with_its_wait(
    github_server: GitHubFake, retry_after: int | None, expected_wait: float
) -> None:
    github_server.create_issue(title="t", body=body_for(KEY))
    github_server.secondary_rate_limit_next("issues/create-comment", retry_after_seconds=retry_after)
    started = time.monotonic()
    with pytest.raises(TransientDeliveryError, match="secondary rate limit") as caught:
        issues(github_server).comment(2, "x")
    assert time.monotonic() - started < 1.0
    assert caught.value.retry_after == expected_wait
    assert github_server.comments(2) == []


def test_a_short_secondary_rate_limit_is_waited_out_even_for_a_post(github_server: GitHubFake) -> None:
    github_server.create_issue(title="t", body=body_for(KEY))
    github_server.secondary_rate_limit_next("issues/create-comment", retry_after_seconds=0)
    issues(github_server).comment(2, "x")
    assert [c["body"] for c in github_server.comments(2)] == ["x"]


def test_a_primary_rate_limit_past_its_reset_is_retried(github_server: GitHubFake) -> None:
    github_server.create_issue(title="t", body=body_for(KEY))
    github_server.primary_rate_limit_next("issues/update")  # the fake's reset time is long past
    issues(github_server).close(2)
    assert github_server.issue(2)["state"] == "closed"


def test_an_over_long_body_is_permanent_with_githubs_message(github_server: GitHubFake) -> None:
    with pytest.raises(PermanentDeliveryError, match="HTTP 422: Validation Failed: body is too long") as caught:
        issues(github_server).create("t", "x" * (MAX_BODY_CHARS + 1), [])
    assert not caught.value.retryable


def test_a_missing_issue_is_permanent(github_server: GitHubFake) -> None:
    with pytest.raises(PermanentDeliveryError, match="HTTP 404"):
        issues(github_server).comment(999, "x")


@pytest.mark.parametrize("status", [401, 403, 404, 410, 422])
def test_client_errors_are_permanent_and_not_retried(github_server: GitHubFake, status: int) -> None:
    github_server.create_issue(title="t", body=body_for(KEY))
    github_server.fail_next("issues/update", status=status, body={"message": f"refused {status}"})
    with pytest.raises(PermanentDeliveryError, match=f"HTTP {status}: refused {status}"):
        issues(github_server).close(2)
    assert len(github_server.requests_to("issues/update")) == 1


def test_bad_credentials_never_show_the_token(github_server: GitHubFake, caplog: pytest.LogCaptureFixture) -> None:
    wrong = "ghp_wrongTokenThatMustNotLeak00000000000"
    with pytest.raises(PermanentDeliveryError, match="HTTP 401: Bad credentials") as caught:
        issues(github_server, token=wrong).create("t", body_for(KEY), ["incident"])
    assert_no_secret(caught.value, caplog, wrong)


@pytest.mark.parametrize("status", [401, 403, 404, 422, 429, 502])
def test_no_error_path_shows_the_token(
    github_server: GitHubFake, caplog: pytest.LogCaptureFixture, status: int
) -> None:
    github_server.create_issue(title="t", body=body_for(KEY))
    headers = {"retry-after": "0"} if status == 429 else None
    github_server.fail_next("issues/update", status=status, headers=headers, times=3)
    with pytest.raises((PermanentDeliveryError, TransientDeliveryError)) as caught:
        issues(github_server).close(2)
    assert_no_secret(caught.value, caplog, TOKEN)


def test_an_unreachable_server_is_transient(caplog: pytest.LogCaptureFixture) -> None:
    with GitHubFake() as server:
        tracker = issues(server)
    with pytest.raises(TransientDeliveryError, match="connection failed") as caught:
        tracker.find(KEY, closed_since=None)
    assert_no_secret(caught.value, caplog, TOKEN)


def test_a_timeout_is_transient(github_server: GitHubFake) -> None:
    github_server.delay_next("issues/create-comment", 3.0)
    github_server.create_issue(title="t", body=body_for(KEY))
    tracker = GitHubIssues(Secret(TOKEN), REPOSITORY, github_server.base_url, 1.0, write_interval_s=None, backoff_s=0)
    with pytest.raises(TransientDeliveryError):
        tracker.comment(2, "x")
    assert len(github_server.requests_to("issues/create-comment")) == 1  # the comment may have landed: not re-sent


def test_github_enterprise_base_urls_work() -> None:
    with GitHubFake(path_prefix="/api/v3") as server:
        tracker = issues(server)
        created = tracker.create("t", body_for(KEY), [])
        assert tracker.find(KEY, closed_since=None) == created


# --- the body: report + markers (pure) ---------------------------------------------------------------


def test_a_200kb_report_is_cut_to_fit_with_its_markers_intact() -> None:
    markdown = "".join(f"| row {i} | {'x' * 80} |\n" for i in range(2_400))
    assert len(markdown) > 200_000
    body = compose_body(markdown, KEY, LEDGER)
    assert len(body) <= MAX_BODY_CHARS
    assert "Report truncated" in body
    assert body.rstrip().endswith("-->")
    assert parse_markers(body) == (KEY, LEDGER)


def test_a_200kb_report_is_accepted_by_github(github_server: GitHubFake) -> None:
    created = issues(github_server).create("t", compose_body("y" * 200_000, KEY, LEDGER), [])
    assert created.ledger == LEDGER


@pytest.mark.parametrize("limit", [1_000, 5_000, MAX_BODY_CHARS])
def test_the_body_fits_any_limit_exactly(limit: int) -> None:
    for size in (limit - 200, limit, limit + 1, 3 * limit):
        body = compose_body("z" * size, KEY, LEDGER, limit=limit)
        assert len(body) <= limit
        assert parse_markers(body) == (KEY, LEDGER)


def test_a_short_report_is_kept_whole() -> None:
    body = compose_body("# Incident\n\nall good", KEY, LEDGER)
    assert body.startswith("# Incident\n\nall good\n\n<!-- sitrep:key=")
    assert "truncated" not in body


def test_a_cut_inside_a_code_block_closes_the_fence() -> None:
    markdown = "# Logs\n```\n" + "log line\n" * 20_000
    head = truncate_markdown(markdown, 10_000)
    assert len(head) <= 10_000
    assert head.count("```") % 2 == 0


@pytest.mark.parametrize("key", ["shop-prod/prod", "a b/c", "x-->y", "p/ünïcode", "100%/done"])
def test_keys_round_trip_and_cannot_end_the_comment(key: str) -> None:
    body = compose_body("report", key, {"note": "ünïcode → ok", "n": [1, 2]})
    assert parse_markers(body) == (key, {"note": "ünïcode → ok", "n": [1, 2]})
    assert body.count("-->") == 2


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("no markers at all", (None, None)),
        ("", (None, None)),
        ("<!-- sitrep:key=a/b -->", ("a/b", None)),
        ("<!-- sitrep:key=a/b -->\n<!-- sitrep:ledger !!notbase64 -->", ("a/b", None)),
        ("<!-- sitrep:key=a/b -->\n<!-- sitrep:ledger bm90IGpzb24 -->", ("a/b", None)),  # "not json"
        ("<!-- sitrep:key=a/b -->\n<!-- sitrep:ledger WzFd -->", ("a/b", None)),  # [1]: not an object
    ],
)
def test_parse_markers_tolerates_missing_or_damaged_markers(body: str, expected: tuple[object, object]) -> None:
    assert parse_markers(body) == expected


def test_the_last_marker_wins() -> None:
    older = compose_body("quoted old body", "old/key", {"generation": 1})
    body = compose_body(older, KEY, LEDGER)
    assert parse_markers(body) == (KEY, LEDGER)


def test_the_ledger_marker_is_unpadded_base64url_json() -> None:
    body = compose_body("r", KEY, {"k": "~~~???>>>"})
    blob = body.rsplit("<!-- sitrep:ledger ", 1)[1].split(" -->")[0]
    assert "=" not in blob and "+" not in blob and "/" not in blob
    assert json.loads(base64.urlsafe_b64decode(blob + "=" * (-len(blob) % 4))) == {"k": "~~~???>>>"}
