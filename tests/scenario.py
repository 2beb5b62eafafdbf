"""The staging outage of examples/staging-outage, moved to 'now' and into the fakes' project.

End-to-end tests serve these entries and series from the Logging and Monitoring fakes, and send
the alert as a real CloudEvent, so the function reads its evidence exactly as in production.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from google.cloud import monitoring_v3

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "staging-outage"
PROJECT = "test-project"
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z")


def _shift_text(text: str, delta: timedelta) -> str:
    def move(match: re.Match[str]) -> str:
        raw = match.group(0)
        head, _, frac = raw[:-1].partition(".")
        moment = datetime.strptime(head, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc) + delta
        return moment.strftime("%Y-%m-%dT%H:%M:%S") + (f".{frac}" if frac else "") + "Z"

    return _TIMESTAMP.sub(move, text.replace("netra-staging", PROJECT))


@dataclass(frozen=True)
class Scenario:
    alert: dict[str, Any]
    entries: list[dict[str, Any]]
    series: list[monitoring_v3.TimeSeries]
    started_at: datetime

    def notification(self, *, incident_id: str | None = None, state: str = "open", policy: str | None = None,
                     ended_minutes: float = 0) -> dict[str, Any]:
        """The alert as Monitoring would publish it, optionally as another alert or closed."""
        payload = json.loads(json.dumps(self.alert))
        incident = payload["incident"]
        if incident_id:
            incident["incident_id"] = incident_id
        if policy:
            incident["policy_name"] = policy
        incident["state"] = state
        if state == "closed":
            incident["ended_at"] = int((self.started_at + timedelta(minutes=ended_minutes)).timestamp())
        return payload


def staging(now: datetime | None = None, *, started_minutes_ago: float = 20) -> Scenario:
    """The example moved so that its alert started `started_minutes_ago` before `now`."""
    now = now or datetime.now(timezone.utc)
    alert = json.loads((EXAMPLE / "alert.json").read_text())
    original = datetime.fromtimestamp(alert["incident"]["started_at"], tz=timezone.utc)
    started = now - timedelta(minutes=started_minutes_ago)
    delta = started - original
    delta = timedelta(seconds=round(delta.total_seconds()))
    alert = json.loads(_shift_text(json.dumps(alert), delta))
    alert["incident"]["started_at"] = int(started.timestamp())
    alert["incident"]["scoping_project_id"] = PROJECT
    entries = json.loads(_shift_text((EXAMPLE / "logs.json").read_text(), delta))
    entries = [e for e in entries if _entry_time(e) <= now]
    metrics = json.loads(_shift_text((EXAMPLE / "metrics.json").read_text(), delta))
    documents = metrics if isinstance(metrics, list) else [metrics]
    series = [
        monitoring_v3.TimeSeries.from_json(json.dumps(item), ignore_unknown_fields=True)
        for doc in documents
        for item in doc.get("timeSeries", [])
    ]
    return Scenario(alert=alert, entries=entries, series=series, started_at=started)


def _entry_time(entry: dict[str, Any]) -> datetime:
    head = entry["timestamp"][:19]
    return datetime.strptime(head, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)


def pubsub_data(payload: dict[str, Any] | bytes | str, *, message_id: str | None = None,
                publish_time: datetime | None = None) -> dict[str, Any]:
    """MessagePublishedData carrying `payload` (bytes are sent as they are, base64-encoded)."""
    raw = payload if isinstance(payload, bytes) else (
        payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
    )
    published = (publish_time or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return {
        "subscription": f"projects/{PROJECT}/subscriptions/eventarc-sitrep",
        "message": {
            "data": base64.b64encode(raw).decode(),
            "messageId": message_id or uuid.uuid4().hex[:16],
            "publishTime": published,
            "attributes": {},
        },
    }


def binary_cloudevent(data: dict[str, Any], *, event_id: str | None = None) -> tuple[dict[str, str], bytes]:
    """Headers and body of a binary-mode CloudEvent, as Eventarc posts it to the function."""
    headers = {
        "ce-id": event_id or data.get("message", {}).get("messageId", uuid.uuid4().hex),
        "ce-source": f"//pubsub.googleapis.com/projects/{PROJECT}/topics/sitrep-alerts",
        "ce-type": "google.cloud.pubsub.topic.v1.messagePublished",
        "ce-specversion": "1.0",
        "ce-time": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "Content-Type": "application/json",
    }
    return headers, json.dumps(data).encode()


def structured_cloudevent(data: dict[str, Any]) -> tuple[dict[str, str], bytes]:
    """Headers and body of a structured-mode CloudEvent (application/cloudevents+json)."""
    event = {
        "specversion": "1.0",
        "id": data.get("message", {}).get("messageId", uuid.uuid4().hex),
        "source": f"//pubsub.googleapis.com/projects/{PROJECT}/topics/sitrep-alerts",
        "type": "google.cloud.pubsub.topic.v1.messagePublished",
        "time": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "datacontenttype": "application/json",
        "data": data,
    }
    return {"Content-Type": "application/cloudevents+json"}, json.dumps(event).encode()
