"""Recorded outages of stacks the signatures were not written for: what a good analysis must conclude.

The six examples (scripts/make_stack_examples.py) were written from the stacks' own log formats by
someone who had not read the classifier: Rails on Puma, Laravel behind nginx and php-fpm, ASP.NET
Core on Kestrel, a Cloud Run job, a spike made only of harmless notices, and a spike made only of
client errors. Each README says what happened and what an on-call engineer would conclude; these
tests pin those conclusions through the command line, as a new user would run it.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.example_runs import EXAMPLES, ROOT, actions_text, analyse, health_of, roots_of, run

NO_FAILURE_FOUND = re.compile(r"(?i)\bno (server )?failure (was )?found\b")
STACK_EXAMPLES = ("ruby-rails-pg", "php-laravel-fpm", "dotnet-kestrel-token", "run-job-failed",
                  "noise-only-spike", "client-errors-only")
NOT_A_VERDICT = frozenset({"unknown", "noise"})  # for lines that are failures, whichever category they get

_rows: dict[str, list[tuple[dict[str, Any], dict[str, Any]]]] = {}


def classified(name: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Each LogEntry of the example beside the row `python main.py classify` prints for it."""
    if name not in _rows:
        path = EXAMPLES / name / "logs.json"
        entries = json.loads(path.read_text(encoding="utf-8"))
        rows = [json.loads(line) for line in run("classify", str(path)).splitlines()]
        assert len(rows) == len(entries)
        _rows[name] = list(zip(entries, rows, strict=True))
    return _rows[name]


def categories_of(name: str, needle: str) -> dict[str, int]:
    """Category -> how many of the example's entries containing `needle` (anywhere in the entry) got it."""
    counts: dict[str, int] = {}
    for entry, row in classified(name):
        if needle in json.dumps(entry, ensure_ascii=False):
            counts[row["category"]] = counts.get(row["category"], 0) + 1
    return counts


@pytest.mark.parametrize(
    ("name", "health"),
    [
        ("ruby-rails-pg", {"shop-web": "FAILING", "shop-admin": "DEGRADED", "shop-search": "HEALTHY"}),
        ("php-laravel-fpm", {"portal": "FAILING", "webhooks": "HEALTHY"}),
        # fx-rates answers 401 to an expired token: a correct answer, not a failure of fx-rates
        ("dotnet-kestrel-token", {"ledger-api": "FAILING", "statements-api": "DEGRADED", "fx-rates": "HEALTHY"}),
        # jobs have no requests: health comes from the executions (0/6 tasks succeeded vs every run succeeded)
        ("run-job-failed", {"nightly-export": "FAILING", "events-rollup": "HEALTHY"}),
        ("noise-only-spike", {"reports-api": "HEALTHY", "reports-web": "HEALTHY"}),
        # one scanner's 404s are client errors: the service answers them correctly
        ("client-errors-only", {"public-api": "HEALTHY", "docs-site": "HEALTHY"}),
    ],
)
def test_health_per_service(name: str, health: dict[str, str]) -> None:
    assert health_of(analyse(name)) == health


@pytest.mark.parametrize("name", STACK_EXAMPLES[:4])
def test_noise_and_symptoms_are_never_roots(name: str) -> None:
    analysis = analyse(name)
    listed = analysis["root_causes"] + analysis["contributing"]
    assert all(r["category"] not in NOT_A_VERDICT for r in listed), [(r["category"], r["summary"]) for r in listed]
    assert all(len(r["chain"]) >= 2 for r in analysis["root_causes"])


# --- what each line is: the root's evidence, its symptoms, the harmless notices -------------------

LINE_VERDICTS = [
    # (example, text in the entry, categories it may get)
    ("ruby-rails-pg", "ActiveRecord::ConnectionNotEstablished", {"database"}),
    ("ruby-rails-pg", "DEPRECATION WARNING: `to_time`", {"noise"}),
    ("ruby-rails-pg", "Puma starting in cluster mode", {"noise"}),
    ("php-laravel-fpm", "production.ERROR: SQLSTATE[HY000] [2002] Connection timed out", {"database"}),
    ("php-laravel-fpm", "[previous exception] [object] (PDOException(code: 2002)", {"database"}),
    ("php-laravel-fpm", "Creation of dynamic property", {"noise"}),
    ("php-laravel-fpm", "NOTICE: ready to handle connections", {"noise"}),
    ("dotnet-kestrel-token", "IDX10223: Lifetime validation failed", {"auth"}),
    ("dotnet-kestrel-token", "does not indicate success: 401 (Unauthorized)", {"auth"}),
    ("dotnet-kestrel-token", "The connection pool has been exhausted", {"database"}),
    ("dotnet-kestrel-token", "Using an in-memory repository. Keys will not be persisted", {"noise"}),
    ("dotnet-kestrel-token", "Neither user profile nor HKLM registry available", {"noise"}),
    ("run-job-failed", "does not have storage.objects.create access", {"auth"}),
    ("run-job-failed", "pandas only supports SQLAlchemy connectable", {"noise"}),
    ("noise-only-spike", "without a quota project", {"noise"}),
    ("noise-only-spike", "Overriding of current TracerProvider is not allowed", {"noise"}),
    ("noise-only-spike", "Container Sandbox: Unsupported syscall", {"noise"}),
    ("noise-only-spike", "Connection pool is full, discarding connection", {"noise"}),
    ("noise-only-spike", "file_cache is only supported with oauth2client<4.0.0", {"noise"}),
    ("noise-only-spike", "[INFO] Starting gunicorn", {"noise"}),
]


@pytest.mark.parametrize(("name", "needle", "allowed"), LINE_VERDICTS)
def test_each_line_gets_the_category_its_stack_means(name: str, needle: str, allowed: set[str]) -> None:
    found = categories_of(name, needle)
    assert found, f"no entry of {name} contains {needle!r}"
    assert set(found) <= allowed, found


SYMPTOM_LINES = [
    # failures that are symptoms here: whatever category, they are not unknown and not noise
    ("php-laravel-fpm", "server reached pm.max_children setting"),
    ("php-laravel-fpm", "upstream timed out (110: Connection timed out) while reading response header"),
    ("dotnet-kestrel-token", "An unhandled exception was thrown by the application."),
    ("run-job-failed", "has failed to complete, 0/6 tasks were a success."),
    ("run-job-failed", "Container called exit(1)."),
]


@pytest.mark.parametrize(("name", "needle"), SYMPTOM_LINES)
def test_symptom_lines_are_read_as_failures(name: str, needle: str) -> None:
    found = categories_of(name, needle)
    assert found, f"no entry of {name} contains {needle!r}"
    assert not set(found) & NOT_A_VERDICT, found


# --- Ruby: Rails on Puma ------------------------------------------------------------------------

def test_rails_root_is_the_exhausted_connection_slots_after_the_deploy() -> None:
    analysis = analyse("ruby-rails-pg")
    # shop-admin's failures come from the same exhausted instance: one cause, one root
    assert roots_of(analysis) == [("database", "shop-web")]
    assert analysis["root_causes"][0]["previous_revision"] == "shop-web-00142-kiv"


def test_rails_p0_rolls_back_and_names_the_connection_limit() -> None:
    p0 = actions_text(analyse("ruby-rails-pg"), "P0")
    assert "gcloud run services update-traffic shop-web --to-revisions=shop-web-00142-kiv=100" in p0
    assert re.search(r"(?i)connection slots|too many clients|max_connections|connection limit", p0), p0
    assert "update-traffic shop-admin" not in actions_text(analyse("ruby-rails-pg"))


# --- PHP: Laravel, php-fpm, nginx ---------------------------------------------------------------

def test_laravel_root_is_the_unreachable_database_not_its_symptoms() -> None:
    analysis = analyse("php-laravel-fpm")
    # pm.max_children and nginx's 504s are workers stuck on the database connect
    assert roots_of(analysis) == [("database", "portal")]


def test_laravel_p0_names_the_database_and_nothing_is_rolled_back() -> None:
    analysis = analyse("php-laravel-fpm")
    # Laravel 11 logs "SQLSTATE[HY000] [2002] Connection timed out" without the host: the action can only
    # name what the evidence holds (the MySQL connection), not the address the README knows.
    assert re.search(r"(?i)mysql", actions_text(analysis, "P0"))
    assert "update-traffic" not in actions_text(analysis)


# --- .NET: Kestrel, an expired token, an Npgsql pool --------------------------------------------

def test_dotnet_roots_are_one_expired_token_and_the_npgsql_pool() -> None:
    roots = roots_of(analyse("dotnet-kestrel-token"))
    auth = [service for category, service in roots if category == "auth"]
    # the same expired token, rejected by fx-rates and failing ledger-api's calls, is one cause
    assert len(auth) == 1 and auth[0] in ("ledger-api", "fx-rates"), roots
    assert roots[0][0] == "auth"
    assert ("database", "statements-api") in roots
    assert len(roots) == 2, roots


def test_dotnet_actions_refresh_the_token_and_relieve_the_pool() -> None:
    analysis = analyse("dotnet-kestrel-token")
    assert re.search(r"(?i)token", actions_text(analysis, "P0"))
    pool = [a["text"] for a in analysis["actions"] if a["category"] == "database"]
    assert any(re.search(r"(?i)pool", text) for text in pool), pool
    assert "update-traffic" not in actions_text(analysis)  # no deploy in the window


# --- a Cloud Run job ----------------------------------------------------------------------------

def test_job_root_is_the_denied_bucket_of_the_job() -> None:
    analysis = analyse("run-job-failed")
    assert roots_of(analysis) == [("auth", "nightly-export")]


def test_job_p0_grants_the_service_account_on_the_bucket_and_rolls_nothing_back() -> None:
    analysis = analyse("run-job-failed")
    p0 = actions_text(analysis, "P0")
    assert "acme-exports-prd" in p0
    assert "nightly-export@acme-data-prd.iam.gserviceaccount.com" in p0
    assert "update-traffic" not in actions_text(analysis)  # a job has no traffic to move


# --- a spike without a failure ------------------------------------------------------------------

@pytest.mark.parametrize("name", ["noise-only-spike", "client-errors-only"])
def test_a_spike_without_a_failure_has_no_root_and_says_so(name: str) -> None:
    analysis = analyse(name)
    assert analysis["root_causes"] == []
    assert analysis["contributing"] == []
    assert NO_FAILURE_FOUND.search(analysis["summary"]), analysis["summary"]
    assert len(analysis["actions"]) == 1, [a["text"] for a in analysis["actions"]]


def test_noise_spike_action_is_the_exclusion_for_the_named_policy() -> None:
    text = actions_text(analyse("noise-only-spike"))
    assert "reports-api warning log entries (staging)" in text
    assert re.search(r"\bNOT\b|\s-\"|!~|!=", text), text  # a Logging-query exclusion
    assert "quota project" in text  # the largest of the harmless notices


def test_client_error_spike_action_names_the_offending_client() -> None:
    text = actions_text(analyse("client-errors-only"))
    assert "404" in text
    assert "203.0.113.77" in text or "nuclei" in text.lower(), text


def test_a_url_quoting_failure_text_stays_a_request() -> None:
    rows = [row for entry, row in classified("client-errors-only")
            if "Cannot%20find%20module" in entry.get("httpRequest", {}).get("requestUrl", "")]
    assert rows
    assert all(row["category"] != "dependency_missing" for row in rows), {row["category"] for row in rows}


# --- the files are what the generator writes ----------------------------------------------------

def test_examples_are_what_the_generator_writes(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "make_stack_examples.py"), "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    for name in STACK_EXAMPLES:
        for file in ("alert.json", "logs.json", "metrics.json", "README.md"):
            written = (tmp_path / name / file).read_text(encoding="utf-8")
            assert written == (EXAMPLES / name / file).read_text(encoding="utf-8"), f"{name}/{file} is stale"
