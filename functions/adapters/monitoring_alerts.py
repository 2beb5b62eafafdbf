"""Cloud Monitoring's Alerts API (`projects.alerts` list / get): Monitoring's own record of which alerts
are OPEN or CLOSED, read on the tick to reconcile notifications that never arrived.

google-cloud-monitoring 2.32 has no client for this API (no AlertServiceClient nor
`monitoring_v3.types.Alert`), so the REST endpoint is called through google-auth's AuthorizedSession
(the function's own credentials, the library's standard transport) with an explicit timeout and no
retry: the next tick is the retry. `SITREP_ALERTS_API_URL` (http://127.0.0.1:PORT) points it at a
local server with no credentials.

    GET {base}/v3/projects/P/alerts?filter=state="OPEN"&pageSize=N&pageToken=T  → {alerts, nextPageToken}
    GET {base}/v3/projects/P/alerts/ALERT_ID                                   → Alert (404: unknown)

Never raises: what could not be read is the result's `error`, and the tick then changes nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any, Final
from urllib.parse import quote

from functions.core.errors import excerpt
from functions.core.model import Alert
from functions.incidents.ports import AlertsRead
from functions.intake.alerts_api import alert_from_api

DEFAULT_BASE_URL: Final = "https://monitoring.googleapis.com"
SCOPE: Final = "https://www.googleapis.com/auth/monitoring.read"
PAGE_SIZE: Final = 1000  # the API's maximum ("values above 1000 will be coerced to 1000")
MAX_PAGES: Final = 2  # 2,000 open alerts in one project is far past anything a card can show
OPEN_FILTER: Final = 'state = "OPEN"'


class MonitoringAlerts:
    """Lists and gets alerts; the HTTP session is built on first use."""

    def __init__(self, *, base_url: str = "", timeout_s: float = 10.0, max_pages: int = MAX_PAGES) -> None:
        self._base = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self._local = bool(base_url)
        self._timeout_s = timeout_s
        self._max_pages = max(1, max_pages)
        self._session: Any = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"MonitoringAlerts(base_url={self._base!r})"

    def _http(self) -> Any:
        with self._lock:
            if self._session is None:
                if self._local:
                    import requests

                    self._session = requests.Session()
                else:
                    import google.auth
                    from google.auth.transport.requests import AuthorizedSession

                    credentials, _ = google.auth.default(scopes=[SCOPE])
                    self._session = AuthorizedSession(credentials)
            return self._session

    def _get(self, path: str, params: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
        response = self._http().get(f"{self._base}/v3/{path}", params=params, timeout=self._timeout_s)
        try:
            body = response.json()
        except ValueError:
            body = {}
        return int(response.status_code), body if isinstance(body, dict) else {}

    def open_alerts(self, project: str) -> AlertsRead:
        """Every OPEN alert of `project` (at most MAX_PAGES pages)."""
        found: list[Alert] = []
        calls, token = 0, ""
        try:
            for _ in range(self._max_pages):
                params: dict[str, Any] = {"filter": OPEN_FILTER, "pageSize": PAGE_SIZE}
                if token:
                    params["pageToken"] = token
                status, body = self._get(f"projects/{quote(project, safe='')}/alerts", params)
                calls += 1
                if status != 200:
                    return AlertsRead(calls=calls, error=_error("alerts.list", status, body))
                found += [a for a in (alert_from_api(raw) for raw in body.get("alerts") or () if isinstance(raw, dict))
                          if a is not None]
                token = str(body.get("nextPageToken") or "")
                if not token:
                    break
        except Exception as exc:  # connection refused, timeout, no credentials: the next tick tries again
            return AlertsRead(calls=calls, error=f"Alerts API unavailable ({type(exc).__name__}: {excerpt(exc, 120)})")
        return AlertsRead(tuple(found), calls)

    def alerts(self, project: str, alert_ids: Sequence[str]) -> AlertsRead:
        """Each alert by id; a 404 leaves it out (Monitoring no longer knows it), any other failure stops."""
        found: list[Alert] = []
        calls = 0
        try:
            for alert_id in dict.fromkeys(alert_ids):
                status, body = self._get(f"projects/{quote(project, safe='')}/alerts/{quote(alert_id, safe='.')}")
                calls += 1
                if status == 404:
                    continue
                if status != 200:
                    return AlertsRead(tuple(found), calls, _error("alerts.get", status, body))
                alert = alert_from_api(body)
                if alert is not None:
                    found.append(alert)
        except Exception as exc:
            return AlertsRead(tuple(found), calls,
                              f"Alerts API unavailable ({type(exc).__name__}: {excerpt(exc, 120)})")
        return AlertsRead(tuple(found), calls)


def _error(operation: str, status: int, body: dict[str, Any]) -> str:
    message = body.get("error", {}).get("message", "") if isinstance(body.get("error"), dict) else ""
    return f"Alerts API {operation}: HTTP {status} {excerpt(message, 160)}".rstrip()


__all__ = ["MonitoringAlerts"]
