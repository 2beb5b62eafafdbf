"""`python main.py sample-alert`: a notification the function accepts, dated now, that open and close pair up."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from functions.core.errors import InputError
from functions.core.model import AlertState, ConditionKind
from functions.entry.sample_alert import render_sample_alert, sample_notification
from functions.entry.settings import Settings
from functions.intake.alert import parse_alert

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2031, 5, 6, 7, 8, 9, tzinfo=timezone.utc)


def test_sample_parses_as_an_open_threshold_alert_on_the_named_service() -> None:
    alert = parse_alert(render_sample_alert(project="acme-payments-prod", service="checkout", now=NOW))

    assert alert.state is AlertState.OPEN
    assert alert.project_id == "acme-payments-prod"
    assert alert.services == ("checkout",)
    assert alert.condition_kind is ConditionKind.THRESHOLD
    assert alert.policy_name == "sitrep smoke test"
    assert not alert.is_test, "a version 'test' payload is acknowledged and never becomes a card"


def test_sample_started_just_before_now_so_its_window_is_current() -> None:
    alert = parse_alert(render_sample_alert(project="acme-payments-prod", now=NOW))

    assert alert.started_at is not None
    assert NOW - timedelta(minutes=5) < alert.started_at < NOW
    max_age = timedelta(seconds=Settings.from_env({}).max_event_age_s)
    assert NOW - alert.started_at < max_age


def test_closed_sample_resolves_the_incident_the_open_sample_opened() -> None:
    opened = parse_alert(render_sample_alert(project="acme-payments-prod", now=NOW))
    later = NOW + timedelta(minutes=3)
    closed = parse_alert(render_sample_alert(project="acme-payments-prod", now=later, state="closed"))

    assert closed.state is AlertState.CLOSED
    assert closed.incident_id == opened.incident_id
    assert closed.ended_at is not None and closed.started_at is not None
    assert closed.started_at < closed.ended_at <= later


def test_another_service_or_policy_is_another_incident() -> None:
    base = sample_notification(project="acme-payments-prod", now=NOW)["incident"]["incident_id"]
    other_service = sample_notification(project="acme-payments-prod", service="api", now=NOW)
    other_policy = sample_notification(project="acme-payments-prod", policy="second check", now=NOW)

    assert other_service["incident"]["incident_id"] != base
    assert other_policy["incident"]["incident_id"] != base


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"project": "Acme_Prod"}, "--project"),
        ({"project": "acme-payments-prod", "service": "Checkout!"}, "--service"),
        ({"project": "acme-payments-prod", "policy": " "}, "--policy"),
        ({"project": "acme-payments-prod", "state": "resolved"}, "--state"),
    ],
)
def test_values_monitoring_could_never_send_are_rejected(kwargs: dict[str, str], problem: str) -> None:
    with pytest.raises(InputError, match=problem):
        render_sample_alert(now=NOW, **kwargs)


def test_cli_prints_one_line_dated_by_the_clock() -> None:
    before = datetime.now(timezone.utc)
    done = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "sample-alert", "--project", "acme-payments-prod", "--service", "api"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "HOME": "/tmp"},
        timeout=60,
    )
    after = datetime.now(timezone.utc)

    assert done.returncode == 0, done.stderr
    assert done.stdout.count("\n") == 1, 'one line, so it survives --message="$(...)"'
    alert = parse_alert(done.stdout)
    assert alert.services == ("api",)
    assert alert.started_at is not None
    # Epoch seconds truncate: compare at one-second resolution.
    assert before - timedelta(minutes=1, seconds=1) <= alert.started_at <= after


def test_cli_rejects_a_bad_project_with_one_line_and_status_2() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "sample-alert", "--project", "x"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "HOME": "/tmp"},
        timeout=60,
    )

    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("error: --project")
