"""What an outage means, stated as rules that must hold for outages nobody here has seen.

Requests stay requests whatever their URL says; weak cues and client errors never stand as a root;
one fix is said once; a failure that began mid-window is judged from when it began; one client's
4xx are that client's business; a job is judged by its runs; a spike without a failure says so
and names the one exclusion to add to its policy.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from functions.adapters.cloud_logging import build_filter
from functions.adapters.cloud_monitoring import CloudMonitoringSource
from functions.analysis.health import HealthThresholds, judge_service
from functions.analysis.nofailure import explain_no_failure, literal_of
from functions.analysis.requests import TARGET_PLACEHOLDER, classification_text, is_request
from functions.analysis.rootcause import SignatureInfo, diagnose
from functions.core.model import (
    Alert,
    AlertState,
    Category,
    ClientErrors,
    ConditionKind,
    Health,
    JobStats,
    LogRecord,
    Priority,
    RequestStats,
    ServiceHealth,
    Severity,
    Template,
)
from functions.intake.evidence import record_from_entry
from functions.intake.metrics import job_stats_from_series, metric_prefix, series_from_document, stats_from_series
from tests.builders import T0, at, failure
from tests.fakes.cloud_monitoring import MonitoringFake, log_metric_series, request_count_series

C = Category
T = HealthThresholds()


# --- a request is a request ---------------------------------------------------------------------

def request(url: str, status: int, message: str = "") -> LogRecord:
    path = url.split("://", 1)[-1].partition("/")[2]
    return LogRecord(timestamp=T0, severity="WARNING", message=message or f"GET /{path.partition('?')[0]} {status}",
                     http_status=status, http_method="GET", http_url=url)


@pytest.mark.parametrize(
    "record",
    [
        request("https://api.example.com/Cannot%20find%20module%20'x'", 404),
        request("https://api.example.com/error?msg=OutOfMemoryError", 404,
                message="GET /error?msg=OutOfMemoryError 404"),
        LogRecord(timestamp=T0, severity="DEFAULT",
                  message='INFO: 10.0.0.1:1 - "GET /Cannot find module \'x\' HTTP/1.1" 404 Not Found'),
    ],
)
def test_the_classifier_never_sees_what_a_request_asked_for(record: LogRecord) -> None:
    text = classification_text(record)
    assert is_request(record)
    assert TARGET_PLACEHOLDER in text
    assert "module" not in text and "OutOfMemory" not in text


def test_a_platform_message_on_a_request_log_is_kept_and_an_error_line_is_no_request() -> None:
    platform = request("https://svc.run.app/checkout", 503,
                       message="The request failed because the instance could not start successfully.")
    assert classification_text(platform) == platform.message
    nginx = LogRecord(timestamp=T0, severity="ERROR", message=(
        'upstream timed out (110: Connection timed out) while reading response header from upstream, '
        'request: "GET /api/orders HTTP/1.1", upstream: "fastcgi://127.0.0.1:9000"'))
    assert not is_request(nginx)
    assert classification_text(nginx) == nginx.message


# --- roots only from lines that could have caused the outage ------------------------------------

INFO = {
    "db-down": SignatureInfo(frozenset({C.APPLICATION, C.CONTAINER_STARTUP}), Priority.P1, "Fix the database {host}"),
    "crash": SignatureInfo(frozenset({C.APPLICATION}), Priority.P1, "Fix the crash before exit({exit_code})"),
    "http-5xx": SignatureInfo(frozenset(), Priority.P1, "Correlate the failing requests with the logs"),
    "word-error": SignatureInfo(frozenset({C.APPLICATION}), Priority.P1, "Read the error"),
    "http-404": SignatureInfo(frozenset(), Priority.P2, "Check the calling clients"),
}


def test_a_weak_cue_alone_is_never_a_root() -> None:
    weak = replace(failure("word-error", C.APPLICATION, 50, "api"), weak=True)
    assert diagnose([weak], INFO).root_causes == ()


def test_requests_answered_with_client_errors_are_never_a_root() -> None:
    probes = replace(failure("http-404", C.APPLICATION, 200, "api"), client_errors=200)
    diagnosis = diagnose([probes], INFO)
    assert diagnosis.root_causes == () and diagnosis.contributing == ()
    assert diagnosis.actions == ()


def test_symptoms_a_root_explains_get_no_action_of_their_own() -> None:
    failures = [
        failure("db-down", C.DATABASE, 20, "api", first=1, entities={"host": ("10.0.0.5",)}),
        failure("crash", C.CONTAINER_STARTUP, 30, "api", first=2, entities={"exit_code": ("3",)}),
        failure("http-5xx", C.APPLICATION, 400, "api", first=2),
    ]
    texts = [a.text for a in diagnose(failures, INFO).actions]
    assert texts == ["Fix the database 10.0.0.5"]


def test_the_fix_of_a_root_behind_a_degraded_service_is_p0_whatever_the_signature_says() -> None:
    health = [ServiceHealth("api", Health.DEGRADED, ("12% 5xx",))]
    actions = diagnose([failure("db-down", C.DATABASE, 20, "api")], INFO, health).actions
    assert [a.priority for a in actions] == [Priority.P0]


def test_one_dependency_failing_two_services_is_one_root_led_by_the_most_hurt() -> None:
    shared = {"host": ("proj:region:pg",)}
    failures = [failure("db-down", C.DATABASE, 3, "admin", first=0, entities=shared),
                failure("db-down", C.DATABASE, 70, "web", first=9, entities=shared)]
    health = [ServiceHealth("web", Health.FAILING, ("55% 5xx",)), ServiceHealth("admin", Health.DEGRADED, ("7% 5xx",))]
    roots = diagnose(failures, INFO, health).root_causes
    assert [(r.service, r.category) for r in roots] == [("web", C.DATABASE)]
    assert any("admin" in step for step in roots[0].chain)


def test_the_same_failure_starting_apart_in_two_services_stays_two_roots() -> None:
    failures = [failure("db-down", C.DATABASE, 30, "a", first=0), failure("db-down", C.DATABASE, 30, "b", first=20)]
    assert len(diagnose(failures, INFO).root_causes) == 2


# --- health -------------------------------------------------------------------------------------

def minute(n: float) -> int:
    return int(at(n).timestamp()) // 60


def test_a_failure_that_began_mid_window_is_judged_from_when_it_began() -> None:
    total = {minute(m): 100 for m in range(45)}
    failed = {minute(m): 85 for m in range(24, 45)}
    judged = judge_service("ledger", RequestStats("ledger", {"2xx": 2715, "5xx": 1785}, "metrics",
                                                  by_minute_total=total, by_minute_failed=failed), (), T)
    assert judged.status is Health.FAILING
    assert judged.reasons[0].startswith("85% failed since 01:24 UTC (1785/2100 requests)")


def test_a_steady_partial_failure_stays_degraded() -> None:
    total = {minute(m): 100 for m in range(45)}
    failed = {minute(m): 25 for m in range(45)}
    judged = judge_service("cart", RequestStats("cart", {"2xx": 3375, "5xx": 1125}, "metrics",
                                                by_minute_total=total, by_minute_failed=failed), (), T)
    assert judged.status is Health.DEGRADED


def four_xx(clients: dict[str, ClientErrors], logged: int) -> RequestStats:
    return RequestStats("api", {"2xx": 600, "4xx": 400}, "metrics", by_status={200: 600, 404: 200, 401: 200},
                        clients_4xx=clients, logged_4xx=logged)


@pytest.mark.parametrize(
    ("clients", "expected"),
    [
        # one scanner refused on many paths: answers to a client, not a failing server
        ({"ip 203.0.113.7": ClientErrors(95, 0, tuple(f"/p{i}" for i in range(20)))}, Health.HEALTHY),
        # one caller whose token is refused: its credentials, not the server
        ({"agent billing/1.0": ClientErrors(95, 95, ("/rates",))}, Health.HEALTHY),
        # one client refused again and again on one endpoint it relies on: the server may have changed
        ({"agent uptime-check": ClientErrors(95, 0, ("/health",))}, Health.DEGRADED),
        # refusals spread over many clients: the server's contract changed
        ({f"ip 198.51.100.{i}": ClientErrors(5, 0, ("/v1/orders",)) for i in range(19)}, Health.DEGRADED),
    ],
)
def test_four_xx_hurt_the_server_only_when_they_are_not_one_clients_business(
    clients: dict[str, ClientErrors], expected: Health
) -> None:
    assert judge_service("api", four_xx(clients, 100), (), T).status is expected


def test_a_job_is_judged_by_its_runs_not_by_requests() -> None:
    failed = judge_service("export", None, (), T, job=JobStats("export", executions_failed=1, attempts_failed=24))
    assert failed.status is Health.FAILING
    assert failed.reasons == ("1/1 execution failed", "24/24 task attempts failed")
    fine = judge_service("rollup", None, (), T, job=JobStats("rollup", executions_succeeded=3, attempts_succeeded=6))
    assert fine.status is Health.HEALTHY


# --- Cloud Run jobs are services -------------------------------------------------------------------

def test_a_job_log_entry_is_read_as_the_jobs_service() -> None:
    record = record_from_entry({
        "resource": {"type": "cloud_run_job", "labels": {"job_name": "nightly-export", "location": "eu"}},
        "labels": {"run.googleapis.com/execution_name": "nightly-export-7hq2d"},
        "textPayload": "Container called exit(1).", "severity": "WARNING",
    })
    assert (record.service, record.revision, record.text_field) == ("nightly-export", "", "textPayload")


def test_the_logging_filter_reads_jobs_as_well_as_services() -> None:
    query = build_filter(["nightly-export"], T0, at(30))
    assert '(resource.type="cloud_run_revision" OR resource.type="cloud_run_job")' in query
    assert 'resource.labels.job_name="nightly-export"' in query
    assert 'resource.labels.service_name="nightly-export"' in query


def test_job_metrics_count_runs_and_request_metrics_keep_their_minutes() -> None:
    document = {"timeSeries": [
        {"metric": {"type": "run.googleapis.com/job/completed_execution_count", "labels": {"result": "failed"}},
         "resource": {"type": "cloud_run_job", "labels": {"job_name": "export"}},
         "points": [{"interval": {"endTime": "2025-09-16T01:07:00Z"}, "value": {"int64Value": "1"}}]},
        {"metric": {"type": "run.googleapis.com/request_count", "labels": {"response_code": "503"}},
         "resource": {"type": "cloud_run_revision", "labels": {"service_name": "api"}},
         "points": [{"interval": {"startTime": "2025-09-16T01:05:00Z", "endTime": "2025-09-16T01:06:00Z"},
                     "value": {"int64Value": "7"}}]},
    ]}
    series = list(series_from_document(document))
    assert job_stats_from_series(series) == {"export": JobStats("export", executions_failed=1)}
    api = stats_from_series(series)["api"]
    assert api.by_minute_total == {minute(5): 7} and api.by_minute_failed == {minute(5): 7}


# --- a spike without a failure ------------------------------------------------------------------

def alert(policy: str, condition_filter: str = "") -> Alert:
    return Alert(incident_id="0.x", state=AlertState.OPEN, policy_name=policy, condition_name="c",
                 condition_kind=ConditionKind.THRESHOLD, project_id="p", started_at=T0, ended_at=None,
                 severity=Severity.WARNING, condition_filter=condition_filter)


def template(tid: str, text: str, count: int, loud: int, category: Category = C.NOISE,
             field: str = "jsonPayload.message") -> Template:
    return Template(tid, text, count, category, "sig-" + tid, ("api",), T0, at(10), text_field=field, loud=loud)


def test_a_spike_of_notices_names_the_loud_ones_and_excludes_them_from_the_named_policy() -> None:
    templates = [
        template("a", "file_cache is only supported with oauth2client<4.0.0", 233, loud=0),
        template("b", "Container Sandbox: Unsupported syscall <*>. It is very likely that you can safely ignore",
                 80, loud=80, field="textPayload"),
        template("c", 'Overriding of current TracerProvider is not allowed', 64, loud=64),
    ]
    failures = [failure("sig-b", C.NOISE, 80, "api", severity=Severity.WARNING)]
    healthy = [ServiceHealth("api", Health.HEALTHY, ("0% 5xx",))]
    verdict = explain_no_failure([alert('api warnings "staging"')], healthy, failures, templates, {})
    assert verdict is not None
    assert verdict.summary.startswith("No failure found: the alert fired on notices that are not failures (80 × ")
    assert verdict.action.text.startswith('Add to the filter of policy "api warnings \\"staging\\"": '
                                          'NOT textPayload:"Container Sandbox: Unsupported syscall" AND NOT '
                                          'jsonPayload.message:"Overriding of current TracerProvider is not allowed"')
    assert "file_cache" not in verdict.action.text  # logged at INFO: not what a warning alert counted


def test_a_failure_anywhere_means_there_is_no_such_verdict() -> None:
    healthy = [ServiceHealth("api", Health.HEALTHY, ("0% 5xx",))]
    db = failure("db-down", C.DATABASE, 3, "api")
    assert explain_no_failure([alert("p")], healthy, [db], [template("a", "notice text long enough", 9, 9)], {}) is None
    degraded = [ServiceHealth("api", Health.DEGRADED, ("12% 5xx",))]
    assert explain_no_failure([alert("p")], degraded, [], [template("a", "notice text long enough", 9, 9)], {}) is None


def test_a_client_error_spike_names_the_client_the_status_and_its_paths() -> None:
    probes = replace(failure("http-404", C.APPLICATION, 208, "api", severity=Severity.WARNING), client_errors=208)
    stats = {"api": RequestStats(
        "api", {"2xx": 6708, "4xx": 4374}, "metrics", by_status={200: 6708, 404: 4117, 405: 257},
        clients_4xx={"ip 203.0.113.77": ClientErrors(208, 0, ("/.env", "/wp-login.php", "/.git/config")),
                     "agent Nuclei": ClientErrors(208, 0, ("/.env",))},
        logged_4xx=220)}
    verdict = explain_no_failure([alert("api 4xx", 'metric.type="run.googleapis.com/request_count"')],
                                 [ServiceHealth("api", Health.HEALTHY, ())], [probes], [], stats)
    assert verdict is not None
    assert "client errors (4,117 × 404 from api" in verdict.summary
    assert 'NOT (httpRequest.remoteIp="203.0.113.77" AND httpRequest.status>=400' in verdict.action.text
    assert "/.env, /wp-login.php, /.git/config" in verdict.action.text


def test_the_text_that_names_a_template_is_its_first_phrase() -> None:
    text = "<*>: UserWarning: Your application has authenticated using end user credentials <*>"
    assert literal_of(template("x", text, 1, 1)) == (
        "UserWarning: Your application has authenticated using end user credentials")


def test_the_monitoring_adapter_keeps_when_requests_failed(monitoring_server: MonitoringFake) -> None:
    """Through the real client and a gRPC server: per-minute points survive, so health sees the onset."""
    ok = [(at(m + 1), 100 if m < 20 else 10) for m in range(30)]
    failing = [(at(m + 1), 90) for m in range(20, 30)]
    monitoring_server.add_series(
        request_count_series("ledger", "2xx", ok),
        request_count_series("ledger", "5xx", failing),
    )
    source = CloudMonitoringSource(endpoint=monitoring_server.address)
    result = source.read(monitoring_server.project, ["ledger"], T0, at(30))
    assert not result.error, result.error
    stats = result.request_stats["ledger"]
    assert stats.by_minute_failed == {minute(m): 90 for m in range(20, 30)}
    assert judge_service("ledger", stats, (), T).status is Health.FAILING


def test_a_second_instance_reads_the_counts_of_its_own_log_based_metrics(monitoring_server: MonitoringFake) -> None:
    """Two module instances in one project: each reads `<its name_prefix>/<signature>`, never the other's."""
    minutes = [(at(m + 1), 3) for m in range(10)]
    monitoring_server.add_series(
        log_metric_series("db-connection-timeout", minutes, service="ledger", prefix=metric_prefix("ops-two")),
        log_metric_series("db-connection-timeout", [(at(1), 500)], service="ledger", prefix=metric_prefix()),
    )
    source = CloudMonitoringSource(endpoint=monitoring_server.address, prefix=metric_prefix("ops-two"))
    result = source.read(monitoring_server.project, ["ledger"], T0, at(30))
    assert not result.error, result.error
    assert [(c.signature, c.service, c.count) for c in result.metric_counts] == [
        ("db-connection-timeout", "ledger", 30)
    ]


def test_the_same_failure_naming_different_things_at_once_stays_separate_roots() -> None:
    failures = [failure("db-down", C.DATABASE, 30, "a", first=0, entities={"host": ("10.0.0.1",)}),
                failure("db-down", C.DATABASE, 30, "b", first=0.5, entities={"host": ("10.0.0.2",)})]
    assert len(diagnose(failures, INFO).root_causes) == 2


def test_each_services_root_names_what_failed_in_that_service() -> None:
    info = {"missing": SignatureInfo(frozenset(), Priority.P0, "Ship '{module}'", summary="missing module '{module}'")}
    missing = replace(
        failure("missing", C.DEPENDENCY_MISSING, 6, counts_by_service={"a": 3, "b": 3}),
        entities={"module": ("mod_a", "mod_b")},
        entities_by_service={"a": {"module": ("mod_a",)}, "b": {"module": ("mod_b",)}},
        first_seen_by_service={"a": at(0), "b": at(0.2)},
    )
    diagnosis = diagnose([missing], info)
    assert sorted((r.service, r.summary) for r in diagnosis.root_causes) == [
        ("a", "missing module 'mod_a'"), ("b", "missing module 'mod_b'")]
    assert sorted(a.text for a in diagnosis.actions) == ["Ship 'mod_a'", "Ship 'mod_b'"]
