"""The cue stage on lines no signature names: each test pins one class of message, with examples
written for it (not quoted from the development corpus) and the near misses it must leave alone."""

# ruff: noqa: E501

from __future__ import annotations

import pytest

from functions.analysis.classify.classifier import UNKNOWN_SIGNATURE, is_failure
from functions.core.model import Category
from functions.entry.wiring import core

CLASSIFIER = core().classifier


def verdict(message: str, severity: str = "ERROR") -> tuple[Category, str, bool]:
    finding = CLASSIFIER.classify_message(message, severity=severity)
    return finding.category, finding.matched_by, finding.weak


@pytest.mark.parametrize(
    ("message", "category"),
    [
        # .NET's EnsureSuccessStatusCode writes the reason phrase in parentheses
        (
            "System.Net.Http.HttpRequestException: Response status code does not indicate success: 403 (Forbidden).\n   at System.Net.Http.HttpResponseMessage.EnsureSuccessStatusCode()",
            Category.AUTH,
        ),
        (
            "System.Net.Http.HttpRequestException: Response status code does not indicate success: 503 (Service Unavailable).",
            Category.NETWORK,
        ),
        # an uncaught-error wrapper does not hide the status it wraps
        (
            "PHP Fatal error:  Uncaught exception 'Acme\\Http\\ClientException' with message 'GET /v1/rates returned (403) Forbidden' in /srv/app/Rates.php:88",
            Category.AUTH,
        ),
    ],
)
def test_http_status_with_its_reason_phrase(message: str, category: Category) -> None:
    found, matched_by, weak = verdict(message)
    assert (found, weak) == (category, True), matched_by
    assert matched_by.startswith("cue:http-status:")


@pytest.mark.parametrize(
    "message",
    [
        "Task exception was never retrieved\nfuture: <Task finished name='Task-12' coro=<stream_prices() done, defined at /app/feed.py:40> exception=ConnectionClosedError(None, None, None)>\nwss://stream.example.com/v1/prices",
        "socket.io relay stopped: exception=BrokenPipeError(32)",
    ],
)
def test_a_broken_connection_in_a_websocket_context_is_websocket(message: str) -> None:
    assert verdict(message)[0] is Category.WEBSOCKET


def test_the_same_exception_without_a_websocket_context_is_network() -> None:
    message = 'botocore.exceptions.ConnectionClosedError: Connection was closed before we received a valid response from endpoint URL: "https://storage.example.com/bucket/key".'
    assert verdict(message)[0] is Category.NETWORK


@pytest.mark.parametrize(
    ("message", "category"),
    [
        ("could not reach primary: dial tcp 10.20.0.7:5432: connect: connection timed out", Category.DATABASE),
        ("session store unavailable: dial tcp 10.20.0.9:6379: i/o timeout", Category.DATABASE),
        (
            "panic: dial tcp 10.20.0.7:3306: connect: connection refused\n\ngoroutine 1 [running]:\nmain.main()",
            Category.DATABASE,
        ),
        ("could not reach pricing: dial tcp 10.20.0.7:8443: i/o timeout", Category.NETWORK),
    ],
)
def test_a_connection_to_a_database_port_is_a_database_connection(message: str, category: Category) -> None:
    assert verdict(message)[0] is category


@pytest.mark.parametrize(
    "message",
    [
        "ERROR: (gcloud.app.deploy) Staging area is not writable: env [flex] does not support [runtime_config.operating_system] in this version",
        "ERROR: (gcloud.beta.functions.deploy) Entry point [handle_event] was specified for a source that declares [on_event]",
    ],
)
def test_a_deploy_that_gcloud_rejects_is_configuration_weakly(message: str) -> None:
    assert verdict(message) == (Category.CONFIGURATION, "cue:gcloud-deploy-error", True)


def test_other_gcloud_errors_are_not_read_as_configuration() -> None:
    assert (
        verdict("ERROR: (gcloud.compute.instances.list) Some requests did not succeed: quotaExceeded")[0]
        is Category.RESOURCE_EXHAUSTION
    )
    assert (
        verdict("ERROR: (gcloud.run.deploy) PERMISSION_DENIED: Permission 'run.services.create' denied")[0]
        is Category.AUTH
    )


@pytest.mark.parametrize(
    "message",
    [
        "WARNING: Unrecognized key [app_engine_apis_v2] in app.yaml; it is kept for a later version",
        "2024-05-01 10:00:00.123  WARN 1 --- [main] o.a.k.c.c.ConsumerConfig : These configurations '[schema.registry.url]' were supplied but are not used yet.",
        'PHP Warning:  Module "redis" is already loaded in Unknown on line 0',
    ],
)
def test_a_warning_that_names_no_failure_is_advice(message: str) -> None:
    category, matched_by, weak = verdict(message, "WARNING")
    assert (category, matched_by, weak) == (Category.NOISE, "cue:level:WARNING", True)


@pytest.mark.parametrize(
    "message",
    [
        "[WARN] refreshing the price cache failed for tenant 42",
        "WARNING: lost the leader lease, retrying in 5s",
        "PHP Warning:  Undefined variable $order in /srv/app/Checkout.php on line 19",
    ],
)
def test_a_warning_that_names_a_failure_is_not_noise(message: str) -> None:
    assert verdict(message, "WARNING")[0] is not Category.NOISE


def test_a_line_declared_informational_with_no_failure_word_is_noise() -> None:
    assert verdict("Loaded 42 feature flags from remote config", "INFO") == (Category.NOISE, "cue:severity:INFO", True)


@pytest.mark.parametrize(
    ("message", "severity"),
    [
        ("Loaded 42 feature flags from remote config", "DEFAULT"),  # plain stdout claims nothing
        ("Loaded 42 feature flags from remote config", "NOTICE"),
        ("Loaded 42 feature flags from remote config", "WARNING"),
        ("Payment for order 42 was rejected by the issuer", "INFO"),  # a failure word at INFO
        ("ValueError: bad input", "INFO"),  # an exception class at INFO
    ],
)
def test_other_unexplained_lines_stay_unknown(message: str, severity: str) -> None:
    finding = CLASSIFIER.classify_message(message, severity=severity)
    assert (finding.category, finding.signature) == (Category.UNKNOWN, UNKNOWN_SIGNATURE)


def test_noise_verdicts_are_never_failures() -> None:
    finding = CLASSIFIER.classify_message("Loaded 42 feature flags from remote config", severity="INFO")
    assert not is_failure(finding) and finding.summary.endswith("harmless")


@pytest.mark.parametrize(
    ("message", "severity"),
    [
        ("ReferenceError: require is not defined in ES module scope, you can use import instead", "INFO"),
        ("[web] name 'settings' is not defined", "INFO"),  # the runtimes' wording: a bug at any severity
        ("fetch is not defined", "ERROR"),  # a logged err.message
        ("checkout failed: fetch is not defined", "DEFAULT"),
    ],
)
def test_a_runtime_naming_an_undefined_identifier_is_an_application_bug(message: str, severity: str) -> None:
    assert verdict(message, severity) == (Category.APPLICATION, "cue:app-bug", False)


@pytest.mark.parametrize(
    ("message", "severity"),
    [
        ("Property spark.executor.cores is not defined, using the default of 1", "INFO"),
        ("Route /healthz is not defined in the API spec; serving it anyway", "INFO"),
        ("LOG_FORMAT is not defined, using text", "INFO"),  # a bare name, but the service says it is informational
    ],
)
def test_is_not_defined_in_plain_english_is_no_bug(message: str, severity: str) -> None:
    assert verdict(message, severity) == (Category.NOISE, "cue:severity:INFO", True)


def test_a_setting_not_defined_at_error_is_not_called_a_bug() -> None:
    assert verdict("Property spark.executor.cores is not defined")[0] is Category.UNKNOWN


@pytest.mark.parametrize(
    "message",
    [
        "login for tenant 42 rejected: authentication failed",
        "pam_unix(app:auth): authentication failure; logname= uid=0 euid=0 rhost=203.0.113.9 user=svc",
        "3 more authorization failures for client 7f3a; closing the stream",
    ],
)
def test_an_authentication_refusal_verb_or_noun_is_auth_weakly(message: str) -> None:
    assert verdict(message, "DEFAULT") == (Category.AUTH, "cue:phrase:auth", True)

