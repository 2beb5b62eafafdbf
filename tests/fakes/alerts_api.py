"""Cloud Monitoring's Alerts API (REST v3 `projects.alerts` list / get) on loopback.

Answers like the service for what sitrep asks: `GET /v3/projects/P/alerts` with `filter`, `pageSize`
(1–1000, default 50) and `pageToken`, and `GET /v3/projects/P/alerts/ID` (404 NOT_FOUND for an unknown
id). The only filter it evaluates is `state = "OPEN"` / `state = "CLOSED"` (what our adapter sends);
any other filter is answered 400 INVALID_ARGUMENT, so a changed query cannot pass unnoticed.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from tests.fakes import FakeHTTPServer, RecordedRequest, Response

PROJECT = "test-project"
MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 50
_LIST = re.compile(r"^/v3/projects/(?P<project>[^/]+)/alerts$")
_GET = re.compile(r"^/v3/projects/(?P<project>[^/]+)/alerts/(?P<id>[^/]+)$")
_STATE_FILTER = re.compile(r'^\s*state\s*=\s*"?(?P<state>OPEN|CLOSED)"?\s*$')


def _rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _error(status: int, code: str, message: str) -> Response:
    return Response.json(status, {"error": {"code": status, "message": message, "status": code}})


def api_alert(
    alert_id: str,
    *,
    state: str = "OPEN",
    opened: datetime,
    closed: datetime | None = None,
    policy: str = "p",
    policy_id: str = "",
    severity: str = "ERROR",
    labels: dict[str, str] | None = None,
    service: str = "",
    log_match: bool = False,
    project: str = PROJECT,
) -> dict[str, Any]:
    """An Alert resource as the API returns it."""
    alert: dict[str, Any] = {
        "name": f"projects/{project}/alerts/{alert_id}",
        "state": state,
        "openTime": _rfc3339(opened),
        "resource": {"type": "cloud_run_revision", "labels": {"service_name": service} if service else {}},
        "policy": {"name": policy_id or f"projects/{project}/alertPolicies/{abs(hash(policy)) % 10**12}",
                   "displayName": policy, "severity": severity, "userLabels": labels or {}},
    }
    if closed is not None:
        alert["closeTime"] = _rfc3339(closed)
    if log_match:
        alert["log"] = {"extractedLabels": {}}
    return alert


class AlertsApiFake(FakeHTTPServer):
    def __init__(self) -> None:
        super().__init__()
        self._alerts: dict[str, dict[str, Any]] = {}

    def put(self, alert: dict[str, Any]) -> None:
        """Add or replace an alert (by name)."""
        with self._lock:
            self._alerts[alert["name"]] = dict(alert)

    def close(self, alert_id: str, at: datetime, project: str = PROJECT) -> None:
        with self._lock:
            alert = self._alerts[f"projects/{project}/alerts/{alert_id}"]
            alert.update(state="CLOSED", closeTime=_rfc3339(at))

    def _endpoint(self, method: str, path: str) -> str:
        route = path.split("?", 1)[0]
        if _LIST.match(route):
            return "alerts.list"
        if _GET.match(route):
            return "alerts.get"
        return f"{method} {route}"

    def _handle(self, request: RecordedRequest) -> Response:
        route = request.path.split("?", 1)[0]
        if request.method != "GET" or request.endpoint not in ("alerts.list", "alerts.get"):
            return _error(404, "NOT_FOUND", f"Method not found: {request.method} {route}")
        if request.endpoint == "alerts.get":
            match = _GET.match(route)
            assert match is not None
            with self._lock:
                alert = self._alerts.get(f"projects/{match['project']}/alerts/{match['id']}")
            return Response.json(200, alert) if alert else _error(404, "NOT_FOUND", "Alert not found.")
        match = _LIST.match(route)
        assert match is not None
        query = request.query
        wanted = None
        if query.get("filter"):
            state = _STATE_FILTER.match(query["filter"])
            if state is None:
                return _error(400, "INVALID_ARGUMENT", f"Unsupported filter: {query['filter']}")
            wanted = state["state"]
        try:
            size = int(query.get("pageSize") or DEFAULT_PAGE_SIZE)
            offset = int(query.get("pageToken") or 0)
        except ValueError:
            return _error(400, "INVALID_ARGUMENT", "Invalid pageSize or pageToken.")
        size = DEFAULT_PAGE_SIZE if size <= 0 else min(size, MAX_PAGE_SIZE)
        prefix = f"projects/{match['project']}/alerts/"
        with self._lock:
            found = [a for n, a in self._alerts.items() if n.startswith(prefix) and wanted in (None, a["state"])]
        found.sort(key=lambda a: a["openTime"], reverse=True)  # the API's default order: openTime desc
        page = found[offset:offset + size]
        body: dict[str, Any] = {"alerts": page, "totalSize": len(found)}
        if offset + size < len(found):
            body["nextPageToken"] = str(offset + size)
        return Response.json(200, body)


__all__ = ["PROJECT", "AlertsApiFake", "api_alert"]
