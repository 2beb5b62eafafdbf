"""Regression examples: recorded outages written beside the rules, pinned so the analysis keeps its conclusions.

The three examples (scripts/make_regression_examples.py) were written by the same hands that tuned
the signatures, so they are regression tests, not evidence that the analysis generalises (that is
what the corpus and the stack examples are for). They cover other stacks than the seed: Node.js
out of memory plus a lost Redis, a Go gateway whose upstream certificate expired, a Spring Boot
service starving its HikariCP pool plus a Firestore quota. Each README says what
happened; these tests pin the conclusions an on-call engineer would draw from the same export.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.example_runs import EXAMPLES, actions_text, analyse, health_of, roots_of, run

FAILURE_SEVERITIES = frozenset({"WARNING", "ERROR", "CRITICAL", "ALERT", "EMERGENCY"})
MAX_UNKNOWN_SHARE = 0.05  # of failure-looking entries (severity >= WARNING or HTTP 5xx)


@pytest.mark.parametrize(
    ("name", "health"),
    [
        ("node-oom-redis", {"checkout": "FAILING", "cart": "DEGRADED", "catalog": "HEALTHY"}),
        ("go-tls-expired", {"api-gateway": "DEGRADED", "billing": "HEALTHY", "users": "HEALTHY"}),
        ("java-db-pool", {"orders": "FAILING", "inventory": "DEGRADED", "storefront": "HEALTHY"}),
    ],
)
def test_health_per_service(name: str, health: dict[str, str]) -> None:
    assert health_of(analyse(name)) == health


@pytest.mark.parametrize("name", ["node-oom-redis", "go-tls-expired", "java-db-pool"])
def test_noise_and_symptoms_are_never_roots(name: str) -> None:
    analysis = analyse(name)
    listed = analysis["root_causes"] + analysis["contributing"]
    assert all(r["category"] not in ("noise", "unknown") for r in listed)
    assert all(len(r["chain"]) >= 2 for r in analysis["root_causes"])


def test_node_oom_redis_roots_are_the_memory_limit_and_the_lost_redis() -> None:
    analysis = analyse("node-oom-redis")
    roots = roots_of(analysis)
    assert roots[0] == ("resource_exhaustion", "checkout")  # the failing, alerted service comes first
    assert len(roots) == 2 and roots[1][1] == "cart" and roots[1][0] in ("database", "network")
    assert analysis["root_causes"][0]["entities"]["memory_limit"] == ["1024 MiB"]
    assert analysis["root_causes"][0]["previous_revision"] == "checkout-00213-vak"


def test_node_oom_redis_p0_names_the_limit_the_rollback_and_the_redis_endpoint() -> None:
    analysis = analyse("node-oom-redis")
    p0 = actions_text(analysis, "P0")
    assert "1024 MiB" in p0
    assert "gcloud run services update-traffic checkout --to-revisions=checkout-00213-vak=100" in p0
    assert "10.0.0.5" in p0 and "6379" in p0
    assert "update-traffic cart" not in actions_text(analysis)  # cart had no deploy


def test_node_oom_redis_memory_advice_is_given_once() -> None:
    memory = [a for a in analyse("node-oom-redis")["actions"] if "memory limit" in a["text"].lower()]
    assert len(memory) == 1, [a["text"] for a in memory]


def test_go_tls_expired_root_is_the_certificate_of_the_upstream_host() -> None:
    analysis = analyse("go-tls-expired")
    # the gateway's own "502 Bad Gateway" lines are the TLS failure seen from outside, not a second root
    assert roots_of(analysis) == [("tls", "api-gateway")]
    first = analysis["root_causes"][0]
    assert first["entities"]["host"] == ["billing.internal.example.com"]
    # an unrelated 401 is not a link between the 502s and the certificate
    assert not any("401" in step for step in first["chain"])
    # three slow search calls over 40 minutes are background, not a second root cause
    assert [(c["category"], c["service"]) for c in analysis["contributing"]] == [("network", "api-gateway")]


def test_go_tls_expired_p0_renews_the_certificate_and_nothing_is_rolled_back() -> None:
    analysis = analyse("go-tls-expired")
    assert "billing.internal.example.com" in actions_text(analysis, "P0")
    assert "update-traffic" not in actions_text(analysis)  # no deploy in the window


def test_java_db_pool_roots_are_the_pool_and_the_quota() -> None:
    analysis = analyse("java-db-pool")
    assert roots_of(analysis) == [("database", "orders"), ("resource_exhaustion", "inventory")]
    assert analysis["root_causes"][0]["previous_revision"] == "orders-00088-kex"


def test_java_db_pool_actions_name_the_pool_timeout_the_rollback_and_the_quota() -> None:
    analysis = analyse("java-db-pool")
    p0 = actions_text(analysis, "P0")
    assert "gcloud run services update-traffic orders --to-revisions=orders-00088-kex=100" in p0
    assert re.search(r"\b30 ?s\b", p0), p0
    quota = [a["text"] for a in analysis["actions"] if a["category"] == "resource_exhaustion"]
    assert any("Read requests" in text or "firestore.googleapis.com" in text for text in quota), quota


def failure_looking_unknown_share(name: str) -> tuple[float, list[str]]:
    entries = json.loads((EXAMPLES / name / "logs.json").read_text(encoding="utf-8"))
    rows = [json.loads(line) for line in run("classify", str(EXAMPLES / name / "logs.json")).splitlines()]
    assert len(rows) == len(entries)
    failing = [
        row for entry, row in zip(entries, rows, strict=True)
        if entry.get("severity") in FAILURE_SEVERITIES or entry.get("httpRequest", {}).get("status", 0) >= 500
    ]
    unknown = [row["template"] for row in failing if row["category"] == "unknown"]
    return len(unknown) / len(failing), unknown


@pytest.mark.parametrize("name", ["node-oom-redis", "go-tls-expired", "java-db-pool", "staging-outage"])
def test_few_failure_looking_lines_stay_unknown(name: str) -> None:
    share, unknown = failure_looking_unknown_share(name)
    assert share <= MAX_UNKNOWN_SHARE, sorted(set(unknown))[:10]
