"""The fakes answer the real client libraries the way the real services do.

Each test drives a fake with the production client (slack_sdk, PyGithub,
google-cloud-logging, google-cloud-monitoring) over loopback, so a passing adapter
test means the adapter's calls are shaped right, not that a mock agreed with it.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import grpc
import pytest
from github import Auth, Github, GithubException, GithubRetry
from google.api_core import exceptions as gexc
from google.auth.credentials import AnonymousCredentials
from google.cloud import logging as gcl
from google.cloud import monitoring_v3
from google.cloud.monitoring_v3.services.snooze_service.transports import SnoozeServiceGrpcTransport
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler
from slack_sdk.http_retry.builtin_handlers import ServerErrorRetryHandler
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.webhook import WebhookClient

from tests.fakes import slack
from tests.fakes.cloud_logging import LoggingFake, log_entry, matches, parse_filter
from tests.fakes.cloud_monitoring import REQUEST_COUNT, MonitoringFake, log_metric_series, request_count_series
from tests.fakes.github import REPOSITORY, TOKEN, GitHubFake
from tests.fakes.slack import BOT_TOKEN, CHANNEL, SlackFake

NO_WAIT = FixedValueRetryIntervalCalculator(fixed_internal=0.01)


# --- Slack ------------------------------------------------------------------------------
def _slack(server: SlackFake, token: str = BOT_TOKEN, **kwargs: Any) -> WebClient:
    return WebClient(token=token, base_url=server.base_url, timeout=5, **kwargs)


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _button(text: str = "Ack", action_id: str = "ack", value: str = "v") -> dict[str, Any]:
    return {"type": "button", "text": {"type": "plain_text", "text": text}, "action_id": action_id, "value": value}


def test_slack_post_thread_and_history_with_metadata(slack_server: SlackFake) -> None:
    client = _slack(slack_server)
    metadata = {"event_type": "incident_opened", "event_payload": {"key": "inc-1"}}
    parent = client.chat_postMessage(channel=CHANNEL, text="down", blocks=[_section("*down*")], metadata=metadata)
    reply = client.chat_postMessage(channel=CHANNEL, text="still down", thread_ts=parent["ts"])

    assert (parent["ts"], reply["ts"]) == ("1700000000.000100", "1700000000.000200")
    assert parent["message"]["blocks"] == [_section("*down*")]
    history = client.conversations_history(channel=CHANNEL, include_all_metadata=True)
    assert [m["ts"] for m in history["messages"]] == [parent["ts"]]  # replies stay in the thread
    assert history["messages"][0]["metadata"] == metadata
    assert "metadata" not in client.conversations_history(channel=CHANNEL)["messages"][0]
    thread = client.conversations_replies(channel=CHANNEL, ts=parent["ts"])
    assert [m["text"] for m in thread["messages"]] == ["down", "still down"]
    assert thread["messages"][0]["reply_count"] == 1


def test_slack_update_keeps_blocks_when_omitted_and_rejects_unknown_ts(slack_server: SlackFake) -> None:
    client = _slack(slack_server)
    posted = client.chat_postMessage(channel=CHANNEL, text="open", blocks=[_section("open")])
    updated = client.chat_update(channel=CHANNEL, ts=posted["ts"], text="resolved")

    assert updated["message"]["blocks"] == [_section("open")]
    assert slack_server.message(CHANNEL, posted["ts"])["text"] == "resolved"
    with pytest.raises(SlackApiError) as err:
        client.chat_update(channel=CHANNEL, ts="1600000000.000100", text="x")
    assert err.value.response["error"] == "message_not_found"


def test_slack_ephemeral_and_auth_test(slack_server: SlackFake) -> None:
    client = _slack(slack_server)
    assert client.auth_test()["user_id"] == slack.BOT_USER_ID
    client.chat_postEphemeral(channel=CHANNEL, user="U123", text="only you")
    assert slack_server.ephemeral_messages[0]["text"] == "only you"


AT_LIMIT_BLOCKS = {
    "50 blocks": [{"type": "divider"}] * 50,
    "header 150": [{"type": "header", "text": {"type": "plain_text", "text": "h" * 150}}],
    "section 3000": [_section("s" * 3000)],
    "10 fields of 2000": [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 1000}] * 10}],
    "25 buttons": [{"type": "actions", "elements": [_button(action_id=f"a{i}") for i in range(25)]}],
    "button limits": [{"type": "actions", "elements": [_button("b" * 75, "a" * 255, "v" * 2000)]}],
}


@pytest.mark.parametrize("blocks", AT_LIMIT_BLOCKS.values(), ids=AT_LIMIT_BLOCKS.keys())
def test_slack_accepts_blocks_at_the_limits(slack_server: SlackFake, blocks: list[dict[str, Any]]) -> None:
    assert _slack(slack_server).chat_postMessage(channel=CHANNEL, text="t", blocks=blocks)["ok"]


OVER_LIMIT_BLOCKS = {
    "51 blocks": ([{"type": "divider"}] * 51, "no more than 50 items allowed [json-pointer:/blocks]"),
    "header 151": ([{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}], "/blocks/0/text/text"),
    "header mrkdwn": ([{"type": "header", "text": {"type": "mrkdwn", "text": "h"}}], "/blocks/0/text/type"),
    "section 3001": ([_section("s" * 3001)], "must be less than 3001 characters"),
    "empty text": ([_section("")], "must be more than 0 characters"),
    "11 fields": ([{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}], "/blocks/0/fields"),
    "field 2001": (
        [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2001}]}],
        "/blocks/0/fields/0/text",
    ),
    "11 context elements": (
        [{"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11}],
        "/blocks/0/elements",
    ),
    "26 buttons": (
        [{"type": "actions", "elements": [_button(action_id=f"a{i}") for i in range(26)]}],
        "/blocks/0/elements",
    ),
    "button text 76": ([{"type": "actions", "elements": [_button("b" * 76)]}], "/blocks/0/elements/0/text/text"),
    "action_id 256": ([{"type": "actions", "elements": [_button(action_id="a" * 256)]}], "/elements/0/action_id"),
    "value 2001": ([{"type": "actions", "elements": [_button(value="v" * 2001)]}], "/blocks/0/elements/0/value"),
    "block_id 256": ([{"type": "divider", "block_id": "b" * 256}], "/blocks/0/block_id"),
    "duplicate block_id": (
        [{"type": "divider", "block_id": "x"}, {"type": "divider", "block_id": "x"}],
        "duplicate block_id",
    ),
    "unknown type": ([{"type": "sparkles"}], "unsupported type: sparkles"),
}


@pytest.mark.parametrize(("blocks", "message"), OVER_LIMIT_BLOCKS.values(), ids=OVER_LIMIT_BLOCKS.keys())
def test_slack_rejects_invalid_blocks_like_slack(slack_server: SlackFake, blocks: list[Any], message: str) -> None:
    with pytest.raises(SlackApiError) as err:
        _slack(slack_server).chat_postMessage(channel=CHANNEL, text="t", blocks=blocks)
    body = err.value.response.data
    assert isinstance(body, dict)
    assert body["error"] == "invalid_blocks"
    assert any(message in m and m.startswith("[ERROR] ") for m in body["response_metadata"]["messages"])
    assert slack_server.messages(CHANNEL) == []


REJECTED_POSTS = {
    "text over 40000": ({"text": "x" * 40_001}, "msg_too_long"),
    "neither text nor blocks": ({}, "no_text"),
    "block text over aggregate cap": ({"text": "t", "blocks": [_section("s" * 2700)] * 5}, "msg_blocks_too_long"),
    "unknown channel": ({"text": "t", "channel": "C0NOPE"}, "channel_not_found"),
    "bad thread_ts": ({"text": "t", "thread_ts": "1600000000.000100"}, "invalid_thread_ts"),
    "metadata without event_type": ({"text": "t", "metadata": {"event_payload": {}}}, "invalid_metadata_format"),
}


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing:UserWarning")
@pytest.mark.parametrize(("kwargs", "error"), REJECTED_POSTS.values(), ids=REJECTED_POSTS.keys())
def test_slack_rejects_posts_like_slack(slack_server: SlackFake, kwargs: dict[str, Any], error: str) -> None:
    with pytest.raises(SlackApiError) as err:
        _slack(slack_server).chat_postMessage(**{"channel": CHANNEL, **kwargs})
    assert (err.value.response.status_code, err.value.response["error"]) == (200, error)


@pytest.mark.parametrize(("token", "error"), [("xoxb-wrong", "invalid_auth"), ("xoxb-revoked", "token_revoked")])
def test_slack_rejects_bad_tokens(token: str, error: str) -> None:
    with SlackFake(revoked_tokens=["xoxb-revoked"]) as server, pytest.raises(SlackApiError) as err:
        _slack(server, token=token).chat_postMessage(channel=CHANNEL, text="t")
    assert err.value.response["error"] == error


def test_slack_429_is_retried_after_retry_after_by_the_sdk_handler(slack_server: SlackFake) -> None:
    slack_server.fail_next("chat.postMessage", status=429, headers={"Retry-After": "1"})
    client = _slack(slack_server, retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)])
    started = time.monotonic()

    assert client.chat_postMessage(channel=CHANNEL, text="t")["ok"]
    assert time.monotonic() - started >= 1.0
    assert len(slack_server.requests_to("chat.postMessage")) == 2


def test_slack_429_without_handler_surfaces_status_and_retry_after(slack_server: SlackFake) -> None:
    slack_server.rate_limit_next("chat.update", retry_after_seconds=30)
    with pytest.raises(SlackApiError) as err:
        _slack(slack_server).chat_update(channel=CHANNEL, ts="1700000000.000100", text="t")
    assert err.value.response.status_code == 429
    assert err.value.response.headers["Retry-After"] == "30"
    assert err.value.response["error"] == "ratelimited"


def test_slack_scripted_errors_and_dropped_connections(slack_server: SlackFake) -> None:
    slack_server.fail_next("chat.postMessage", ok_false_error="channel_not_found")
    handlers = [
        ServerErrorRetryHandler(max_retry_count=1, interval_calculator=NO_WAIT),
        ConnectionErrorRetryHandler(max_retry_count=1, interval_calculator=NO_WAIT),
    ]
    client = _slack(slack_server, retry_handlers=handlers)

    with pytest.raises(SlackApiError) as err:
        client.chat_postMessage(channel=CHANNEL, text="t")
    assert err.value.response["error"] == "channel_not_found"
    slack_server.fail_next("chat.postMessage", status=503)
    assert client.chat_postMessage(channel=CHANNEL, text="t")["ok"]
    slack_server.fail_next("chat.postMessage", drop_connection=True)
    assert client.chat_postMessage(channel=CHANNEL, text="t")["ok"]
    assert len(slack_server.requests_to("chat.postMessage")) == 5
    assert slack_server.pending_faults() == 0


def test_slack_response_url_replaces_the_original_and_expires_after_five_uses(slack_server: SlackFake) -> None:
    posted = _slack(slack_server).chat_postMessage(channel=CHANNEL, text="open")
    url = slack_server.new_response_url(CHANNEL, posted["ts"])
    webhook = WebhookClient(url, timeout=5)

    assert webhook.send(text="acknowledged", replace_original=True).status_code == 200
    assert slack_server.message(CHANNEL, posted["ts"])["text"] == "acknowledged"
    for _ in range(4):
        webhook.send(text="again")
    assert webhook.send(text="sixth").status_code == 404
    assert len(slack_server.response_posts(url)) == 5


# --- GitHub --------------------------------------------------------------------------
def _github(server: GitHubFake, token: str = TOKEN, **kwargs: Any) -> Github:
    options: dict[str, Any] = {"retry": None, "seconds_between_requests": None, "seconds_between_writes": None}
    return Github(base_url=server.base_url, auth=Auth.Token(token), timeout=5, **{**options, **kwargs})


def test_github_issue_lifecycle_with_pygithub(github_server: GitHubFake) -> None:
    repo = _github(github_server).get_repo(REPOSITORY)
    issue = repo.create_issue(title="checkout: OOM", body="<!-- sitrep:inc-1 -->", labels=["sitrep"])
    comment = issue.create_comment("first")
    comment.edit("edited")
    issue.add_to_labels("severity:high")
    issue.edit(state="closed", state_reason="not_planned")

    stored = github_server.issue(issue.number)
    assert (stored["state"], stored["state_reason"]) == ("closed", "not_planned")
    assert stored["closed_at"] is not None and stored["comments"] == 1
    assert [label["name"] for label in stored["labels"]] == ["sitrep", "severity:high"]
    assert [c.body for c in issue.get_comments()] == ["edited"]
    assert comment.html_url.endswith(f"#issuecomment-{comment.id}")


def test_github_list_pages_with_link_header_and_includes_pull_requests(github_server: GitHubFake) -> None:
    for n in range(5):
        github_server.create_issue(title=f"issue {n}", labels=["sitrep"] if n % 2 else [])
    repo = _github(github_server, per_page=2).get_repo(REPOSITORY)

    everything = list(repo.get_issues(state="all"))
    assert len(everything) == 6 and sum(i.pull_request is not None for i in everything) == 1
    assert len(github_server.requests_to("issues/list-for-repo")) == 3
    labelled = [i.title for i in repo.get_issues(state="open", labels=["sitrep"])]
    assert sorted(labelled) == ["issue 1", "issue 3"]


def _github_error(call: Any) -> GithubException:
    with pytest.raises(GithubException) as err:
        call()
    return err.value


def test_github_rejects_what_github_rejects(github_server: GitHubFake) -> None:
    repo = _github(github_server).get_repo(REPOSITORY)
    missing = _github_error(lambda: repo.create_issue(title=""))
    assert (missing.status, missing.data["errors"]) == (
        422,
        [{"resource": "Issue", "code": "missing_field", "field": "title"}],
    )
    too_long = _github_error(lambda: repo.create_issue(title="t", body="x" * 65_537))
    assert too_long.data["errors"][0]["message"] == "body is too long (maximum is 65536 characters)"
    issue = repo.create_issue(title="t", body="x" * 65_536)
    assert _github_error(lambda: issue.create_comment("y" * 65_537)).status == 422
    repo.create_label("sitrep", "d73a4a")
    duplicate = _github_error(lambda: repo.create_label("sitrep", "d73a4a"))
    assert duplicate.data["errors"][0]["code"] == "already_exists"
    assert _github_error(lambda: repo.get_label("nope")).status == 404
    assert _github_error(lambda: _github(github_server).get_repo("acme/missing")).status == 404
    bad = _github_error(lambda: _github(github_server, token="ghp_wrong").get_repo(REPOSITORY))
    assert (bad.status, bad.data["message"]) == (401, "Bad credentials")


def test_github_rate_limit_headers_and_faults(github_server: GitHubFake) -> None:
    client = _github(github_server, retry=GithubRetry(total=2, backoff_factor=0))
    github_server.fail_next("repos/get", status=502)
    repo = client.get_repo(REPOSITORY)  # retried by urllib3 after the 502
    remaining, limit = client.rate_limiting
    assert (limit, remaining) == (5000, 4998)

    github_server.secondary_rate_limit_next("issues/create", retry_after_seconds=60)
    no_retry = _github(github_server).get_repo(REPOSITORY)
    limited = _github_error(lambda: no_retry.create_issue(title="t"))
    assert limited.status == 403 and "secondary rate limit" in limited.data["message"]
    assert limited.headers is not None and limited.headers["retry-after"] == "60"
    github_server.primary_rate_limit_next("issues/create")
    primary = _github_error(lambda: no_retry.create_issue(title="t"))
    assert primary.headers is not None and primary.headers["x-ratelimit-remaining"] == "0"
    github_server.fail_next("issues/create", status=429)
    throttled = _github_error(lambda: no_retry.create_issue(title="t"))
    assert throttled.status == 429 and throttled.headers is not None and throttled.headers["retry-after"] == "1"
    github_server.fail_next("issues/create", status=503)
    assert _github_error(lambda: no_retry.create_issue(title="t")).status == 503
    assert repo.create_issue(title="t").number == 2


def test_github_enterprise_path_prefix() -> None:
    with GitHubFake(path_prefix="/api/v3") as server:
        issue = _github(server).get_repo(REPOSITORY).create_issue(title="t")
        assert server.requests[-1].path == "/api/v3/repos/acme/shop/issues"
        assert issue.url.startswith(f"{server.url}/api/v3/")


# --- Cloud Logging ---------------------------------------------------------------------
def _entries() -> list[dict[str, Any]]:
    return [
        log_entry(f"event {i}", service=("checkout", "cart", "search")[i % 3],
                  severity=("ERROR", "WARNING", "INFO", "CRITICAL")[i % 4],
                  timestamp=f"2024-01-01T00:00:{i:02d}.123456789Z")
        for i in range(12)
    ]  # fmt: skip


def _list_entries(server: LoggingFake, **kwargs: Any) -> list[Any]:
    """Entries read by the real google-cloud-logging client over its HTTP transport (its API is untyped)."""
    credentials = AnonymousCredentials()  # type: ignore[no-untyped-call]
    options = {"api_endpoint": server.url}
    client = gcl.Client(project="test-project", credentials=credentials, _use_grpc=False, client_options=options)  # type: ignore[no-untyped-call]
    return list(client.list_entries(**kwargs))  # type: ignore[no-untyped-call]


def test_logging_client_lists_filtered_entries_newest_first_across_pages(logging_server: LoggingFake) -> None:
    logging_server.add_entries(_entries())
    query = (
        'resource.type="cloud_run_revision" AND (resource.labels.service_name="checkout" OR '
        'resource.labels.service_name="cart") AND severity>=ERROR AND timestamp>="2024-01-01T00:00:01Z" '
        'AND timestamp<="2024-01-01T00:00:10Z" AND sample(insertId, 0.5)'
    )
    entries = _list_entries(
        logging_server,
        resource_names=["projects/test-project"],
        filter_=query,
        order_by=gcl.DESCENDING,
        page_size=2,
        max_results=10,
    )
    got = [(e.payload, e.severity) for e in entries]

    assert got == [("event 7", "CRITICAL"), ("event 4", "ERROR"), ("event 3", "CRITICAL")]
    assert len(logging_server.requests_to("entries.list")) == 2
    assert set(logging_server.ignored_filter_terms) == {"sample(insertId, 0.5)"}
    assert logging_server.filters[0] == query


def test_logging_client_keeps_paging_through_empty_pages(logging_server: LoggingFake) -> None:
    logging_server.add_entries(_entries()[:3])
    logging_server.serve_empty_pages(2)
    entries = _list_entries(logging_server, filter_='timestamp>="2024-01-01T00:00:00Z"')
    assert [e.payload for e in entries] == ["event 0", "event 1", "event 2"]
    assert len(logging_server.requests) == 3


def test_logging_rejects_oversized_pages_and_reports_quota(logging_server: LoggingFake) -> None:
    with pytest.raises(gexc.BadRequest, match="pageSize"):
        _list_entries(logging_server, filter_='timestamp>="2024-01-01T00:00:00Z"', page_size=1001)
    logging_server.rate_limit_next()
    with pytest.raises(gexc.TooManyRequests):
        _list_entries(logging_server, filter_='timestamp>="2024-01-01T00:00:00Z"')


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"filter": "severity>=ERROR"}, "resourceNames"),
        ({"resourceNames": ["projects/p"], "maxResults": 5}, 'Unknown name "maxResults"'),
        ({"resourceNames": ["projects/p"], "orderBy": "severity"}, "orderBy"),
        ({"resourceNames": ["projects/p"], "filter": "severity>=(ERROR"}, "Unparseable filter"),
        ({"resourceNames": ["projects/p"], "pageToken": "bogus"}, "page token"),
    ],
)
def test_logging_rejects_malformed_requests_with_google_errors(
    logging_server: LoggingFake, body: dict[str, Any], message: str
) -> None:
    request = urllib.request.Request(
        f"{logging_server.url}/v2/entries:list", data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"}, method="POST",
    )  # fmt: skip
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(request, timeout=5)
    error = json.loads(err.value.read())["error"]
    assert (err.value.code, error["status"]) == (400, "INVALID_ARGUMENT")
    assert message in error["message"]


FILTER_CASES = [
    ("severity>=WARNING", {"severity": "ERROR"}, True),
    ("severity>=WARNING", {"severity": "INFO"}, False),
    (
        'resource.type="a" OR resource.type="b" AND severity=ERROR',
        {"resource": {"type": "b"}, "severity": "INFO"},
        False,
    ),
    ('resource.type=("a" OR "b")', {"resource": {"type": "b"}}, True),
    ('NOT textPayload:"memory"', {"textPayload": "Memory limit of 512 MiB exceeded"}, False),
    ('-textPayload:"probe"', {"textPayload": "Memory limit"}, True),
    ('textPayload=~"exit\\\\(\\\\d+\\\\)"', {"textPayload": "Container called exit(1)."}, True),
    ("httpRequest.status>=500", {"httpRequest": {"status": 503}}, True),
    ('timestamp>="2024-01-01T00:00:00.000000+0000"', {"timestamp": "2024-01-01T00:00:00.5Z"}, True),
    ('timestamp<"2024-01-01T01:00:00+01:00"', {"timestamp": "2024-01-01T00:00:00.5Z"}, False),
    ('labels.instanceId="abc"', {}, False),
]


@pytest.mark.parametrize(("query", "entry", "expected"), FILTER_CASES)
def test_logging_filter_evaluator(query: str, entry: dict[str, Any], expected: bool) -> None:
    tree, _ = parse_filter(query)
    assert matches(tree, entry) is expected


# --- Cloud Monitoring -------------------------------------------------------------------
END = datetime(2024, 1, 1, 0, 30, tzinfo=UTC)
MINUTES = [(END - timedelta(minutes=m), 10 + m) for m in range(5)]
FULL = cast(monitoring_v3.ListTimeSeriesRequest.TimeSeriesView, monitoring_v3.ListTimeSeriesRequest.TimeSeriesView.FULL)


@pytest.fixture
def metrics(monitoring_server: MonitoringFake) -> Iterator[monitoring_v3.MetricServiceClient]:
    monitoring_server.add_series(
        request_count_series("checkout", "5xx", MINUTES),
        request_count_series("checkout", "2xx", MINUTES, revision="checkout-00002-new"),
        request_count_series("cart", "5xx", MINUTES),
        log_metric_series("oom", MINUTES, service="checkout"),
    )
    with monitoring_server.metric_client() as client:  # closes the channel before the server stops
        yield client


def _list(client: monitoring_v3.MetricServiceClient, query: str, **request: Any) -> list[monitoring_v3.TimeSeries]:
    interval = monitoring_v3.TimeInterval(start_time=END - timedelta(minutes=30), end_time=END)
    body = {"name": "projects/test-project", "filter": query, "interval": interval, "view": FULL}
    body.update(request)
    return list(client.list_time_series(request=body, retry=None, timeout=5))


def test_monitoring_lists_series_by_metric_type_and_service(metrics: monitoring_v3.MetricServiceClient) -> None:
    series = _list(metrics, f'metric.type="{REQUEST_COUNT}" AND resource.labels.service_name="checkout"')
    assert sorted(s.metric.labels["response_code_class"] for s in series) == ["2xx", "5xx"]
    assert [p.value.int64_value for p in series[0].points] == [10, 11, 12, 13, 14]  # newest first
    oom = _list(metrics, 'metric.type="logging.googleapis.com/user/sitrep/oom"')
    assert oom[0].resource.labels["service_name"] == "checkout"


def test_monitoring_sums_across_series_when_asked(metrics: monitoring_v3.MetricServiceClient) -> None:
    aggregation = monitoring_v3.Aggregation(
        alignment_period={"seconds": 1800},
        per_series_aligner=monitoring_v3.Aggregation.Aligner.ALIGN_DELTA,
        cross_series_reducer=monitoring_v3.Aggregation.Reducer.REDUCE_SUM,
        group_by_fields=["resource.label.service_name", "metric.label.response_code_class"],
    )
    series = _list(metrics, f'metric.type="{REQUEST_COUNT}"', aggregation=aggregation)
    totals = {
        (s.resource.labels["service_name"], s.metric.labels["response_code_class"]): s.points[0].value.int64_value
        for s in series
    }
    assert totals == {("checkout", "5xx"): 60, ("checkout", "2xx"): 60, ("cart", "5xx"): 60}


def test_monitoring_pages_by_page_size(
    metrics: monitoring_v3.MetricServiceClient, monitoring_server: MonitoringFake
) -> None:
    assert len(_list(metrics, f'metric.type="{REQUEST_COUNT}"', page_size=1)) == 3
    assert [bool(c.request.page_token) for c in monitoring_server.requests_to("ListTimeSeries")] == [False, True, True]


@pytest.mark.parametrize(
    ("request_fields", "error"),
    [
        ({"filter": 'resource.labels.service_name="checkout"'}, gexc.InvalidArgument),
        ({"name": "projects/someone-else"}, gexc.PermissionDenied),
        ({"aggregation": {"cross_series_reducer": "REDUCE_SUM"}}, gexc.InvalidArgument),
    ],
)
def test_monitoring_rejects_bad_requests(
    metrics: monitoring_v3.MetricServiceClient, request_fields: dict[str, Any], error: type[Exception]
) -> None:
    with pytest.raises(error):
        _list(metrics, f'metric.type="{REQUEST_COUNT}"', **request_fields)


@pytest.mark.parametrize(
    ("code", "error"),
    [
        (grpc.StatusCode.UNAVAILABLE, gexc.ServiceUnavailable),
        (grpc.StatusCode.PERMISSION_DENIED, gexc.PermissionDenied),
        (grpc.StatusCode.DEADLINE_EXCEEDED, gexc.DeadlineExceeded),
    ],
)
def test_monitoring_injected_status_codes(
    metrics: monitoring_v3.MetricServiceClient,
    monitoring_server: MonitoringFake,
    code: grpc.StatusCode,
    error: type[Exception],
) -> None:
    monitoring_server.fail_next("ListTimeSeries", code=code)
    with pytest.raises(error):
        _list(metrics, f'metric.type="{REQUEST_COUNT}"')
    assert _list(metrics, f'metric.type="{REQUEST_COUNT}"')  # the fault was used up


def test_monitoring_delay_trips_the_client_deadline(
    metrics: monitoring_v3.MetricServiceClient, monitoring_server: MonitoringFake
) -> None:
    monitoring_server.delay_next("ListTimeSeries", 2.0)
    started = time.monotonic()
    with pytest.raises(gexc.DeadlineExceeded):
        pager = metrics.list_time_series(
            name="projects/test-project",
            filter=f'metric.type="{REQUEST_COUNT}"',
            interval=monitoring_v3.TimeInterval(end_time=END),
            view=FULL,
            retry=None,
            timeout=0.2,
        )
        list(pager)
    assert time.monotonic() - started < 1.0


def test_monitoring_snoozes(monitoring_server: MonitoringFake) -> None:
    snooze = monitoring_v3.Snooze(
        display_name="sitrep: ack inc-1",
        criteria=monitoring_v3.Snooze.Criteria(policies=["projects/test-project/alertPolicies/123"]),
        interval=monitoring_v3.TimeInterval(start_time=END, end_time=END + timedelta(hours=1)),
    )
    channel = grpc.insecure_channel(monitoring_server.address)
    with monitoring_v3.SnoozeServiceClient(transport=SnoozeServiceGrpcTransport(channel=channel)) as client:
        created = client.create_snooze(parent="projects/test-project", snooze=snooze, retry=None, timeout=5)
        with pytest.raises(gexc.InvalidArgument):
            client.create_snooze(
                parent="projects/test-project", snooze=monitoring_v3.Snooze(display_name="x"), timeout=5
            )

    assert created.name == "projects/test-project/snoozes/1"
    assert [s.display_name for s in monitoring_server.snoozes] == ["sitrep: ack inc-1"]
