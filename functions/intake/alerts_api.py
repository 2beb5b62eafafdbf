"""Cloud Monitoring's Alerts API (`projects.alerts` list / get, REST v3) → Alert, pure.

An API Alert is the same violation a notification announces: its name is
`projects/P/alerts/ALERT_ID`, and ALERT_ID is the notification's `incident.incident_id` (the console
links both as /monitoring/alerting/alerts/ALERT_ID). Fields read: `state` (OPEN / CLOSED), `openTime`,
`closeTime`, `resource.labels`, `policy` (PolicySnapshot: `name`, `displayName`, `severity`,
`userLabels`), and `log` (present for log-match policies, whose alerts never send CLOSED).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from functions.core.coerce import as_mapping, as_string_map, as_text
from functions.core.model import Alert, AlertState, ConditionKind, Severity
from functions.intake.evidence import parse_rfc3339

_NAME = re.compile(r"^projects/(?P<project>[^/]+)/alerts/(?P<id>[^/]+)$")
_SEVERITY = {"CRITICAL": Severity.CRITICAL, "ERROR": Severity.ERROR, "WARNING": Severity.WARNING}


def alert_from_api(raw: Mapping[str, Any]) -> Alert | None:
    """The Alert an API alert stands for (its environment still to be decided by the group label); None
    when it names no alert or no known state."""
    match = _NAME.match(as_text(raw.get("name")))
    state = as_text(raw.get("state")).upper()
    if match is None or state not in ("OPEN", "CLOSED"):
        return None
    policy = as_mapping(raw.get("policy"))
    labels = as_string_map(policy.get("userLabels"))
    resource = as_string_map(as_mapping(raw.get("resource")).get("labels"))
    services = [resource.get("service_name", ""), resource.get("function_name", "")]
    services += [s.strip() for s in re.split(r"[,;\s]+", labels.get("service", "") + "," + labels.get("services", ""))]
    project = match.group("project")
    return Alert(
        incident_id=match.group("id"),
        state=AlertState.OPEN if state == "OPEN" else AlertState.CLOSED,
        policy_name=as_text(policy.get("displayName")),
        condition_name="",
        condition_kind=ConditionKind.LOG_MATCH if "log" in raw else ConditionKind.UNKNOWN,
        project_id=project,
        started_at=parse_rfc3339(raw.get("openTime")),
        ended_at=parse_rfc3339(raw.get("closeTime")) if state == "CLOSED" else None,
        severity=_SEVERITY.get(as_text(policy.get("severity")).upper(), Severity.ERROR),
        environment=project,
        services=tuple(dict.fromkeys(s for s in services if s)),
        policy_labels=labels,
        policy_id=as_text(policy.get("name")),
    )


__all__ = ["alert_from_api"]
