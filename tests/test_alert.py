"""parse_alert: every envelope and quirk of Monitoring's Pub/Sub notifications (schema 1.2) becomes one Alert."""

from __future__ import annotations

import base64
import copy
import json
import pickle
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from functions.card.incident import with_group_environment
from functions.core.errors import (
    AlertError,
    ConfigError,
    DeliveryError,
    EvidenceError,
    InputError,
    PermanentDeliveryError,
    SitrepError,
    TransientDeliveryError,
)
from functions.core.model import AlertState, ConditionKind, Severity
from functions.intake.alert import MAX_PAYLOAD_BYTES, decode_cloudevent_data, parse_alert

FIXTURES = Path(__file__).parent / "fixtures" / "alerts"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return data


def b64(document: Any) -> str:
    raw = document if isinstance(document, bytes) else json.dumps(document).encode()
    return base64.b64encode(raw).decode()


def notification(**incident: Any) -> dict[str, Any]:
    """The Cloud Run threshold fixture with some incident fields replaced (None deletes a field)."""
    document = load("threshold-open-cloudrun.json")
    for key, value in incident.items():
        if value is None:
            document["incident"].pop(key, None)
        else:
            document["incident"][key] = value
    return document


def at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


# --- every recorded shape ---------------------------------------------------------------------

SHAPES = {
    # fixture: (incident_id, state, kind, severity, project, environment, services, started, ended, is_test)
    "threshold-open-cloudrun.json": (
        "0.n4k2q8v1z7xe", AlertState.OPEN, ConditionKind.THRESHOLD, Severity.CRITICAL,
        "shop-staging-7f3k", "shop-staging-7f3k", ("checkout", "payments"), at(1757986937), None, False,
    ),
    "threshold-closed-cloudrun.json": (
        "0.n4k2q8v1z7xe", AlertState.CLOSED, ConditionKind.THRESHOLD, Severity.ERROR,
        "shop-staging-7f3k", "shop-staging-7f3k", ("checkout", "payments"), at(1757986937), at(1757988917), False,
    ),
    "logmatch-open-cloudrun.json": (
        "0.p9c3m5w2h6ry", AlertState.OPEN, ConditionKind.LOG_MATCH, Severity.ERROR,
        "shop-prod-2b8d", "shop-prod-2b8d", ("auth-api",), at(1757990405), None, False,
    ),
    "promql-open.json": (
        "0.w8e1r4t7y0ui", AlertState.OPEN, ConditionKind.PROMQL, Severity.WARNING,
        "shop-prod-2b8d", "shop-prod-2b8d", ("orders-worker",), at(1757991022), None, False,
    ),
    "test-notification.json": (
        "24680", AlertState.OPEN, ConditionKind.THRESHOLD, Severity.ERROR,
        "24680", "24680", (), None, None, True,
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(SHAPES))
@pytest.mark.parametrize("form", ["bytes", "str", "mapping"])
def test_every_notification_shape_parses(name: str, form: str) -> None:
    text = (FIXTURES / name).read_text(encoding="utf-8")
    payload: Any = {"bytes": text.encode(), "str": text, "mapping": json.loads(text)}[form]
    alert = parse_alert(payload)
    incident_id, state, kind, severity, project, environment, services, started, ended, is_test = SHAPES[name]
    assert (alert.incident_id, alert.state) == (incident_id, state)
    assert (alert.condition_kind, alert.severity) == (kind, severity)
    assert (alert.project_id, alert.environment, alert.services) == (project, environment, services)
    assert (alert.started_at, alert.ended_at, alert.is_test) == (started, ended, is_test)
    assert alert.message_id == "" and alert.published_at is None


ENVELOPES = {
    # fixture: (the notification it carries, messageId, publishTime)
    "cloudevent-structured.json": (
        "threshold-open-cloudrun.json", "16170839211432751", datetime(2025, 9, 16, 1, 42, 19, 377000, UTC),
    ),
    "cloudevent-data-binary-mode.json": (
        "logmatch-open-cloudrun.json", "9914002377310245", datetime(2025, 9, 16, 2, 40, 6, 918263, UTC),
    ),
    "pubsub-push-body.json": (
        "threshold-closed-cloudrun.json", "16170839211499902", datetime(2025, 9, 16, 2, 15, 18, 500000, UTC),
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(ENVELOPES))
def test_envelopes_unwrap_to_the_notification_they_carry(name: str) -> None:
    inner, message_id, published_at = ENVELOPES[name]
    alert = parse_alert((FIXTURES / name).read_bytes())
    assert alert == parse_alert(load(inner), message_id=message_id, published_at=published_at)


def test_explicit_message_id_and_publish_time_win_over_the_envelope() -> None:
    when = datetime(2030, 1, 1, tzinfo=UTC)
    alert = parse_alert(load("cloudevent-structured.json"), message_id="from-caller", published_at=when)
    assert (alert.message_id, alert.published_at) == ("from-caller", when)


def test_cloudevent_without_message_id_falls_back_to_the_event_id_and_time() -> None:
    event = load("cloudevent-structured.json")
    del event["data"]["message"]["messageId"], event["data"]["message"]["publishTime"]
    alert = parse_alert(event)
    assert alert.message_id == event["id"]
    assert alert.published_at == datetime(2025, 9, 16, 1, 42, 19, 377000, UTC)


@pytest.mark.parametrize(
    "make_event",
    [
        pytest.param(lambda doc: {"specversion": "1.0", "id": "1", "data": doc}, id="data-is-the-notification"),
        pytest.param(lambda doc: {"specversion": "1.0", "id": "1", "data": json.dumps(doc)}, id="data-as-json-text"),
        pytest.param(
            lambda doc: {"specversion": "1.0", "id": "1", "data_base64": b64({"message": {"data": b64(doc)}})},
            id="data_base64",
        ),
        pytest.param(lambda doc: {"message": {"data": b64(doc), "message_id": "1"}}, id="snake-case-only"),
        pytest.param(lambda doc: {"message": {"data": b64(doc).rstrip("=").replace("+", "-")}}, id="urlsafe-unpadded"),
        pytest.param(lambda doc: {"message": {"data": json.dumps(doc)}}, id="json-text-instead-of-base64"),
        pytest.param(lambda doc: {"message": {"data": json.dumps(doc).encode()}}, id="raw-bytes-from-protobuf"),
    ],
)
def test_other_envelope_spellings(make_event: Any) -> None:
    document = load("threshold-open-cloudrun.json")
    assert parse_alert(make_event(document)).incident_id == "0.n4k2q8v1z7xe"


def test_decode_cloudevent_data_reads_camel_and_snake_case() -> None:
    data = load("cloudevent-data-binary-mode.json")
    body, message_id, published_at = decode_cloudevent_data(data)
    assert json.loads(body) == load("logmatch-open-cloudrun.json")
    assert message_id == "9914002377310245"
    assert published_at == datetime(2025, 9, 16, 2, 40, 6, 918263, UTC)
    snake = {"message": {"data": data["message"]["data"], "message_id": "7", "publish_time": "2025-01-01T00:00:00Z"}}
    assert decode_cloudevent_data(snake)[1:] == ("7", datetime(2025, 1, 1, tzinfo=UTC))


@pytest.mark.parametrize("name", sorted([*SHAPES, *ENVELOPES]))
def test_parsing_never_mutates_the_input(name: str) -> None:
    document = load(name)
    before = copy.deepcopy(document)
    parse_alert(document)
    assert document == before


# --- quirks of §1.5 -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("documentation", "expected"),
    [
        ("Plain string documentation", "Plain string documentation"),
        ({"content": "Runbook: go/x", "mime_type": "text/markdown"}, "Runbook: go/x"),
        ({"subject": "[ALERT - Error] only a subject"}, "[ALERT - Error] only a subject"),
        ({}, ""),
    ],
)
def test_documentation_object_or_string(documentation: Any, expected: str) -> None:
    assert parse_alert(notification(documentation=documentation)).documentation == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (1757988917, at(1757988917)),
        (1757988917.5, datetime(2025, 9, 16, 2, 15, 17, 500000, UTC)),
        ("1757988917", at(1757988917)),
        ("2025-09-16T02:15:17Z", at(1757988917)),
        (0, None),
        ("0", None),
        ("null", None),
        ("", None),
        ("abc", None),
        (True, None),
        (-5, None),
        (10**20, None),
        ({"seconds": 1}, None),
    ],
)
def test_epoch_timestamps_become_utc_or_none(raw: Any, expected: datetime | None) -> None:
    alert = parse_alert(notification(started_at=raw, ended_at=raw, state="closed"))
    assert alert.started_at == expected and alert.ended_at == expected
    if expected is not None:
        assert alert.started_at is not None and alert.started_at.tzinfo is UTC


@pytest.mark.parametrize(
    ("state", "ended_at", "expected"),
    [
        ("open", None, AlertState.OPEN),
        ("OPEN", None, AlertState.OPEN),
        (" Closed ", 1757988917, AlertState.CLOSED),
        (None, None, AlertState.OPEN),
        (None, 1757988917, AlertState.CLOSED),
        ("", "null", AlertState.OPEN),
    ],
)
def test_state_in_any_case_or_inferred(state: str | None, ended_at: Any, expected: AlertState) -> None:
    alert = parse_alert(notification(state=state, ended_at=ended_at))
    assert alert.state is expected


@pytest.mark.parametrize(
    ("severity", "subject", "expected"),
    [
        ("CRITICAL", None, Severity.CRITICAL),
        ("critical", None, Severity.CRITICAL),
        ("Error", None, Severity.ERROR),
        ("WARNING", None, Severity.WARNING),
        ("Info", None, Severity.INFO),
        ("SEVERITY_WARNING", None, Severity.WARNING),
        ("no severity", None, Severity.ERROR),
        ("SEVERITY_UNSPECIFIED", None, Severity.ERROR),
        ("sev1", None, Severity.ERROR),
        (None, None, Severity.ERROR),
        (None, "[ALERT - Critical] checkout down", Severity.CRITICAL),
        ("no severity", "[ALERT - Warning] lag", Severity.WARNING),
        ("Warning", "[ALERT - Critical] the field wins", Severity.WARNING),
        (None, "[ALERT - No severity] x", Severity.ERROR),
    ],
)
def test_severity_mapping(severity: str | None, subject: str | None, expected: Severity) -> None:
    documentation = {"content": "x"} if subject is None else {"content": "x", "subject": subject}
    assert parse_alert(notification(severity=severity, documentation=documentation)).severity is expected


@pytest.mark.parametrize(
    ("key", "body", "kind", "condition_filter"),
    [
        ("conditionThreshold", {"filter": 'metric.type="a"'}, ConditionKind.THRESHOLD, 'metric.type="a"'),
        ("conditionAbsent", {"filter": 'metric.type="b"', "duration": "300s"}, ConditionKind.ABSENT, 'metric.type="b"'),
        ("conditionMatchedLog", {"filter": 'severity>=ERROR'}, ConditionKind.LOG_MATCH, "severity>=ERROR"),
        ("conditionPrometheusQueryLanguage", {"query": "up == 0"}, ConditionKind.PROMQL, "up == 0"),
        ("conditionMonitoringQueryLanguage", {"query": "fetch x"}, ConditionKind.MQL, "fetch x"),
        ("conditionSql", {"query": "SELECT 1"}, ConditionKind.SQL, "SELECT 1"),
        ("condition_matched_log", {"filter": "textPayload:x"}, ConditionKind.LOG_MATCH, "textPayload:x"),
        ("conditionSomethingNew", {"filter": "x"}, ConditionKind.THRESHOLD, ""),  # falls back on threshold_value
    ],
)
def test_condition_kind_is_the_key_present(key: str, body: Any, kind: ConditionKind, condition_filter: str) -> None:
    condition = {"name": "projects/p/alertPolicies/1/conditions/2", "displayName": "c", key: body}
    alert = parse_alert(notification(condition=condition))
    assert (alert.condition_kind, alert.condition_filter) == (kind, condition_filter)


@pytest.mark.parametrize(
    ("incident", "kind"),
    [
        ({"metric": {"type": "__missing__", "labels": {}}}, ConditionKind.PROMQL),
        ({"metric": {"type": ""}, "summary": "Log match condition fired for Cloud Run Revision with {}."},
         ConditionKind.LOG_MATCH),
        ({"threshold_value": "0.5"}, ConditionKind.THRESHOLD),
        ({}, ConditionKind.UNKNOWN),
    ],
)  # fmt: skip
def test_condition_kind_inferred_without_a_condition(incident: dict[str, Any], kind: ConditionKind) -> None:
    document = {"version": "1.2", "incident": {"incident_id": "1", "state": "open", **incident}}
    assert parse_alert(document).condition_kind is kind


@pytest.mark.parametrize("number", [482913075566, "482913075566", None])
def test_scoping_project_number_int_or_string(number: Any) -> None:
    assert parse_alert(notification(scoping_project_number=number)).project_id == "shop-staging-7f3k"


@pytest.mark.parametrize(
    ("incident", "expected"),
    [
        ({"scoping_project_id": "scoping", "resource": {"labels": {"project_id": "res"}}}, "scoping"),
        ({"resource": {"labels": {"project_id": "res"}}}, "res"),
        ({"condition": {"name": "projects/from-cond/alertPolicies/1/conditions/2"}}, "from-cond"),
        ({"policy_name": "projects/from-policy/alertPolicies/1"}, "from-policy"),
        ({}, ""),
    ],
)
def test_project_id_fallbacks(incident: dict[str, Any], expected: str) -> None:
    document = {"version": "1.2", "incident": {"incident_id": "1", "state": "open", **incident}}
    alert = parse_alert(document)
    assert alert.project_id == expected
    assert alert.environment == expected  # no env label: the project stands for the environment


@pytest.mark.parametrize(
    ("policy_labels", "user_labels", "group_labels", "expected"),
    [
        ({"env": "staging"}, {}, ("env", "environment"), "staging"),
        ({"environment": "prod"}, {"env": "ignored"}, ("env", "environment"), "prod"),
        ({"env": "staging", "environment": "prod"}, {}, ("env", "environment"), "staging"),
        # The configured label alone decides: neither `env` nor metadata.user_labels stand in for it.
        ({"env": "staging", "team": "payments"}, {}, ("team",), "payments"),
        ({"env": "staging"}, {}, ("team",), "shop-staging-7f3k"),
        ({}, {"env": "dev"}, ("env", "environment"), "shop-staging-7f3k"),
        ({"team": "x"}, {}, ("env", "environment"), "shop-staging-7f3k"),
    ],
)
def test_only_the_configured_group_label_names_the_environment(
    policy_labels: dict[str, str], user_labels: dict[str, str], group_labels: tuple[str, ...], expected: str
) -> None:
    document = notification(policy_user_labels=policy_labels, metadata={"user_labels": user_labels})
    assert with_group_environment(parse_alert(document), group_labels).environment == expected


SERVICE_FILTERS = [
    ('resource.labels.service_name="api"', ("api",)),
    ("resource.label.service_name = 'api'", ("api",)),
    ('resource.labels."service_name"="api"', ("api",)),
    ('metric.labels.service_name == "api"', ("api",)),
    ('resource.labels.service_name=one_of("api", "web")', ("api", "web")),
    ('resource.labels.function_name="send_mail"', ("send_mail",)),
    ('NOT resource.labels.service_name="api"', ()),
    ('-resource.labels.service_name="api"', ()),
    ('resource.labels.service_name!="api"', ()),
    ('resource.labels.service_name=~"api-.*"', ()),
    ('textPayload:"service_name"', ()),
]


@pytest.mark.parametrize(("condition_filter", "expected"), SERVICE_FILTERS)
def test_services_from_the_condition_filter(condition_filter: str, expected: tuple[str, ...]) -> None:
    document = {
        "incident": {
            "incident_id": "1",
            "condition": {"conditionMatchedLog": {"filter": condition_filter}},
        }
    }
    assert parse_alert(document).services == expected


@pytest.mark.parametrize(
    ("incident", "expected"),
    [
        ({"resource": {"labels": {"service_name": "a", "configuration_name": "ignored"}}}, ("a",)),
        ({"resource": {"labels": {"configuration_name": "cfg"}}}, ("cfg",)),
        ({"resource": {"labels": {"function_name": "fn"}}, "metric": {"labels": {"service_name": "m"}}}, ("m", "fn")),
        ({"metric": {"type": "__missing__", "labels": {"service_name": "__missing__"}}}, ()),
        ({"policy_user_labels": {"service": "one", "services": "two, three;one"}}, ("one", "two", "three")),
        (
            {
                "resource": {"labels": {"service_name": "a"}},
                "policy_user_labels": {"services": "b,a"},
                "condition": {"conditionThreshold": {"filter": 'resource.labels.service_name="c"'}},
            },
            ("a", "b", "c"),
        ),
    ],
)
def test_services_deduplicated_in_order(incident: dict[str, Any], expected: tuple[str, ...]) -> None:
    assert parse_alert({"incident": {"incident_id": "1", **incident}}).services == expected


def test_other_fields_carried_over() -> None:
    alert = parse_alert(load("threshold-open-cloudrun.json"))
    assert alert.policy_name == "checkout 5xx ratio"
    assert alert.condition_name == "5xx ratio above 5%"
    assert alert.resource_type == "cloud_run_revision"
    assert alert.url.startswith("https://console.cloud.google.com/monitoring/alerting/alerts/0.n4k2q8v1z7xe")
    assert alert.summary.endswith("with a value of 0.874.")
    assert alert.condition_filter.startswith('metric.type="run.googleapis.com/request_count"')
    assert alert.policy_labels == {"env": "staging", "services": "checkout,payments", "team": "storefront"}


def test_condition_name_falls_back_to_the_condition_display_name() -> None:
    alert = parse_alert(notification(condition_name=None))
    assert alert.condition_name == "5xx ratio above 5%"


def test_numeric_incident_id_is_kept_as_text() -> None:
    assert parse_alert({"incident": {"incident_id": 42}}).incident_id == "42"


# --- errors -----------------------------------------------------------------------------------


def push(data: Any) -> dict[str, Any]:
    return {"subscription": "projects/p/subscriptions/s", "message": {"data": data, "messageId": "1"}}


ERRORS = [
    pytest.param(b"\xff\xfe{}", "not_utf8", id="bytes-not-utf8"),
    pytest.param(b"<html>502 Bad Gateway</html>", "not_json", id="not-json"),
    pytest.param("", "not_json", id="empty-text"),
    pytest.param("[1, 2]", "not_object", id="json-array"),
    pytest.param('"a string"', "not_object", id="json-string"),
    pytest.param(42, "wrong_type", id="payload-an-int"),
    pytest.param({}, "no_incident", id="empty-object"),
    pytest.param({"version": "1.2"}, "no_incident", id="version-only"),
    pytest.param({"incident": "0.abc"}, "wrong_type", id="incident-a-string"),
    pytest.param({"incident": {}}, "no_incident_id", id="no-incident-id"),
    pytest.param({"incident": {"incident_id": "  "}}, "no_incident_id", id="blank-incident-id"),
    pytest.param({"incident": {"incident_id": ["x"]}}, "wrong_type", id="incident-id-a-list"),
    pytest.param({"incident": {"incident_id": True}}, "wrong_type", id="incident-id-a-bool"),
    pytest.param({"incident": {"incident_id": "1", "state": "acknowledged"}}, "bad_value", id="unknown-state"),
    pytest.param({"incident": {"incident_id": "1", "state": 1}}, "wrong_type", id="state-a-number"),
    pytest.param(push("%%% not base64 %%%"), "not_base64", id="data-not-base64"),
    pytest.param(push("abcde"), "not_base64", id="data-bad-base64-length"),
    pytest.param(push(b64(b"\x89PNG\r\n\x1a\n")), "not_utf8", id="data-binary-not-utf8"),
    pytest.param(push(b64(b"\x01\x02\x03\x04")), "not_json", id="data-control-bytes"),
    pytest.param(push(b64(b"test message 3")), "not_json", id="data-plain-text"),
    pytest.param(push(b64({"foo": "bar"})), "no_incident", id="data-other-json"),
    pytest.param(push(None), "no_data", id="data-missing"),
    pytest.param(push(""), "no_data", id="data-empty"),
    pytest.param(push(12), "wrong_type", id="data-a-number"),
    pytest.param({"message": "hello"}, "no_data", id="message-a-string"),
    pytest.param({"specversion": "1.0", "id": "1", "data": None}, "no_data", id="cloudevent-without-data"),
    pytest.param({"specversion": "1.0", "data_base64": "!!"}, "not_base64", id="cloudevent-data_base64-invalid"),
    pytest.param(b"{" + b" " * MAX_PAYLOAD_BYTES + b"}", "too_large", id="bytes-too-large"),
    pytest.param("{" + " " * MAX_PAYLOAD_BYTES + "}", "too_large", id="text-too-large"),
    pytest.param(push("A" * (MAX_PAYLOAD_BYTES * 2)), "too_large", id="data-too-large"),
]


@pytest.mark.parametrize(("payload", "reason"), ERRORS)
def test_bad_input_raises_alert_error_with_reason(payload: Any, reason: str) -> None:
    with pytest.raises(AlertError) as caught:
        parse_alert(payload)
    assert caught.value.reason == reason
    assert isinstance(caught.value, InputError) and isinstance(caught.value, SitrepError)
    assert 0 < len(str(caught.value)) <= 300


def test_error_messages_do_not_echo_the_payload() -> None:
    secret = "xoxb-1234567890-SECRETSECRETSECRET"
    payload = ("not json " + "x" * 500 + secret).encode()
    with pytest.raises(AlertError) as caught:
        parse_alert(payload)
    assert secret not in str(caught.value)
    assert "line 1 col 1" in str(caught.value)


def test_decode_cloudevent_data_rejects_a_missing_message() -> None:
    with pytest.raises(AlertError) as caught:
        decode_cloudevent_data({"subscription": "projects/p/subscriptions/s"})
    assert caught.value.reason == "no_data"


@pytest.mark.parametrize(
    ("error", "attributes"),
    [
        (AlertError("bad", reason="not_json"), {"reason": "not_json"}),
        (EvidenceError("logs.json", "line 2 col 3: Expecting value"), {"path": "logs.json"}),
        (TransientDeliveryError("429", surface="slack", retry_after=3.0), {"retryable": True, "retry_after": 3.0}),
        (PermanentDeliveryError("404", surface="github"), {"retryable": False, "surface": "github"}),
    ],
)
def test_errors_keep_their_attributes_through_pickling(error: SitrepError, attributes: dict[str, Any]) -> None:
    copied = pickle.loads(pickle.dumps(error))
    assert type(copied) is type(error) and str(copied) == str(error)
    assert {key: getattr(copied, key) for key in attributes} == attributes


def test_exception_tree() -> None:
    assert issubclass(AlertError, InputError) and issubclass(EvidenceError, InputError)
    assert issubclass(TransientDeliveryError, DeliveryError) and issubclass(PermanentDeliveryError, DeliveryError)
    assert all(issubclass(cls, SitrepError) for cls in (InputError, DeliveryError, ConfigError))
    assert not issubclass(DeliveryError, InputError)
