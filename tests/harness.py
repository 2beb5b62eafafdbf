"""The deployed function on a real socket, with the fakes behind it, for end-to-end tests.

`deployed` (a fixture) starts the real functions-framework server around `main.handle_alert`, with
the environment pointing at the Slack, GitHub, Logging and Monitoring fakes; tests send real
CloudEvents with `Function.send` and read what reached each fake. Its options (other fakes, more
settings, other evidence) let the failure and size tests reuse the shape of tests/test_function_e2e.py.

`LogCapture` records every line the function writes through the 'sitrep' logger, formatted by the
function's own JsonLineFormatter, plus whatever reaches the root logger (client libraries).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from functions_framework import create_app
from google.cloud import monitoring_v3, run_v2
from werkzeug.serving import make_server

from functions.entry.runtime import JsonLineFormatter, reset_runtime, setup_logging
from tests.fakes import github as gh
from tests.fakes import slack as sl
from tests.fakes.cloud_logging import LoggingFake
from tests.fakes.cloud_monitoring import MonitoringFake
from tests.fakes.cloud_run import CloudRunFake
from tests.fakes.github import GitHubFake
from tests.fakes.slack import SlackFake
from tests.scenario import Scenario, binary_cloudevent, pubsub_data, staging, structured_cloudevent

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Reply:
    """The function's HTTP answer."""

    status: int
    body: str


@dataclass
class Function:
    """The running function and the fakes it talks to."""

    url: str
    scenario: Scenario
    slack: SlackFake
    github: GitHubFake
    logging: LoggingFake
    monitoring: MonitoringFake
    run: CloudRunFake | None = None
    replies: list[Reply] = field(default_factory=list)

    def post(self, headers: Mapping[str, str], body: bytes) -> int:
        request = urllib.request.Request(self.url, data=body, headers=dict(headers), method="POST")
        try:
            with LOOPBACK.open(request, timeout=120) as response:
                reply = Reply(int(response.status), response.read().decode("utf-8", "replace"))
        except urllib.error.HTTPError as exc:
            reply = Reply(int(exc.code), exc.read().decode("utf-8", "replace"))
        self.replies.append(reply)
        return reply.status

    def send(self, payload: Any, *, message_id: str | None = None, structured: bool = False) -> int:
        data = pubsub_data(payload, message_id=message_id)
        headers, body = structured_cloudevent(data) if structured else binary_cloudevent(data)
        return self.post(headers, body)

    def top_level(self) -> list[dict[str, Any]]:
        """Cards in the channel (thread replies left out)."""
        messages = self.slack.messages(sl.CHANNEL)
        return [m for m in messages if not m.get("thread_ts") or m.get("thread_ts") == m["ts"]]

    def tracking_issues(self) -> list[dict[str, Any]]:
        return [i for i in self.github.issues() if any(lb["name"] == "sitrep" for lb in i["labels"])]


Start = Callable[..., Function]


# google-cloud-logging builds a Logger per log name while listing entries, and each one asks the GCE
# metadata server (http://metadata.google.internal., 5 s timeout) where it runs. Off GCP that is a
# real network attempt, and a 5 s stall whenever DNS is slow. Sending plain-HTTP traffic to a closed
# local port fails those lookups at once; loopback (the fakes) bypasses the proxy.
# Requests to the functions under test go straight to loopback. urllib's global `urlopen` opener reads the
# proxy settings once, when first used: had that been inside a test that set NO_NETWORK, every later
# request of the session would go to the closed port.
LOOPBACK = urllib.request.build_opener(urllib.request.ProxyHandler({}))

NO_NETWORK = {
    "HTTP_PROXY": "http://127.0.0.1:9",
    "http_proxy": "http://127.0.0.1:9",
    "NO_PROXY": "127.0.0.1,localhost",
    "no_proxy": "127.0.0.1,localhost",
}


def function_env(
    slack: SlackFake,
    github: GitHubFake,
    logs: LoggingFake,
    monitoring: MonitoringFake,
    ledger: Path,
    run: CloudRunFake | None = None,
) -> dict[str, str]:
    """The settings that point the function at the fakes (no write pauses, a ledger in tmp, no way out)."""
    return {
        **({"RUN_API_ENDPOINT": run.address} if run is not None else {}),
        **NO_NETWORK,
        "SLACK_BOT_TOKEN": sl.BOT_TOKEN,
        "SLACK_CHANNEL": sl.CHANNEL,
        "SLACK_API_URL": slack.base_url,
        "GITHUB_TOKEN": gh.TOKEN,
        "GITHUB_REPOSITORY": gh.REPOSITORY,
        "GITHUB_API_URL": github.url,
        "LOGGING_API_ENDPOINT": logs.url,
        "MONITORING_API_ENDPOINT": monitoring.address,
        "SITREP_GITHUB_WRITE_INTERVAL_SECONDS": "0",
        "SITREP_LEDGER": str(ledger),
    }


@pytest.fixture
def deployed(
    monkeypatch: pytest.MonkeyPatch, logging_server: LoggingFake, monitoring_server: MonitoringFake, tmp_path: Path
) -> Iterator[Start]:
    """A factory: `deployed(slack=..., github=..., entries=..., env=...)` starts the function and returns it.

    Defaults: a Slack fake and a GitHub fake on the real clock (lookups by time window must find
    what was posted), the staging outage's entries and series served by the Logging and Monitoring
    fakes, and a Cloud Run Admin API fake serving `revisions` (none by default). `entries` / `series`
    replace the scenario's evidence; `env` adds or overrides settings (None as a value removes one).
    """
    with ExitStack() as stack:

        def start(
            *,
            slack: SlackFake | None = None,
            github: GitHubFake | None = None,
            entries: Iterable[Mapping[str, Any]] | None = None,
            series: Iterable[monitoring_v3.TimeSeries] | None = None,
            env: Mapping[str, str | None] | None = None,
            revisions: Iterable[run_v2.Revision] = (),
        ) -> Function:
            slack = stack.enter_context(slack or SlackFake(first_ts_seconds=int(time.time())))
            github = stack.enter_context(github or GitHubFake(clock=lambda: datetime.now(timezone.utc)))
            scenario = staging()
            logging_server.add_entries(scenario.entries if entries is None else entries)
            monitoring_server.add_series(*(scenario.series if series is None else series))
            run = stack.enter_context(CloudRunFake(revisions))
            settings: dict[str, str | None] = {
                **function_env(slack, github, logging_server, monitoring_server, tmp_path / "ledger.json", run),
                **(env or {}),
            }
            for key, value in settings.items():
                if value is None:
                    monkeypatch.delenv(key, raising=False)
                else:
                    monkeypatch.setenv(key, value)
            reset_runtime()
            app = create_app(  # type: ignore[no-untyped-call]
                target="handle_alert", source=str(ROOT / "main.py"), signature_type="cloudevent"
            )
            server = make_server("127.0.0.1", 0, app, threaded=True)
            thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
            thread.start()
            stack.callback(reset_runtime)
            stack.callback(server.shutdown)
            url = f"http://127.0.0.1:{server.server_port}/"
            return Function(url, scenario, slack, github, logging_server, monitoring_server, run)

        yield start


class LogCapture(logging.Handler):
    """Every record of the 'sitrep' logger as the JSON line the function prints, and every root record."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []
        self._json = JsonLineFormatter()
        self._plain = logging.Formatter("%(levelname)s %(name)s %(message)s")
        self._guard = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        formatter = self._json if record.name == "sitrep" or record.name.startswith("sitrep.") else self._plain
        line = formatter.format(record)
        with self._guard:
            self.lines.append(line)

    def events(self) -> list[dict[str, Any]]:
        """The function's JSON lines, parsed."""
        out = []
        for line in self.lines:
            if line.startswith("{"):
                out.append(json.loads(line))
        return out

    def failures(self) -> list[dict[str, Any]]:
        """JSON lines carrying the self-monitoring marker."""
        return [e for e in self.events() if e.get("sitrep_event") == "sitrep_failure"]


@pytest.fixture
def captured_logs() -> Iterator[LogCapture]:
    """Attach a LogCapture to the 'sitrep' logger (which does not propagate) and to the root logger."""
    setup_logging()  # the function's own handler, and no propagation: each record is captured once
    capture = LogCapture()
    sitrep, root = logging.getLogger("sitrep"), logging.getLogger()
    sitrep.addHandler(capture)
    root.addHandler(capture)
    try:
        yield capture
    finally:
        sitrep.removeHandler(capture)
        root.removeHandler(capture)


__all__ = ["NO_NETWORK", "Function", "LogCapture", "Reply", "Start", "captured_logs", "deployed", "function_env"]
