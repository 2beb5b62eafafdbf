"""Root cause: independent roots with why-chains, noise never a root, bad deploys named with a rollback."""

from __future__ import annotations

from functions.analysis.deploys import RevisionTraffic, detect_bad_deploy
from functions.analysis.rootcause import SignatureInfo, diagnose, fill_action
from functions.core.model import Category, Health, Priority, ServiceHealth, Severity
from tests.builders import failure

C = Category
INFO = {
    "missing-module": SignatureInfo(
        frozenset({C.CONTAINER_STARTUP, C.WEBSOCKET, C.APPLICATION}), Priority.P0, "Add '{module}' to {service}'s image"
    ),
    "container-exit": SignatureInfo(frozenset({C.CONTAINER_STARTUP}), Priority.P1, "Inspect exit({exit_code})"),
    "instance-could-not-start": SignatureInfo(
        frozenset(), Priority.P1, "Check startup of {service}", failed_start=True
    ),
    "db-timeout": SignatureInfo(
        frozenset({C.AUTH, C.APPLICATION, C.TIMEOUT}), Priority.P0, "Raise the DB timeout from {timeout_s}s"
    ),
    "auth-failed": SignatureInfo(frozenset(), Priority.P1, "Check auth"),
    "sentry-missing": SignatureInfo(frozenset({C.APPLICATION}), Priority.P2, "Install sentry-sdk or silence"),
    "service-id-whitespace": SignatureInfo(frozenset({C.AUTH}), Priority.P1, "Strip {env_var}"),
    "upstream-refused": SignatureInfo(frozenset(), Priority.P1, "Check {host}"),
}


def seed_failures() -> list:
    return [
        failure("instance-could-not-start", C.CONTAINER_STARTUP, 43, "backend", first=6, severity=Severity.CRITICAL),
        failure("container-exit", C.CONTAINER_STARTUP, 34, "backend", first=5.5, entities={"exit_code": ("3",)}),
        failure("missing-module", C.DEPENDENCY_MISSING, 25, "backend", first=5, severity=Severity.CRITICAL,
                summary="missing Python module 'auth_service'", entities={"module": ("auth_service",)}),
        failure("db-timeout", C.DATABASE, 12, "auth", first=10, summary="database connection timeout after 15s",
                entities={"timeout_s": ("15",)}),
        failure("auth-failed", C.AUTH, 18, "auth", first=11),
        failure("sentry-missing", C.NOISE, 33, "backend", severity=Severity.WARNING),
    ]


def test_seed_outage_has_two_independent_roots() -> None:
    diagnosis = diagnose(seed_failures(), INFO)
    roots = [(r.category, r.service) for r in diagnosis.root_causes]
    assert roots == [(C.DEPENDENCY_MISSING, "backend"), (C.DATABASE, "auth")]


def test_why_chain_reads_from_symptom_to_cause() -> None:
    backend = diagnose(seed_failures(), INFO).root_causes[0]
    assert backend.chain[-1].startswith("backend: missing Python module 'auth_service'")
    assert "container exit" in backend.chain[0] or "instance could not start" in backend.chain[0]
    assert len(backend.chain) >= 2


def test_a_container_crash_explains_the_failed_starts_of_its_service() -> None:
    backend = diagnose(seed_failures(), INFO).root_causes[0]
    assert [line.split(" (×")[0] for line in backend.chain] == [
        "backend: instance could not start",
        "backend: container exit",
        "backend: missing Python module 'auth_service'",
    ]


def test_noise_is_never_a_root_and_explains_nothing() -> None:
    only_noise = [failure("sentry-missing", C.NOISE, 33, severity=Severity.WARNING),
                  failure("auth-failed", C.APPLICATION, 3)]
    diagnosis = diagnose(only_noise, {**INFO, "sentry-missing": SignatureInfo(frozenset({C.APPLICATION}))})
    assert [r.signature for r in diagnosis.root_causes] == ["auth-failed"]


def test_warning_level_roots_are_contributing_not_primary() -> None:
    failures = [*seed_failures(), failure("service-id-whitespace", C.CONFIGURATION, 32, "backend",
                                           severity=Severity.WARNING, entities={"env_var": ("SERVICE_ID",)})]
    diagnosis = diagnose(failures, INFO)
    assert [r.signature for r in diagnosis.root_causes] == ["missing-module", "db-timeout"]
    assert [r.signature for r in diagnosis.contributing] == ["service-id-whitespace"]


def test_p0_actions_come_from_roots_with_entities_filled() -> None:
    actions = diagnose(seed_failures(), INFO).actions
    p0 = [a.text for a in actions if a.priority is Priority.P0]
    assert p0 == ["Add 'auth_service' to backend's image", "Raise the DB timeout from 15s"]
    assert all(a.priority is not Priority.P0 for a in actions if a.signature not in ("missing-module", "db-timeout"))


def test_a_cause_that_starts_after_its_effect_ended_explains_nothing() -> None:
    late = [failure("missing-module", C.DEPENDENCY_MISSING, 5, first=40, last=45),
            failure("container-exit", C.CONTAINER_STARTUP, 5, first=0, last=10)]
    assert {r.signature for r in diagnose(late, INFO).root_causes} == {"missing-module", "container-exit"}


def test_cross_service_failure_naming_the_host_is_explained_by_that_service() -> None:
    failures = [
        failure("db-timeout", C.DATABASE, 12, "auth", first=1),
        failure("upstream-refused", C.NETWORK, 40, "backend", first=2, entities={"host": ("auth.internal:8080",)}),
    ]
    diagnosis = diagnose(failures, INFO)
    assert [(r.signature, r.service) for r in diagnosis.root_causes] == [("db-timeout", "auth")]


def test_causal_cycles_still_yield_a_root() -> None:
    cyclic = {
        "a": SignatureInfo(frozenset({C.TIMEOUT})),
        "b": SignatureInfo(frozenset({C.DATABASE})),
    }
    failures = [failure("a", C.DATABASE, 5, first=3), failure("b", C.TIMEOUT, 9, first=1)]
    assert [r.signature for r in diagnose(failures, cyclic).root_causes] == ["b"]


def test_bad_deploy_is_detected_and_rollback_names_previous_revision() -> None:
    traffic = {
        "backend-00742-b95": RevisionTraffic(requests=50, errors_5xx=47, failures=100),
        "backend-00741-x2k": RevisionTraffic(requests=40, errors_5xx=0, failures=0),
    }
    diagnosis = diagnose(seed_failures(), INFO, traffic={"backend": traffic}, region="us-central1")
    root = diagnosis.root_causes[0]
    assert (root.revision, root.previous_revision) == ("backend-00742-b95", "backend-00741-x2k")
    assert diagnosis.actions[0].text.endswith(
        "`gcloud run services update-traffic backend --to-revisions=backend-00741-x2k=100 --region=us-central1`"
    )


def test_no_bad_deploy_when_previous_revision_also_failed() -> None:
    traffic = {
        "svc-00002-bbb": RevisionTraffic(requests=50, errors_5xx=40, failures=60),
        "svc-00001-aaa": RevisionTraffic(requests=50, errors_5xx=40, failures=0),
    }
    assert detect_bad_deploy("svc", traffic) is None


def test_fill_action_leaves_unknown_placeholders_visible() -> None:
    assert fill_action("Set {env_var} on {service}", {}, "auth") == "Set <env_var> on auth"


# ---------------------------------------------------------------- ranking by harm, minor roots, one advice

RAISE_MEMORY = "Raise the memory limit above {memory_limit}"
OUTAGE_INFO = {
    "oom-killed": SignatureInfo(frozenset({C.APPLICATION}), Priority.P0, RAISE_MEMORY),
    "memory-limit": SignatureInfo(frozenset({C.APPLICATION}), Priority.P0, RAISE_MEMORY),
    "redis-refused": SignatureInfo(frozenset({C.APPLICATION}), Priority.P0, "Check Redis at {host}"),
    "cert-expired": SignatureInfo(frozenset({C.APPLICATION}), Priority.P0, "Renew the certificate of {host}"),
    "slow-upstream": SignatureInfo(frozenset({C.TIMEOUT}), Priority.P1, "Check {host}"),
}


def judged(service: str, status: Health) -> ServiceHealth:
    return ServiceHealth(service, status, (f"{service} is {status.value}",))


def oom_and_redis() -> list:
    return [
        failure("oom-killed", C.RESOURCE_EXHAUSTION, 30, "checkout", severity=Severity.CRITICAL, first=10),
        failure("memory-limit", C.RESOURCE_EXHAUSTION, 20, "checkout", severity=Severity.CRITICAL, first=10,
                entities={"memory_limit": ("1024 MiB",)}),
        failure("redis-refused", C.DATABASE, 45, "cart", severity=Severity.CRITICAL, first=15,
                entities={"host": ("10.0.0.5:6379",)}),
    ]


def test_among_equally_severe_roots_the_one_behind_a_failing_service_leads() -> None:
    health = [judged("checkout", Health.FAILING), judged("cart", Health.DEGRADED)]
    roots = diagnose(oom_and_redis(), OUTAGE_INFO, health).root_causes
    assert [(r.category, r.service) for r in roots] == [(C.RESOURCE_EXHAUSTION, "checkout"), (C.DATABASE, "cart")]


def test_the_cause_of_a_failing_service_leads_a_more_severe_signature_behind_a_degraded_one() -> None:
    """Signature severity is a guess for a whole class; the service's health is measured in this incident."""
    failures = [
        failure("redis-refused", C.DATABASE, 45, "cart", severity=Severity.CRITICAL, first=15),
        failure("slow-upstream", C.NETWORK, 20, "checkout", severity=Severity.ERROR, first=16),
    ]
    health = [judged("checkout", Health.FAILING), judged("cart", Health.DEGRADED)]
    roots = diagnose(failures, OUTAGE_INFO, health).root_causes
    assert [(r.service, r.severity) for r in roots] == [("checkout", Severity.ERROR), ("cart", Severity.CRITICAL)]
    actions = diagnose(failures, OUTAGE_INFO, health).actions
    assert [a.signature for a in actions] == ["slow-upstream", "redis-refused"]


def test_roots_of_equally_hurt_services_rank_by_their_merged_counts() -> None:
    health = [judged("checkout", Health.FAILING), judged("cart", Health.FAILING)]
    roots = diagnose(oom_and_redis(), OUTAGE_INFO, health).root_causes
    assert [(r.service, r.count) for r in roots] == [("checkout", 50), ("cart", 45)]  # 30 + 20 merged beat 45


def test_one_piece_of_advice_per_problem_with_the_entity_a_sibling_line_named() -> None:
    actions = diagnose(oom_and_redis(), OUTAGE_INFO).actions
    memory = [a.text for a in actions if "memory limit" in a.text]
    assert memory == ["Raise the memory limit above 1024 MiB"]


def test_a_root_dwarfed_by_another_in_its_own_service_is_contributing() -> None:
    failures = [
        failure("cert-expired", C.TLS, 100, "api-gateway", severity=Severity.CRITICAL, first=15,
                entities={"host": ("billing.internal",)}),
        failure("slow-upstream", C.NETWORK, 3, "api-gateway", first=7, entities={"host": ("search.internal",)}),
        failure("redis-refused", C.DATABASE, 3, "cart", severity=Severity.CRITICAL, first=15),
    ]
    diagnosis = diagnose(failures, OUTAGE_INFO)
    assert [(r.signature, r.service) for r in diagnosis.root_causes] == [
        ("cert-expired", "api-gateway"),
        ("redis-refused", "cart"),  # small, but alone in its service: still a root
    ]
    assert [r.signature for r in diagnosis.contributing] == ["slow-upstream"]
    assert all(a.priority is not Priority.P0 for a in diagnosis.actions if a.signature == "slow-upstream")


def test_a_process_ending_panic_explains_the_exits_it_causes_and_not_the_reverse() -> None:
    """A Go panic is an application failure (taxonomy), yet it is why the container exits."""
    info = {
        **INFO,
        "container-exit": SignatureInfo(frozenset({C.TIMEOUT, C.APPLICATION}), Priority.P0, "Inspect exit"),
        "go-panic": SignatureInfo(frozenset(), Priority.P0, "Fix the panic", crashes_instance=True),
    }
    failures = [
        failure("instance-could-not-start", C.CONTAINER_STARTUP, 20, "api", first=6, severity=Severity.CRITICAL),
        failure("container-exit", C.CONTAINER_STARTUP, 20, "api", first=5.5, severity=Severity.CRITICAL),
        failure("go-panic", C.APPLICATION, 20, "api", first=5, severity=Severity.CRITICAL,
                summary="instance crashed: Go panic: assignment to entry in nil map"),
    ]
    diagnosis = diagnose(failures, info)
    assert [r.signature for r in diagnosis.root_causes] == ["go-panic"]
    assert [line.split(" (×")[0] for line in diagnosis.root_causes[0].chain] == [
        "api: instance could not start",
        "api: container exit",
        "api: instance crashed: Go panic: assignment to entry in nil map",
    ]


def test_an_ordinary_application_error_does_not_explain_a_container_exit() -> None:
    info = {**INFO, "container-exit": SignatureInfo(frozenset({C.APPLICATION}), Priority.P0, "Inspect exit")}
    failures = [
        failure("container-exit", C.CONTAINER_STARTUP, 20, "api", first=5.5, severity=Severity.CRITICAL),
        failure("handler-error", C.APPLICATION, 20, "api", first=5, severity=Severity.CRITICAL),
    ]
    assert [r.signature for r in diagnose(failures, info).root_causes] == ["container-exit"]
