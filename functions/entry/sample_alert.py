"""A fresh Cloud Monitoring notification for the smoke test (`python main.py sample-alert`).

Ops publish it to the alert topic to see the first card without waiting for a real failure:
`gcloud pubsub topics publish TOPIC --message="$(python main.py sample-alert --project P)"`.
A recorded example is dated when it was captured, and the function reads evidence for the
incident's own window, so a stale one shows an empty card; this one starts a minute before
`now`. Pure: the clock is passed in.

The shape is schema 1.2 as a metric-threshold policy sends it (Monitoring's Pub/Sub notification format), limited to
the fields `functions.intake.alert.parse_alert` reads. The incident id is derived from project,
service and policy, so `--state closed` resolves the card that `--state open` opened.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime, timedelta, timezone
from typing import Any

from functions.core.errors import InputError

DEFAULT_SERVICE = "sitrep-smoke"
DEFAULT_POLICY = "sitrep smoke test"
STATES = ("open", "closed")
# How long before `now` the sample incident started: inside any evidence lookback, and
# long enough that a closed sample has a non-empty window.
STARTED_BEFORE_NOW = timedelta(minutes=1)
CLOSED_AFTER_START = timedelta(seconds=30)

_PROJECT_ID = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
_SERVICE_NAME = re.compile(r"^[a-z]([-a-z0-9]{0,47}[a-z0-9])?$")
_MAX_POLICY_CHARS = 200


def sample_notification(
    *,
    project: str,
    now: datetime,
    service: str = DEFAULT_SERVICE,
    policy: str = DEFAULT_POLICY,
    state: str = "open",
) -> dict[str, Any]:
    """The notification a threshold policy on `service`'s error count would publish at `now`."""
    _check(project=project, service=service, policy=policy, state=state, now=now)
    started = now.astimezone(timezone.utc) - STARTED_BEFORE_NOW
    ended = started + CLOSED_AFTER_START if state == "closed" else None
    incident_id = "sample-" + hashlib.sha256(f"{project}\n{service}\n{policy}".encode()).hexdigest()[:16]
    condition_name = f"{service} errors (sample)"
    verb = "returned to normal with a value of 0.000"
    if ended is None:
        verb = "is above the threshold of 0.000 with a value of 1.000"
    return {
        "version": "1.2",
        "incident": {
            "incident_id": incident_id,
            "scoping_project_id": project,
            "url": f"https://console.cloud.google.com/monitoring/alerting?project={project}",
            "state": state,
            "started_at": int(started.timestamp()),
            "ended_at": int(ended.timestamp()) if ended else None,
            "policy_name": policy,
            "policy_user_labels": {"sitrep": "sample"},
            "condition_name": condition_name,
            "condition": {
                "displayName": condition_name,
                "conditionThreshold": {
                    "filter": (
                        'metric.type="logging.googleapis.com/user/sitrep_service_errors" '
                        f'AND resource.type="cloud_run_revision" AND metric.label.service="{service}"'
                    ),
                    "comparison": "COMPARISON_GT",
                    "thresholdValue": 0,
                    "duration": "0s",
                },
            },
            "resource": {
                "type": "cloud_run_revision",
                "labels": {"project_id": project, "service_name": service},
            },
            "resource_type_display_name": "Cloud Run Revision",
            "metric": {
                "type": "logging.googleapis.com/user/sitrep_service_errors",
                "displayName": "sitrep service errors",
                "labels": {"service": service},
            },
            "metadata": {"system_labels": {}, "user_labels": {}},
            "severity": "Error",
            "summary": f"sitrep service errors for {service} {verb}.",
            "observed_value": "0.000" if ended else "1.000",
            "threshold_value": "0",
            "documentation": {
                "subject": f"[ALERT - Error] {policy}",
                "content": (
                    "Sample notification published by `python main.py sample-alert` to check that "
                    "alerts reach sitrep; no policy fired."
                ),
                "mime_type": "text/markdown",
            },
        },
    }


def render_sample_alert(
    *,
    project: str,
    now: datetime,
    service: str = DEFAULT_SERVICE,
    policy: str = DEFAULT_POLICY,
    state: str = "open",
) -> str:
    """The sample notification as one line of JSON, ready for `gcloud pubsub topics publish --message`."""
    document = sample_notification(project=project, now=now, service=service, policy=policy, state=state)
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)


def _check(*, project: str, service: str, policy: str, state: str, now: datetime) -> None:
    """Reject what Monitoring could never send, so a typo fails here rather than on the card."""
    if not _PROJECT_ID.match(project):
        raise InputError(f"--project {project!r} is not a GCP project ID (6-30 lowercase letters, digits, hyphens)")
    if not _SERVICE_NAME.match(service):
        raise InputError(f"--service {service!r} is not a Cloud Run service name")
    if not policy.strip() or len(policy) > _MAX_POLICY_CHARS:
        raise InputError(f"--policy must be 1-{_MAX_POLICY_CHARS} characters")
    if state not in STATES:
        raise InputError(f"--state {state!r} must be one of {', '.join(STATES)}")
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
