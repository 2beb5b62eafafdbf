"""Cold start: `import main`, and process start to the first alert fully handled, against eager imports.

(a) Import: the time to `import main` in a fresh interpreter (median of `--runs`), against the
    baseline of importing what an eager entry point would load up front: google.cloud.logging,
    google.cloud.monitoring_v3, slack_sdk and functions_framework. The bare interpreter's
    start is shown for scale.

(b) First alert: the fakes of tests/fakes (Slack, GitHub, Cloud Logging REST, Cloud Monitoring
    gRPC) serve the staging outage of tests/scenario.py; `functions-framework --target
    handle_alert --source main.py --signature-type cloudevent` starts as a subprocess pointed
    at them; once it listens, one binary CloudEvent carrying the alert is posted. Measured:
    process start -> HTTP 200 with the Slack card and the GitHub issue delivered (a fresh set
    of fakes per run, so every run is a first alert), and event -> both deliveries. The fakes
    timestamp each request they receive, which splits the first event into phases; one extra
    run under `python -X importtime` attributes the import cost (google clients and ours).
    A second alert to the warm instance shows what is left once everything is loaded.

Usage (from the repository root):
    python benchmarks/cold_start.py            # 10 import runs, 5 first-alert runs
    python benchmarks/cold_start.py --quick    # 3 and 1 (CI smoke)
    python benchmarks/cold_start.py --json
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.fakes import RecordedRequest, Response
from tests.fakes import slack as sl
from tests.fakes.cloud_logging import LoggingFake
from tests.fakes.cloud_monitoring import MonitoringFake
from tests.fakes.github import GitHubFake
from tests.fakes.slack import SlackFake
from tests.harness import function_env
from tests.scenario import binary_cloudevent, pubsub_data, staging

ROOT = Path(__file__).resolve().parent.parent

TARGET_IMPORT_S = 0.300
TARGET_FIRST_ALERT_S = 1.0
EAGER = ("google.cloud.logging", "google.cloud.monitoring_v3", "slack_sdk", "functions_framework")
FUNCTIONS_FRAMEWORK = Path(sys.executable).with_name("functions-framework")
LISTEN_TIMEOUT_S = 30.0
# The first event, split at the arrival of the first request of each kind at the fakes.
PHASES = (
    "event -> GitHub lookup: our modules, signatures, settings, PyGithub",
    "GitHub lookup -> 1st ListTimeSeries: Monitoring client import, channel",
    "1st ListTimeSeries -> 1st entries:list: metrics, Logging client import",
    "1st entries:list -> Slack post: logs, analysis, card, Slack lookup",
    "Slack post -> HTTP 200: Slack card, GitHub labels and issue",
)
# Packages whose import cost the -X importtime run reports (cumulative, outermost import).
IMPORT_GROUPS = (
    "functions_framework", "main", "functions.entry.runtime", "functions.entry.wiring",
    "functions.adapters.github_issues", "functions.adapters.slack_chat", "google.cloud.monitoring_v3",
    "google.cloud.logging", "github", "slack_sdk", "re2", "yaml",
)  # fmt: skip


# --- (a) import time ------------------------------------------------------------------------


def _import_seconds(modules: Sequence[str]) -> float:
    """Seconds a fresh interpreter spends importing `modules` (measured inside it)."""
    code = (
        "import time; t = time.perf_counter()\n"
        + "".join(f"import {m}\n" for m in modules)
        + "print(time.perf_counter() - t)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def _process_seconds(argv: Sequence[str]) -> float:
    start = time.perf_counter()
    subprocess.run(list(argv), cwd=ROOT, capture_output=True, check=True)
    return time.perf_counter() - start


def measure_imports(runs: int) -> dict[str, Any]:
    _import_seconds(["main", *EAGER])  # warm the page cache and the .pyc files
    ours, eager, bare = [], [], []
    for _ in range(runs):  # interleaved, so machine noise hits all alike
        ours.append(_import_seconds(["main"]))
        eager.append(_import_seconds(EAGER))
        bare.append(_process_seconds([sys.executable, "-c", "pass"]))
    ours_s, eager_s = statistics.median(ours), statistics.median(eager)
    return {
        "runs": runs,
        "import_main_s": round(ours_s, 4),
        "import_eager_s": round(eager_s, 4),
        "interpreter_start_s": round(statistics.median(bare), 4),
        "ratio": round(eager_s / ours_s, 2),
        "target_s": TARGET_IMPORT_S,
    }


# --- (b) first alert ------------------------------------------------------------------------


@dataclass
class Clock:
    """Arrival times (monotonic seconds) of every request the fakes receive."""

    events: list[tuple[float, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def mark(self, name: str) -> None:
        with self.lock:
            self.events.append((time.monotonic(), name))

    def first(self, prefix: str, after: float = 0.0) -> float | None:
        with self.lock:
            return next((t for t, n in self.events if n.startswith(prefix) and t >= after), None)

    def last(self, prefix: str) -> float | None:
        with self.lock:
            times = [t for t, n in self.events if n.startswith(prefix)]
        return times[-1] if times else None


class _TimedSlack(SlackFake):
    clock: Clock

    def _handle(self, request: RecordedRequest) -> Response:
        self.clock.mark(f"slack {request.endpoint}")
        return super()._handle(request)


class _TimedGitHub(GitHubFake):
    clock: Clock

    def _handle(self, request: RecordedRequest) -> Response:
        self.clock.mark(f"github {request.endpoint}")
        return super()._handle(request)


class _TimedLogging(LoggingFake):
    clock: Clock

    def _handle(self, request: RecordedRequest) -> Response:
        self.clock.mark(f"logging {request.endpoint}")
        return super()._handle(request)


class _TimedMonitoring(MonitoringFake):
    clock: Clock

    def _list_time_series(self, request: Any) -> Any:
        self.clock.mark("monitoring ListTimeSeries")
        return super()._list_time_series(request)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_listening(port: int, proc: subprocess.Popen[bytes]) -> float:
    deadline = time.monotonic() + LISTEN_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"functions-framework exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.05):
                return time.monotonic()
        except OSError:
            time.sleep(0.002)
    raise RuntimeError("functions-framework did not listen in time")


def _post(url: str, headers: dict[str, str], body: bytes) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def _import_costs(stderr: str) -> dict[str, float]:
    """Cumulative import seconds of IMPORT_GROUPS from `-X importtime` output (outermost line)."""
    costs: dict[str, float] = {}
    for line in stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if match and match.group(4) in IMPORT_GROUPS:
            name = match.group(4)
            costs[name] = max(costs.get(name, 0.0), int(match.group(2)) / 1e6)
    return costs


def first_alert(workdir: Path, *, importtime: bool = False) -> dict[str, Any]:
    """One cold start: spawn the function, post one alert, time it; then a second alert, warm."""
    clock = Clock()
    scenario = staging()
    with ExitStack() as stack:
        slack = _TimedSlack(first_ts_seconds=int(time.time()))
        github = _TimedGitHub(clock=lambda: datetime.now(UTC))
        logs = _TimedLogging()
        monitoring = _TimedMonitoring()
        for fake in (slack, github, logs, monitoring):
            fake.clock = clock
            stack.enter_context(fake)
        logs.add_entries(scenario.entries)
        monitoring.add_series(*scenario.series)
        port = _free_port()
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "GITHUB_", "SITREP_"))},
            **function_env(slack, github, logs, monitoring, workdir / f"ledger-{port}.json"),
        }
        argv = [str(FUNCTIONS_FRAMEWORK), "--target", "handle_alert", "--source", "main.py",
                "--signature-type", "cloudevent", "--host", "127.0.0.1", "--port", str(port)]
        if importtime:
            argv = [sys.executable, "-X", "importtime", *argv]
        err_path = workdir / f"stderr-{port}.txt"
        with open(err_path, "wb") as err:
            started = time.monotonic()
            proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err)
            try:
                listening = _wait_listening(port, proc)
                headers, body = binary_cloudevent(pubsub_data(scenario.notification()))
                posted = time.monotonic()
                status = _post(f"http://127.0.0.1:{port}/", headers, body)
                answered = time.monotonic()
                delivered = (
                    len([m for m in slack.messages(sl.CHANNEL) if not m.get("thread_ts")]) == 1
                    and len([i for i in github.issues() if any(lb["name"] == "sitrep" for lb in i["labels"])]) == 1
                )
                calls = {
                    "entries.list": len(logs.requests_to("entries.list")),
                    "ListTimeSeries": len(monitoring.requests_to("ListTimeSeries")),
                }
                second = scenario.notification(incident_id="0.second", policy="auth 5xx ratio")
                headers, body = binary_cloudevent(pubsub_data(second))
                warm_posted = time.monotonic()
                warm_status = _post(f"http://127.0.0.1:{port}/", headers, body)
                warm_s = time.monotonic() - warm_posted
            finally:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        stderr = err_path.read_text(encoding="utf-8", errors="replace")
    if status != 200 or not delivered:
        raise RuntimeError(f"first alert not handled: HTTP {status}, delivered={delivered}\n{stderr[-3000:]}")

    lookup = clock.first("github", posted)
    first_metrics = clock.first("monitoring", posted)
    first_logs = clock.first("logging", posted)
    slack_post = clock.first("slack chat.postMessage", posted)
    issue_create = clock.first("github issues/create", posted)
    delivered_at = max(slack_post, issue_create) if slack_post and issue_create else None
    marks = [posted, lookup, first_metrics, first_logs, slack_post, answered]
    phases = {
        name: round(end - begin, 4) if begin is not None and end is not None else None
        for name, begin, end in zip(PHASES, marks[:-1], marks[1:], strict=True)
    }
    result: dict[str, Any] = {
        "start_to_200_s": round(answered - started, 4),
        "start_to_listening_s": round(listening - started, 4),
        "event_to_200_s": round(answered - posted, 4),
        "event_to_deliveries_s": None if delivered_at is None else round(delivered_at - posted, 4),
        "warm_event_to_200_s": round(warm_s, 4),
        "warm_status": warm_status,
        "phases": phases,
        "calls": calls,
    }
    if importtime:
        result["import_costs_s"] = _import_costs(stderr)
    return result


def measure_first_alerts(runs: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="sitrep-cold-") as tmp:
        workdir = Path(tmp)
        first_alert(workdir)  # warm the page cache and the .pyc files; not counted
        samples = [first_alert(workdir) for _ in range(runs)]
        profiled = first_alert(workdir, importtime=True)

    def median(key: str) -> float:
        return round(float(statistics.median(s[key] for s in samples)), 4)

    phases = {
        name: round(statistics.median(s["phases"][name] for s in samples if s["phases"][name] is not None), 4)
        for name in samples[0]["phases"]
    }
    return {
        "runs": runs,
        "start_to_200_s": median("start_to_200_s"),
        "start_to_200_all_s": [s["start_to_200_s"] for s in samples],
        "start_to_listening_s": median("start_to_listening_s"),
        "event_to_200_s": median("event_to_200_s"),
        "event_to_deliveries_s": median("event_to_deliveries_s"),
        "warm_event_to_200_s": median("warm_event_to_200_s"),
        "phases_s": phases,
        "calls": samples[0]["calls"],
        "import_costs_s": profiled["import_costs_s"],
        "target_s": TARGET_FIRST_ALERT_S,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="fresh interpreters timed for the import")
    parser.add_argument("--alerts", type=int, default=5, help="cold starts timed up to the first alert handled")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--quick", action="store_true", help="a small run that only checks the benchmark works (CI)")
    args = parser.parse_args(argv)
    runs, alerts = (3, 1) if args.quick else (args.runs, args.alerts)
    imports = measure_imports(runs)
    first = measure_first_alerts(alerts)
    if args.json:
        print(json.dumps({"imports": imports, "first_alert": first}, indent=2, sort_keys=True))
        return 0
    ms = 1000
    print(f"(a) import, median of {imports['runs']} fresh interpreters")
    print(f"    import main                          {imports['import_main_s'] * ms:7.0f} ms")
    print(f"    baseline: import {', '.join(EAGER)}")
    print(f"                                         {imports['import_eager_s'] * ms:7.0f} ms")
    print(f"    (bare interpreter start, for scale   {imports['interpreter_start_s'] * ms:7.0f} ms)")
    verdict = "met" if imports["import_main_s"] <= TARGET_IMPORT_S else "NOT met"
    print(f"    ratio (baseline / ours): {imports['ratio']:.1f}x; target import main <= "
          f"{TARGET_IMPORT_S * ms:.0f} ms: {verdict}")
    print(f"(b) first alert, functions-framework subprocess + fakes, median of {first['runs']} cold start(s)")
    print(f"    process start -> listening           {first['start_to_listening_s'] * ms:7.0f} ms")
    print(f"    event -> Slack card + GitHub issue   {first['event_to_deliveries_s'] * ms:7.0f} ms")
    print(f"    event -> HTTP 200                    {first['event_to_200_s'] * ms:7.0f} ms")
    print(f"    process start -> HTTP 200            {first['start_to_200_s'] * ms:7.0f} ms  "
          f"(runs: {', '.join(f'{s * ms:.0f}' for s in first['start_to_200_all_s'])})")
    verdict = "met" if first["start_to_200_s"] <= TARGET_FIRST_ALERT_S else "NOT met"
    print(f"    target first alert <= {TARGET_FIRST_ALERT_S * ms:.0f} ms: {verdict}")
    print(f"    a second alert, warm instance        {first['warm_event_to_200_s'] * ms:7.0f} ms")
    print("    first event, by phase (from the fakes' request arrival times):")
    for name, seconds in first["phases_s"].items():
        print(f"      {name:<70} {seconds * ms:6.0f} ms")
    print("    import cost, cumulative (-X importtime run; nested figures are included in their parents):")
    for name, seconds in sorted(first["import_costs_s"].items(), key=lambda kv: -kv[1]):
        print(f"      {name:<40} {seconds * ms:6.0f} ms")
    print(f"    Google API calls: {first['calls']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
