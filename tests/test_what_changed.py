"""What changed in the project: audit entries and revisions parsed, diffed, linked to roots only when they
touch the same thing, rendered on every surface, read live through the real clients against the fakes."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from functions.adapters.cloud_logging import CloudLoggingSource, build_audit_filter
from functions.adapters.cloud_run import CloudRunRevisions
from functions.analysis.changes import diff_specs, link_changes, revisions_to_read, what_changed
from functions.card.incident import redact_what_changed
from functions.core.model import Action, Category, LogRecord, Priority, RootCause, Severity
from functions.core.project_changes import AuditChange, ChangeEvidence, ChangeKind, ProjectChange, WhatChanged
from functions.intake.changes import audit_change, records_and_changes, revision_spec, revisions_from_json
from functions.intake.evidence import parse_rfc3339
from functions.redaction.redact import redact
from functions.render.jsonout import iso
from functions.render.markdown import render_markdown
from functions.render.slack import SLACK_MAX_CHANGES, render_slack
from tests import audit_entries as ae
from tests.cardfactory import staging_card
from tests.fakes.cloud_logging import LoggingFake, log_entry
from tests.fakes.cloud_run import CloudRunFake, revision
from tests.harness import NO_NETWORK, Start

ROOT = Path(__file__).resolve().parent.parent
OLD = ae.knative_template(
    "gcr.io/p/backend@sha256:1111aa12",
    {"AUTH_URL": "https://auth.example", "SERVICE_ID": "backend", "LOG_LEVEL": "info"},
    secrets={"DB_PASSWORD": ("db-password", "3")},
)
NEW = ae.knative_template(
    "gcr.io/p/backend@sha256:2222cd34",
    {"SERVICE_ID": "backend ", "LOG_LEVEL": "info", "FEATURE_X": "on"},
    secrets={"DB_PASSWORD": ("db-password", "4")},
    memory="256Mi",
)


def _at(text: str) -> datetime:
    moment = parse_rfc3339(text)
    assert moment is not None
    return moment


def _root(category: Category, service: str, first_seen: str, **entities: tuple[str, ...]) -> RootCause:
    return RootCause(
        category=category,
        signature="sig",
        service=service,
        summary="s",
        chain=("symptom",),
        count=9,
        severity=Severity.CRITICAL,
        first_seen=_at(first_seen),
        entities=entities,
    )


# --- intake -----------------------------------------------------------------------------------


def test_a_replace_service_entry_is_a_deploy_with_its_generation_previous_revision_and_spec() -> None:
    entry = ae.replace_service("backend", "2025-12-02T01:04:12Z", NEW, generation=742, previous="backend-00741-x7q")
    change = audit_change(entry)
    assert change is not None and change.kind is ChangeKind.DEPLOY
    assert (change.service, change.location, change.generation) == ("backend", ae.REGION, 742)
    assert change.revision == ""  # the response still shows the old revision as latest
    assert change.previous_revision == "backend-00741-x7q"
    assert change.actor == "ci@test-project.iam.gserviceaccount.com"
    assert change.spec is not None and [name for name, _ in change.spec.env] == ["FEATURE_X", "LOG_LEVEL", "SERVICE_ID"]
    assert change.spec.secret_refs == (("DB_PASSWORD", "db-password:4"),)


def test_env_var_values_are_never_kept() -> None:
    spec = revision_spec(OLD)
    assert "auth.example" not in repr(spec)
    assert "https" not in repr(spec)


@pytest.mark.parametrize(
    ("entry", "kind", "subject_part", "detail"),
    [
        (ae.sql_restart("2025-12-03T14:20:05Z", first=True), ChangeKind.DATABASE, "pay-db", "restarted"),
        (
            ae.secret_version("DisableSecretVersion", "db-password", "3", "2025-12-03T14:00:00Z"),
            ChangeKind.SECRET,
            "db-password",
            "version disabled (version 3)",
        ),
        (
            ae.set_iam_policy(
                "projects/test-project",
                "2025-12-03T14:00:00Z",
                action="REMOVE",
                role="roles/cloudsql.client",
                member="serviceAccount:app@test-project.iam.gserviceaccount.com",
            ),
            ChangeKind.IAM,
            "project test-project",
            "removed roles/cloudsql.client from serviceAccount:app@test-project.iam.gserviceaccount.com",
        ),
        (
            ae.audit(
                "v1.compute.firewalls.patch",
                "projects/test-project/global/firewalls/allow-db",
                "2025-12-03T14:00:00Z",
                service_name="compute.googleapis.com",
            ),
            ChangeKind.NETWORK,
            "allow-db",
            "firewalls patch",
        ),
    ],
)
def test_other_changes_are_recognised(entry: dict[str, Any], kind: ChangeKind, subject_part: str, detail: str) -> None:
    change = audit_change(entry)
    assert change is not None and change.kind is kind
    assert subject_part in change.target
    assert detail in change.detail


def test_reads_and_unrelated_methods_are_not_changes_and_stay_log_evidence() -> None:
    run_job = ae.audit("google.cloud.run.v2.Jobs.RunJob", "projects/p/locations/l/jobs/j", "2025-12-03T14:00:00Z")
    deploy = ae.replace_service("backend", "2025-12-02T01:04:12Z", NEW, generation=742, previous="backend-00741-x7q")
    app = log_entry("KeyError: 'AUTH_URL'")
    stream = list(records_and_changes([run_job, deploy, app]))
    assert audit_change(run_job) is None
    assert [r.message for r in stream if isinstance(r, LogRecord)] == [
        "google.cloud.run.v2.Jobs.RunJob projects/p/locations/l/jobs/j",
        "KeyError: 'AUTH_URL'",
    ]
    assert [c.kind for c in stream if isinstance(c, AuditChange)] == [ChangeKind.DEPLOY]


def test_gcloud_v1_and_admin_api_v2_revisions_read_alike() -> None:
    v1 = revisions_from_json(ae.knative_revision("backend", "backend-00741-x7q", OLD))
    api = revision(
        "test-project",
        ae.REGION,
        "backend",
        "backend-00741-x7q",
        image="gcr.io/p/backend@sha256:1111aa12",
        env={"AUTH_URL": "https://auth.example", "SERVICE_ID": "backend", "LOG_LEVEL": "info"},
        secret_env={"DB_PASSWORD": ("db-password", "3")},
        concurrency=80,
        max_instances=10,
    )
    from google.cloud import run_v2

    v2 = revision_spec(json.loads(run_v2.Revision.to_json(api)))
    [old] = v1
    for field in ("name", "service", "image", "env", "secret_refs", "memory", "concurrency", "max_instances"):
        assert getattr(old, field) == getattr(v2, field), field


# --- diff and linking ----------------------------------------------------------------------


def test_the_revision_diff_names_what_changed_without_values() -> None:
    diff = diff_specs(revision_spec(OLD), revision_spec(NEW))
    assert diff.details[0] == "image …aa12 → …cd34"
    assert diff.details[1] == "env DB_PASSWORD, SERVICE_ID changed, AUTH_URL removed, FEATURE_X added"
    assert "secret db-password:3 → db-password:4 (DB_PASSWORD)" in diff.details
    assert "memory 512Mi → 256Mi" in diff.details
    assert diff.env_removed == ("AUTH_URL",) and diff.image_changed
    assert not any("backend " in d or "https" in d for d in diff.details)


def _deploy_evidence(**overrides: Any) -> ChangeEvidence:
    entry = ae.replace_service("backend", "2025-12-02T01:04:12Z", NEW, generation=742, previous="backend-00741-x7q")
    change = audit_change(entry)
    assert change is not None
    revisions = revisions_from_json(
        [
            ae.knative_revision("backend", "backend-00742-b95", NEW),
            ae.knative_revision("backend", "backend-00741-x7q", OLD),
        ]
    )
    evidence = ChangeEvidence(
        start=_at("2025-12-02T00:40:00Z"), end=_at("2025-12-02T01:20:00Z"), audit=(change,), revisions=revisions
    )
    return replace(evidence, **overrides)


def test_the_deploy_line_names_the_new_revision_from_its_generation_and_the_one_it_replaced() -> None:
    [line] = what_changed(_deploy_evidence())
    assert (line.subject, line.previous_revision, line.verb) == ("backend-00742-b95", "backend-00741-x7q", "deployed")
    assert line.env_removed == ("AUTH_URL",)


def test_a_keyerror_root_is_linked_to_the_deploy_that_removed_its_env_var_and_the_rollback_names_it() -> None:
    root = _root(Category.CONFIGURATION, "backend", "2025-12-02T01:05:01Z", env_var=("AUTH_URL",))
    linked = link_changes(_deploy_evidence(), [root], [], [Action(Priority.P0, "Set 'AUTH_URL'.")], region="eu")
    [cause] = linked.root_causes
    assert cause.chain[-1].startswith("changed before it: 01:04 backend-00742-b95 deployed by ci@")
    assert linked.what_changed.changes[0].linked == ("configuration in backend",)
    rollback = linked.actions[0]
    assert rollback.priority is Priority.P0
    assert "undoing the 01:04 deploy of backend-00742-b95 by ci@test-project" in rollback.text
    assert "--to-revisions=backend-00741-x7q=100 --region=eu" in rollback.text


@pytest.mark.parametrize(
    ("root", "why"),
    [
        (_root(Category.CONFIGURATION, "backend", "2025-12-02T01:05:01Z", env_var=("REDIS_URL",)), "another var"),
        (_root(Category.CONFIGURATION, "frontend", "2025-12-02T01:05:01Z", env_var=("AUTH_URL",)), "another service"),
        (_root(Category.CONFIGURATION, "backend", "2025-12-02T01:03:00Z", env_var=("AUTH_URL",)), "errors before"),
        (_root(Category.DATABASE, "backend", "2025-12-02T01:05:01Z"), "a deploy does not explain DB timeouts"),
    ],
)
def test_nothing_is_linked_on_timing_alone(root: RootCause, why: str) -> None:
    linked = link_changes(_deploy_evidence(), [root], [], [])
    assert linked.root_causes == (root,), why
    assert linked.what_changed.changes[0].linked == ()


def test_a_missing_module_is_linked_to_a_new_image_only() -> None:
    root = _root(Category.DEPENDENCY_MISSING, "backend", "2025-12-02T01:05:01Z", module=("auth_service",))
    assert link_changes(_deploy_evidence(), [root], [], []).what_changed.changes[0].linked
    same_image = ae.knative_template(OLD["spec"]["containers"][0]["image"], {"SERVICE_ID": "x"})
    evidence = _deploy_evidence(
        revisions=revisions_from_json(
            [
                ae.knative_revision("backend", "backend-00742-b95", same_image),
                ae.knative_revision("backend", "backend-00741-x7q", OLD),
            ]
        )
    )
    assert not link_changes(evidence, [root], [], []).what_changed.changes[0].linked


def test_db_timeouts_are_linked_to_a_cloud_sql_restart_logged_as_one_operation() -> None:
    first = audit_change(ae.sql_restart("2025-12-03T14:20:05Z", first=True))
    last = audit_change(ae.sql_restart("2025-12-03T14:23:11Z", first=False))
    assert first is not None and last is not None
    evidence = ChangeEvidence(start=_at("2025-12-03T14:00:00Z"), end=_at("2025-12-03T14:30:00Z"), audit=(last, first))
    roots = [
        _root(Category.DATABASE, "payments", "2025-12-03T14:20:11Z"),
        _root(Category.DATABASE, "ledger", "2025-12-03T14:20:12Z"),
    ]
    linked = link_changes(evidence, roots, [], [])
    [restart] = linked.what_changed.changes
    assert (restart.subject, restart.verb, restart.at) == ("Cloud SQL pay-db", "restarted", first.at)
    assert restart.linked == ("database in payments", "database in ledger")


def test_permission_denied_is_linked_to_an_iam_removal_not_to_a_grant() -> None:
    root = _root(Category.AUTH, "orders", "2025-12-03T14:05:00Z")
    for action, expected in (("REMOVE", True), ("ADD", False)):
        change = audit_change(
            ae.set_iam_policy(
                "projects/test-project",
                "2025-12-03T14:00:00Z",
                action=action,
                role="roles/cloudsql.client",
                member="serviceAccount:a@b.iam.gserviceaccount.com",
            )
        )
        assert change is not None
        evidence = ChangeEvidence(start=_at("2025-12-03T13:30:00Z"), end=_at("2025-12-03T14:30:00Z"), audit=(change,))
        assert bool(link_changes(evidence, [root], [], []).what_changed.changes[0].linked) is expected


def test_no_change_in_the_window_is_said_and_failed_requests_changed_nothing() -> None:
    failed = audit_change(
        ae.replace_service("backend", "2025-12-02T01:04:12Z", NEW, generation=742, previous="backend-00741-x7q")
        | {
            "protoPayload": {
                **ae.replace_service(
                    "backend", "2025-12-02T01:04:12Z", NEW, generation=742, previous="backend-00741-x7q"
                )["protoPayload"],
                "status": {"code": 10, "message": "Conflict"},
            }
        }
    )
    assert failed is not None and failed.failed
    evidence = ChangeEvidence(start=_at("2025-12-02T00:40:00Z"), end=_at("2025-12-02T01:20:00Z"), audit=(failed,))
    section = link_changes(evidence, [], [], []).what_changed
    assert section == WhatChanged((), "No change found in the window (00:40–01:20 UTC).")
    assert link_changes(None, [], [], []).what_changed == WhatChanged()


def test_revisions_to_read_are_at_most_two_the_new_one_found_in_the_logs() -> None:
    change = audit_change(
        ae.replace_service("backend", "2025-12-02T01:04:12Z", NEW, generation=742, previous="backend-00741-x7q")
    )
    assert change is not None
    records = [LogRecord(None, "ERROR", "x", service="backend", revision="backend-00742-b95")]
    base = f"projects/{ae.PROJECT}/locations/{ae.REGION}/services/backend/revisions/"
    assert revisions_to_read([change], records) == (base + "backend-00742-b95", base + "backend-00741-x7q")


# --- the card and its renderers ---------------------------------------------------------------


def _section(n: int) -> WhatChanged:
    start = datetime(2025, 12, 2, 0, 0, tzinfo=UTC)
    changes = tuple(
        ProjectChange(
            ChangeKind.DEPLOY,
            start + timedelta(minutes=n - i),
            "alice@example.com",
            f"svc-{i:05d}-abc <!here>",
            "deployed",
            (f"env VAR_{i} removed",),
            service="svc",
        )
        for i in range(n)
    )
    return WhatChanged(changes)


def test_slack_shows_at_most_five_changes_newest_first_escaped_and_redacted() -> None:
    card = replace(staging_card(), what_changed=redact_what_changed(_section(8), redact))
    [block] = [b for b in render_slack(card)["blocks"] if b["block_id"] == "sitrep_changes"]
    text = block["elements"][0]["text"]
    lines = [line for line in text.splitlines() if line.startswith("•")]
    assert len(lines) == SLACK_MAX_CHANGES
    assert "svc-00000" in lines[0] and "svc-00004" in lines[-1]
    assert "… and 3 more changes in the issue" in text
    assert "<!here>" not in text and "&lt;!here&gt;" in text
    assert "alice@example.com" not in text


def test_the_issue_lists_every_change() -> None:
    card = replace(staging_card(), what_changed=redact_what_changed(_section(8), redact))
    body = render_markdown(card)
    assert "### What changed" in body
    assert all(f"svc-{i:05d}-abc" in body for i in range(8))


def test_without_a_change_source_the_section_is_absent() -> None:
    card = staging_card()
    assert card.what_changed is None
    assert not any(b["block_id"] == "sitrep_changes" for b in render_slack(card)["blocks"])
    assert "What changed" not in render_markdown(card)


# --- the recorded outages ------------------------------------------------------------------


def _replay(name: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "replay", str(ROOT / "examples" / name), "--format", "json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "HOME": "/tmp", "SITREP_LEDGER": "/nonexistent/x.json"},
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_deploy_env_removed_names_the_deployer_revision_and_variable_and_links_the_keyerror() -> None:
    analysis = _replay("deploy-env-removed")
    deploy = analysis["changes"][0]
    assert deploy["actor"] == "ci-deployer@acme-shop-stg.iam.gserviceaccount.com"
    assert (deploy["subject"], deploy["previous_revision"]) == ("backend-00742-b95", "backend-00741-x7q")
    assert deploy["env_removed"] == ["AUTH_URL"] and deploy["env_changed"] == ["SERVICE_ID"]
    assert deploy["linked_to"] == ["configuration in backend"]
    assert analysis["changes"][1]["kind"] == "iam" and analysis["changes"][1]["linked_to"] == []
    [root] = analysis["root_causes"]
    assert root["entities"]["env_var"] == ["AUTH_URL"]
    assert "AUTH_URL removed" in root["chain"][-1]
    assert analysis["actions"][0]["text"].startswith(
        "Roll back backend to backend-00741-x7q, undoing the 01:04 deploy of backend-00742-b95 by ci-deployer@"
    )
    assert "auth.internal.example" not in json.dumps(analysis)


def test_cloudsql_restart_is_linked_to_the_db_timeouts() -> None:
    analysis = _replay("cloudsql-restart")
    restart, web = analysis["changes"]
    assert (restart["subject"], restart["verb"]) == ("Cloud SQL pay-db", "restarted")
    assert restart["actor"] == "[REDACTED:email]"
    assert restart["linked_to"] == ["database in payments"]
    [root] = analysis["root_causes"]  # one cause seen from two services is one root
    assert "the same failure in ledger" in " ".join(root["chain"])
    assert web["linked_to"] == []
    assert all("Cloud SQL pay-db restarted" in r["chain"][-1] for r in analysis["root_causes"])


def test_an_outage_without_audit_entries_says_no_change_was_found() -> None:
    analysis = _replay("staging-outage")
    assert analysis["changes"] == []
    assert analysis["changes_note"].startswith("No change found in the window (")


# --- the adapters against the fakes --------------------------------------------------------


def test_the_audit_read_is_one_bounded_page_of_the_activity_log(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in NO_NETWORK.items():
        monkeypatch.setenv(key, value)
    deploy = ae.replace_service("backend", "2025-12-02T01:04:12Z", NEW, generation=742, previous="backend-00741-x7q")
    outside = ae.replace_service("backend", "2025-12-01T01:04:12Z", NEW, generation=700, previous="backend-00699-abc")
    noise = log_entry("KeyError: 'AUTH_URL'", timestamp="2025-12-02T01:05:00Z")
    with LoggingFake([deploy, outside, noise]) as fake:
        source = CloudLoggingSource(endpoint=fake.url)
        found = source.read_changes(ae.PROJECT, _at("2025-12-02T00:40:00Z"), _at("2025-12-02T01:20:00Z"))
        assert found.calls == 1 and found.error == ""
        assert [c.generation for c in found.audit] == [742]
        assert fake.filters == [
            build_audit_filter(ae.PROJECT, _at("2025-12-02T00:40:00Z"), _at("2025-12-02T01:20:00Z"))
        ]
        assert fake.ignored_filter_terms == []


def test_revisions_are_read_through_run_v2_at_most_two_and_a_failure_is_a_note() -> None:
    base = dict(project="test-project", location=ae.REGION, service="backend")
    served = [
        revision(**base, name=f"backend-0074{i}-abc", image=f"img:{i}", env={"A": "secret-value"}) for i in range(3)
    ]
    with CloudRunFake(served) as fake:
        source = CloudRunRevisions(endpoint=fake.address, timeout_s=5)
        sample = source.read_revisions([r.name for r in served])
        assert sample.calls == 2 and len(fake.requests) == 2
        assert [s.name for s in sample.revisions] == ["backend-00740-abc", "backend-00741-abc"]
        assert "secret-value" not in repr(sample)
        fake.fail_next()
        failed = source.read_revisions([served[0].name])
        assert failed.revisions == () and "Cloud Run revisions unavailable" in failed.error


# --- the function, end to end ----------------------------------------------------------------


def test_the_deployed_function_reads_the_deploy_and_its_revisions_and_links_the_missing_module(
    deployed: Start,
) -> None:
    from tests.scenario import staging

    scenario = staging()
    first_error = min(
        e["timestamp"] for e in scenario.entries if e["resource"]["labels"].get("revision_name") == "backend-00742-b95"
    )
    deployed_at = iso(_at(first_error) - timedelta(seconds=90)) or ""
    old = ae.knative_template("us-docker.pkg.dev/test-project/apps/backend@sha256:0000aa12", {"SERVICE_ID": "backend"})
    new = ae.knative_template("us-docker.pkg.dev/test-project/apps/backend@sha256:ffffcd34", {"SERVICE_ID": "backend"})
    deploy = ae.replace_service("backend", deployed_at, new, generation=742, previous="backend-00741-x2k")
    revisions = [
        revision(ae.PROJECT, ae.REGION, "backend", name, image=tpl["spec"]["containers"][0]["image"],
                 env={"SERVICE_ID": "backend"})
        for name, tpl in (("backend-00742-b95", new), ("backend-00741-x2k", old))
    ]  # fmt: skip
    function = deployed(entries=[*scenario.entries, deploy], revisions=revisions)
    assert function.send(scenario.notification()) == 200
    assert function.run is not None and len(function.run.requests) == 2
    assert len(function.logging.requests_to("entries.list")) <= 4
    [card] = function.top_level()
    [changes] = [b for b in card["blocks"] if b["block_id"] == "sitrep_changes"]
    assert "backend-00742-b95 deployed by ci@test-project.iam.gserviceaccount.com — image …aa12 → …cd34" in (
        changes["elements"][0]["text"]
    )
    [issue] = function.tracking_issues()
    assert "### What changed" in issue["body"]
    assert "undoing the" in issue["body"] and "deploy of backend-00742-b95" in issue["body"]


def test_the_cloud_run_fake_answers_like_the_admin_api() -> None:
    import grpc
    from google.cloud import run_v2
    from google.cloud.run_v2.services.revisions.transports import RevisionsGrpcTransport

    served = revision("test-project", ae.REGION, "backend", "backend-00001-abc", image="img:1")
    with CloudRunFake([served]) as fake:
        client = run_v2.RevisionsClient(transport=RevisionsGrpcTransport(channel=grpc.insecure_channel(fake.address)))
        assert client.get_revision(name=served.name, retry=None, timeout=5).containers[0].image == "img:1"
        from google.api_core import exceptions as gexc

        with pytest.raises(gexc.NotFound):
            client.get_revision(name=served.name.replace("00001", "00002"), retry=None, timeout=5)
        with pytest.raises(gexc.InvalidArgument):
            client.get_revision(name="backend-00001-abc", retry=None, timeout=5)
