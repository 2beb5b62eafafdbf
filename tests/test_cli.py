"""The command line: the example's analysis as the issue states it, and user mistakes as one clear line + exit 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "staging-outage"
NO_DELIVERY = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "SITREP_LEDGER": "/nonexistent/never-written.json"}


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        capture_output=True,
        text=True,
        input=stdin,
        cwd=ROOT,
        env=NO_DELIVERY,
        timeout=120,
    )


@pytest.fixture(scope="module")
def analysis() -> dict[str, Any]:
    done = run("replay", str(EXAMPLE), "--format", "json")
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_example_health_matches_the_outage(analysis: dict[str, Any]) -> None:
    health = {s["service"]: s["health"] for s in analysis["services"]}
    assert health == {"backend": "FAILING", "auth": "FAILING", "frontend": "DEGRADED"}
    frontend = next(s for s in analysis["services"] if s["service"] == "frontend")
    assert any("405" in reason for reason in frontend["reasons"])


def test_example_has_two_independent_roots_and_noise_is_not_one(analysis: dict[str, Any]) -> None:
    roots = [(r["category"], r["service"]) for r in analysis["root_causes"]]
    assert roots == [("dependency_missing", "backend"), ("database", "auth")]
    assert analysis["root_causes"][0]["entities"]["module"] == ["auth_service"]
    assert all(r["category"] != "noise" for r in analysis["root_causes"] + analysis["contributing"])
    assert all(len(r["chain"]) >= 2 for r in analysis["root_causes"])


def test_example_p0_actions_name_the_module_and_the_timeout(analysis: dict[str, Any]) -> None:
    p0 = " ".join(a["text"] for a in analysis["actions"] if a["priority"] == "P0")
    assert "auth_service" in p0
    assert "15s" in p0
    assert "--to-revisions=backend-00741-x2k=100" in p0  # the bad deploy is rolled back


def test_example_recognises_noise_and_counts_the_seed(analysis: dict[str, Any]) -> None:
    by_signature = {f["signature"]: f for f in analysis["failures"]}
    assert by_signature["optional-sdk-unavailable"]["count"] == 33  # "Sentry SDK not available"
    assert by_signature["optional-sdk-unavailable"]["category"] == "noise"
    assert by_signature["server-startup-banner"]["summary"].endswith("harmless")  # gunicorn banners
    assert by_signature["instance-failed-to-start"]["count"] == 43
    assert by_signature["container-exit-nonzero"]["count"] == 34


def test_replay_text_is_the_default_and_out_writes_every_rendering(tmp_path: Path) -> None:
    done = run("replay", str(EXAMPLE), "--out", str(tmp_path), "--color", "never")
    assert done.returncode == 0, done.stderr
    assert "Root causes" in done.stdout and "\x1b[" not in done.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["analysis.json", "card.md", "card.txt", "slack.json"]


@pytest.mark.parametrize(
    ("setup", "needle"),
    [
        (lambda d: None, "not a directory"),
        (lambda d: d.mkdir(), "alert.json: missing"),
        (lambda d: (d.mkdir(), (d / "alert.json").write_text("{not json")), "alert.json"),
        (lambda d: (d.mkdir(), (d / "alert.json").write_text('{"version": "1.2"}')), "alert.json"),
        (
            lambda d: (
                d.mkdir(),
                (d / "alert.json").write_bytes((EXAMPLE / "alert.json").read_bytes()),
                (d / "logs.json").write_text('[{"textPayload": "x"}, {oops'),
            ),
            "logs.json: line 1",
        ),
    ],
    ids=["no-dir", "no-alert", "alert-not-json", "alert-no-incident", "logs-malformed"],
)
def test_user_mistakes_print_one_line_and_exit_2(tmp_path: Path, setup: Any, needle: str) -> None:
    target = tmp_path / "incident"
    setup(target)
    done = run("replay", str(target))
    assert done.returncode == 2
    assert needle in done.stderr
    assert "Traceback" not in done.stderr


def test_help_documents_both_commands() -> None:
    done = run("--help")
    assert done.returncode == 0
    assert "replay" in done.stdout and "classify" in done.stdout


def test_classify_writes_one_object_per_input_line() -> None:
    lines = "No module named 'auth_service'\nContainer called exit(3).\nContainer called exit(1).\nall good\n"
    done = run("classify", "-", stdin=lines)
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["category"] for r in rows] == ["dependency_missing", "container_startup", "container_startup", "unknown"]
    assert rows[0]["entities"] == {"module": "auth_service"}
    assert rows[1]["template_id"] == rows[2]["template_id"]
    assert set(rows[0]) >= {"category", "signature", "entities", "template_id", "template"}


def test_classify_reads_a_gcloud_export(tmp_path: Path) -> None:
    done = run("classify", str(EXAMPLE / "logs.json"))
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(rows) == len(json.loads((EXAMPLE / "logs.json").read_text()))


def test_classify_missing_file_is_a_user_error() -> None:
    done = run("classify", "/nonexistent/file.json")
    assert done.returncode == 2 and "no such file" in done.stderr


def test_the_command_line_does_not_load_functions_framework() -> None:
    probe = (
        "import runpy, sys\n"
        "sys.argv = ['main.py', 'classify', '-']\n"
        "try:\n"
        "    runpy.run_path('main.py', run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('functions_framework' in sys.modules, 'flask' in sys.modules, file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, input='{"textPayload": "x"}\n',
        cwd=ROOT, env=NO_DELIVERY, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "False False"


def test_served_by_functions_framework_the_entry_points_declare_their_signature_types(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without --signature-type the framework serves each entry point as its decorator registered it."""
    from functions_framework import create_app

    monkeypatch.setenv("SLACK_SIGNING_SECRET", "test-signing-secret")

    events = create_app(target="handle_alert", source=str(ROOT / "main.py")).test_client()  # type: ignore[no-untyped-call]
    malformed_alert = events.post(
        "/",
        json={"message": {"data": "bm90IGFuIGFsZXJ0", "messageId": "1"}},  # base64 of "not an alert"
        headers={"ce-specversion": "1.0", "ce-id": "1", "ce-source": "//pubsub.googleapis.com/x",
                 "ce-type": "google.cloud.pubsub.topic.v1.messagePublished"},
    )  # fmt: skip
    assert malformed_alert.status_code == 200  # read as a CloudEvent: logged and acknowledged
    slack = create_app(target="slack_actions", source=str(ROOT / "main.py")).test_client()  # type: ignore[no-untyped-call]
    unsigned = slack.post("/", data="payload=%7B%7D", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert unsigned.status_code == 401  # served as http: our handler refused the unsigned request
