"""Parse a Cloud Monitoring notification, in whatever envelope it arrives, into an Alert.

Accepted shapes (Monitoring's Pub/Sub notification format): the notification itself (schema "1.2", or the
console's test notification, version "test"); a Pub/Sub CloudEvent in structured
form ({specversion, type, data: MessagePublishedData}); the CloudEvent `data`
alone (MessagePublishedData, as a binary-mode CloudEvent body carries it, with
camelCase and/or snake_case keys); a raw Pub/Sub push body ({subscription, message}).

Tolerated quirks (§1.5): `documentation` object or string; `ended_at` int, 0, null
or "null"; `state` in any case; `severity` in any case or "no severity";
`metric.type` "" or "__missing__"; `scoping_project_number` int or string; the
condition kind is read from whichever `condition*` key is present.

Decisions:
- Severity: critical/error/warning/info map to themselves in any case (also
  "SEVERITY_CRITICAL" style); when the policy sets none ("no severity",
  SEVERITY_UNSPECIFIED, absent, unknown) the "[ALERT - X]" prefix of
  documentation.subject is used if present, else ERROR: a policy that fired is
  something its owner wanted to hear about, and nothing says it is critical.
- Timestamps that are missing, 0, "null" or unparseable ("abc") become None: the
  window then falls back to the publish time. Only what identifies the incident is
  strict: a missing `incident_id` or an unknown `state` is rejected.
- Missing `state` is inferred from `ended_at` (set -> closed, else open).

AlertError reasons: not_base64, not_utf8, not_json, not_object, no_data,
no_incident, no_incident_id, wrong_type, bad_value, too_large.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from functions.core.coerce import as_mapping, as_string_map, as_text, valid_text
from functions.core.errors import AlertError, excerpt
from functions.core.model import Alert, AlertState, ConditionKind, Severity
from functions.intake.evidence import parse_rfc3339, plausible
from functions.intake.jsonbounds import JsonBoundsError, loads_bounded

MAX_PAYLOAD_BYTES = 1 << 20  # a notification is a few KB; refuse anything over 1 MiB
DEFAULT_SEVERITY = Severity.ERROR
_MAX_ENVELOPES = 4  # CloudEvent -> MessagePublishedData -> notification, with room to spare

_CONDITION_KEYS: tuple[tuple[str, ConditionKind], ...] = (
    ("conditionThreshold", ConditionKind.THRESHOLD),
    ("conditionAbsent", ConditionKind.ABSENT),
    ("conditionMatchedLog", ConditionKind.LOG_MATCH),
    ("conditionPrometheusQueryLanguage", ConditionKind.PROMQL),
    ("conditionMonitoringQueryLanguage", ConditionKind.MQL),
    ("conditionSql", ConditionKind.SQL),
)
_SEVERITY_NAMES = {
    "critical": Severity.CRITICAL,
    "error": Severity.ERROR,
    "warning": Severity.WARNING,
    "info": Severity.INFO,
}
_SUBJECT_SEVERITY = re.compile(r"^\s*\[?ALERT\s*-\s*([A-Za-z ]+?)\s*\]", re.IGNORECASE)
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]*={0,2}")
_NULLS = frozenset({"", "null", "none", "0"})
# service_name="x" / resource.labels."service_name" == 'x' in a condition filter, not negated (a Cloud
# Run job's job_name too: a job is a service to the card).
_FILTER_SERVICE = re.compile(
    r"""(?P<neg>\bNOT\s+|-)?(?:[\w."]+\.)?"?(?:service_name|function_name|job_name)"?\s*==?\s*"""
    r"""(?:"(?P<dq>[^"\\]+)"|'(?P<sq>[^'\\]+)'|one_of\((?P<many>[^)]*)\))"""
)
_QUOTED = re.compile(r"""["']([^"']+)["']""")
_PROJECT_IN_NAME = re.compile(r"^projects/([^/]+)/")


def parse_alert(
    payload: bytes | str | Mapping[str, Any],
    *,
    message_id: str = "",
    published_at: datetime | None = None,
) -> Alert:
    """Parse a notification or any envelope carrying one into an Alert.

    `message_id` and `published_at` (the Pub/Sub message's) win over those found
    in an envelope. Raises AlertError with a `reason`; never mutates `payload`.
    """
    document = _load(payload, what="payload")
    envelope_id, envelope_time = "", None
    for _ in range(_MAX_ENVELOPES):
        if "incident" in document:
            return _alert_from_notification(
                document,
                message_id=message_id or envelope_id,
                published_at=published_at or envelope_time,
            )
        document, found_id, found_time = _open_envelope(document)
        envelope_id = envelope_id or found_id
        envelope_time = envelope_time or found_time
    raise AlertError("envelopes nested too deep to hold a notification", reason="no_incident")


def decode_cloudevent_data(data: Mapping[str, Any]) -> tuple[bytes, str, datetime | None]:
    """Return (message bytes, messageId, publishTime) of a Pub/Sub MessagePublishedData or push body.

    Reads camelCase or snake_case keys. `message.data` is base64 text in JSON, or
    raw bytes when the event was decoded from protobuf.
    """
    message = data.get("message") if isinstance(data, Mapping) else None
    if not isinstance(message, Mapping):
        raise AlertError("the Pub/Sub event has no `message` object", reason="no_data")
    raw = message.get("data")
    if raw is None or raw in ("", b""):
        raise AlertError("the Pub/Sub message has no data", reason="no_data")
    if isinstance(raw, (bytes, bytearray, memoryview)):
        body = bytes(raw)
    elif isinstance(raw, str):
        body = _decode_base64(raw, what="message.data")
    else:
        raise AlertError(f"message.data is {type(raw).__name__}, expected base64 text", reason="wrong_type")
    _check_size(len(body), what="message.data")
    message_id = as_text(_first(message, "messageId", "message_id"))
    publish_time = parse_rfc3339(_first(message, "publishTime", "publish_time"))
    return body, message_id, publish_time


# --- envelopes ----------------------------------------------------------------------------


def _load(payload: object, *, what: str) -> Mapping[str, Any]:
    """bytes / str JSON -> the top-level object; a Mapping is returned as is (read-only use)."""
    if isinstance(payload, Mapping):
        return payload
    if isinstance(payload, (bytes, bytearray, memoryview)):
        raw = bytes(payload)
        _check_size(len(raw), what=what)
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise AlertError(f"{what} is not UTF-8 text (byte {exc.start})", reason="not_utf8") from None
    elif isinstance(payload, str):
        if len(payload) > MAX_PAYLOAD_BYTES // 4:  # only then can the UTF-8 form exceed the limit
            _check_size(len(payload.encode("utf-8", "surrogatepass")), what=what)
        text = payload.removeprefix("\ufeff")
    else:
        raise AlertError(
            f"{what} is {type(payload).__name__}, expected JSON bytes, text or a mapping", reason="wrong_type"
        )
    try:
        document = loads_bounded(text)
    except json.JSONDecodeError as exc:
        raise AlertError(
            f"{what} is not JSON: {exc.msg} at line {exc.lineno} col {exc.colno} ({len(text)} characters)",
            reason="not_json",
        ) from None
    except JsonBoundsError as exc:
        raise AlertError(f"{what} is not usable JSON: {exc.problem}", reason="not_json") from None
    if not isinstance(document, dict):
        raise AlertError(f"{what} is JSON {type(document).__name__}, expected an object", reason="not_object")
    return document


def _open_envelope(document: Mapping[str, Any]) -> tuple[Mapping[str, Any], str, datetime | None]:
    """Peel one envelope: CloudEvent -> its data; Pub/Sub message -> the decoded notification."""
    if "specversion" in document:
        event_id, event_time = as_text(document.get("id")), parse_rfc3339(document.get("time"))
        if "data_base64" in document and document.get("data") is None:
            raw = document.get("data_base64")
            if not isinstance(raw, str):
                raise AlertError("CloudEvent data_base64 is not text", reason="wrong_type")
            return _load(_decode_base64(raw, what="data_base64"), what="CloudEvent data"), event_id, event_time
        data = document.get("data")
        if data is None:
            raise AlertError("the CloudEvent has no data", reason="no_data")
        return _load(data, what="CloudEvent data"), event_id, event_time
    if "message" in document:
        body, message_id, publish_time = decode_cloudevent_data(document)
        return _load(body, what="message.data"), message_id, publish_time
    keys = ", ".join(sorted(str(key) for key in document)[:8])
    raise AlertError(
        f"not a Monitoring notification: no `incident` (top-level keys: {excerpt(keys, 80)})",
        reason="no_incident",
    )


def _decode_base64(text: str, *, what: str) -> bytes:
    """Strict base64 (standard or URL-safe alphabet, padding optional); JSON text is passed through."""
    if len(text) > 4 * MAX_PAYLOAD_BYTES:  # too large even if half of it were line breaks
        _check_size(len(text) * 3 // 8, what=what)
    compact = "".join(text.split())
    if compact.startswith("{"):  # some emulators and hand-written tests put the JSON itself here
        return text.encode("utf-8")
    _check_size(len(compact) * 3 // 4, what=what)
    if not _BASE64.fullmatch(compact):
        raise AlertError(f"{what} is not base64 ({len(text)} characters)", reason="not_base64")
    standard = compact.rstrip("=").replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(standard + "=" * (-len(standard) % 4), validate=True)
    except binascii.Error:
        raise AlertError(f"{what} is not valid base64 (bad length)", reason="not_base64") from None


def _check_size(size: int, *, what: str) -> None:
    if size > MAX_PAYLOAD_BYTES:
        raise AlertError(f"{what} is {size} bytes, over the {MAX_PAYLOAD_BYTES}-byte limit", reason="too_large")


# --- the notification ---------------------------------------------------------------------


def _alert_from_notification(document: Mapping[str, Any], *, message_id: str, published_at: datetime | None) -> Alert:
    incident = document.get("incident")
    if not isinstance(incident, Mapping):
        raise AlertError(f"`incident` is {type(incident).__name__}, expected an object", reason="wrong_type")
    incident_id = incident.get("incident_id")
    if incident_id is None or incident_id == "":
        raise AlertError("the incident has no incident_id", reason="no_incident_id")
    if isinstance(incident_id, bool) or not isinstance(incident_id, (str, int)):
        raise AlertError(f"incident_id is {type(incident_id).__name__}, expected a string", reason="wrong_type")
    incident_id = valid_text(str(incident_id).strip())
    if not incident_id:
        raise AlertError("the incident has an empty incident_id", reason="no_incident_id")

    ended_at = _epoch(incident.get("ended_at"))
    condition = as_mapping(incident.get("condition"))
    kind, condition_filter = _condition(condition, incident)
    project_id = _project_id(incident, condition)
    policy_labels = as_string_map(incident.get("policy_user_labels"))
    documentation = incident.get("documentation")
    return Alert(
        incident_id=incident_id,
        state=_state(incident.get("state"), ended_at),
        policy_name=as_text(incident.get("policy_name")),
        condition_name=as_text(incident.get("condition_name")) or as_text(condition.get("displayName")),
        condition_kind=kind,
        project_id=project_id,
        started_at=_epoch(incident.get("started_at")),
        ended_at=ended_at,
        severity=_severity(incident.get("severity"), documentation),
        summary=as_text(incident.get("summary")),
        url=as_text(incident.get("url")),
        # Which policy label names the environment is a setting (SITREP_GROUP_LABEL), applied by
        # card.incident.with_group_environment: the notification alone implies only its project.
        environment=project_id,
        services=_services(incident, policy_labels, condition_filter),
        resource_type=as_text(as_mapping(incident.get("resource")).get("type")),
        condition_filter=condition_filter,
        documentation=_documentation(documentation),
        policy_labels=policy_labels,
        is_test=as_text(document.get("version")).strip().lower() == "test",
        message_id=message_id,
        published_at=published_at,
        policy_id=_policy_id(condition, incident),
    )


def _policy_id(condition: Mapping[str, Any], incident: Mapping[str, Any]) -> str:
    """projects/P/alertPolicies/ID from the condition's name (or a resource-name policy_name)."""
    for name in (as_text(condition.get("name")), as_text(incident.get("policy_name"))):
        match = _POLICY_NAME.match(name)
        if match:
            return match.group(0)
    return ""


def _state(value: object, ended_at: datetime | None) -> AlertState:
    if value is None or value == "":
        return AlertState.CLOSED if ended_at else AlertState.OPEN
    if not isinstance(value, str):
        raise AlertError(f"state is {type(value).__name__}, expected 'open' or 'closed'", reason="wrong_type")
    try:
        return AlertState(value.strip().lower())
    except ValueError:
        raise AlertError(f"state {excerpt(value, 30)!r} is neither 'open' nor 'closed'", reason="bad_value") from None


def _epoch(value: object) -> datetime | None:
    """Epoch seconds (int, float or decimal string; 0 and "null" mean unset) -> aware UTC datetime."""
    if isinstance(value, str):
        text = value.strip()
        if text.lower() in _NULLS:
            return None
        try:
            value = float(text)
        except ValueError:
            return parse_rfc3339(text)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        return None
    try:
        return plausible(datetime.fromtimestamp(value, UTC))
    except (OverflowError, OSError, ValueError):
        return None


def _severity(value: object, documentation: object) -> Severity:
    name = as_text(value).strip().lower().removeprefix("severity_")
    if name in _SEVERITY_NAMES:
        return _SEVERITY_NAMES[name]
    subject = as_text(as_mapping(documentation).get("subject"))
    match = _SUBJECT_SEVERITY.match(subject)
    if match and match.group(1).lower() in _SEVERITY_NAMES:
        return _SEVERITY_NAMES[match.group(1).lower()]
    return DEFAULT_SEVERITY


def _condition(condition: Mapping[str, Any], incident: Mapping[str, Any]) -> tuple[ConditionKind, str]:
    """The condition kind by which `condition*` key is present (camel or snake case), and its filter/query."""
    for key, kind in _CONDITION_KEYS:
        for spelling in (key, _snake(key)):
            if spelling in condition:
                body = as_mapping(condition[spelling])
                return kind, as_text(body.get("filter")) or as_text(body.get("query"))
    # No condition object (e.g. some PromQL captures): infer from what is there.
    metric_type = as_text(as_mapping(incident.get("metric")).get("type"))
    if metric_type == "__missing__":
        return ConditionKind.PROMQL, ""
    if as_text(incident.get("summary")).startswith("Log match condition"):
        return ConditionKind.LOG_MATCH, ""
    if "threshold_value" in incident:
        return ConditionKind.THRESHOLD, ""
    return ConditionKind.UNKNOWN, ""


def _project_id(incident: Mapping[str, Any], condition: Mapping[str, Any]) -> str:
    scoping = as_text(incident.get("scoping_project_id")).strip()
    if scoping:
        return scoping
    resource_project = as_text(as_mapping(as_mapping(incident.get("resource")).get("labels")).get("project_id")).strip()
    if resource_project:
        return resource_project
    for name in (as_text(condition.get("name")), as_text(incident.get("policy_name"))):
        match = _PROJECT_IN_NAME.match(name)
        if match:
            return match.group(1)
    return ""


_POLICY_NAME = re.compile(r"projects/[^/\s]+/alertPolicies/[^/\s]+")


def _services(incident: Mapping[str, Any], policy_labels: Mapping[str, str], condition_filter: str) -> tuple[str, ...]:
    """Services named by the resource, the metric labels, the policy labels and the condition filter."""
    resource_labels = as_string_map(as_mapping(incident.get("resource")).get("labels"))
    metric_labels = as_string_map(as_mapping(incident.get("metric")).get("labels"))
    found = [
        resource_labels.get("service_name", ""),
        metric_labels.get("service_name", ""),
        resource_labels.get("function_name", ""),
        resource_labels.get("job_name", ""),
        "" if resource_labels.get("service_name") else resource_labels.get("configuration_name", ""),
    ]
    for key in ("service", "services"):
        found.extend(re.split(r"[,;\s]+", policy_labels.get(key, "")))
    for match in _FILTER_SERVICE.finditer(condition_filter):
        if match.group("neg"):
            continue
        if match.group("many") is not None:
            found.extend(_QUOTED.findall(match.group("many")))
        else:
            found.append(match.group("dq") or match.group("sq") or "")
    unique: dict[str, None] = {}
    for name in found:
        name = name.strip()
        if name and name != "__missing__":
            unique.setdefault(name, None)
    return tuple(unique)


def _documentation(value: object) -> str:
    if isinstance(value, str):
        return valid_text(value)
    doc = as_mapping(value)
    return as_text(doc.get("content")) or as_text(doc.get("subject"))


# --- small helpers ------------------------------------------------------------------------


def _first(mapping: Mapping[str, Any], *keys: str) -> Any:
    for key in keys:
        value = mapping.get(key)
        if value not in (None, ""):
            return value
    return None


def _snake(camel: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", camel).lower()
