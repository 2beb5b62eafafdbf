"""The Terraform module: its HCL shape and the signatures.json it turns into metrics.

`terraform` cannot run here, so these tests parse the HCL with python-hcl2 and pin
the properties that matter when it is applied: patterns come only from
signatures.json, every Logging filter and extractor in that file is valid RE2, the
function retries and runs as one instance, no secret value can reach the state.

The signatures.json tests read terraform/modules/sitrep/signatures.json (generated
by `python -m functions.entry.export_signatures --terraform`) and skip, saying so, while that
file does not exist yet. SITREP_SIGNATURES_JSON points them at another file.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import hcl2
import pytest
import re2
import yaml

REPO = Path(__file__).resolve().parents[1]
TERRAFORM = REPO / "terraform"
MODULE = TERRAFORM / "modules" / "sitrep"
EXAMPLE = TERRAFORM / "examples" / "basic"
SIGNATURES_JSON = Path(os.environ.get("SITREP_SIGNATURES_JSON", MODULE / "signatures.json"))
TFCHECK = Path(os.environ.get("SITREP_SHARED", REPO.parent / "shared")) / "tools" / "tfcheck"

# Limits the APIs enforce (Cloud Logging API reference, entries.list).
LOGGING_FILTER_MAX_CHARS = 20_000
METRIC_NAME_MAX_CHARS = 100
METRIC_LABELS_MAX = 10
USER_LABEL_MAX_CHARS = 63
POLICY_SEVERITIES = {"CRITICAL", "ERROR", "WARNING"}
# What metrics.tf appends to each filter (exclusion of sitrep's own service).
MODULE_FILTER_OVERHEAD_CHARS = 100

# Top-level LogEntry fields an extractor may read (logging.v2 LogEntry).
LOG_ENTRY_FIELDS = {
    "logName",
    "resource",
    "timestamp",
    "receiveTimestamp",
    "severity",
    "insertId",
    "labels",
    "httpRequest",
    "trace",
    "spanId",
    "traceSampled",
    "sourceLocation",
    "operation",
    "split",
    "textPayload",
    "jsonPayload",
    "protoPayload",
}
LABEL_KEY = re.compile(r"^[a-z][a-z0-9_]{0,99}$")
EXTRACT = re.compile(r"^EXTRACT\(\s*([A-Za-z_][\w.]*)\s*\)$")
REGEXP_EXTRACT = re.compile(r'^REGEXP_EXTRACT\(\s*([A-Za-z_][\w.]*)\s*,\s*(".*")\s*\)$', re.S)
REGEX_OPERATOR = re.compile(r"[=!]~\s*")


# --- HCL helpers -------------------------------------------------------------


@cache
def _parse(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        parsed: dict[str, Any] = hcl2.load(handle)
    return parsed


def _tf_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*.tf") if ".terraform" not in p.parts)


def _literal(value: Any) -> Any:
    """A python-hcl2 literal string keeps its quotes; strip them."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def _blocks(directory: Path, kind: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield (name, body) of every `kind` block (variable, output) in a directory."""
    for path in _tf_files(directory):
        for block in _parse(path).get(kind, []):
            for name, body in block.items():
                yield _literal(name), body


def _resources(resource_type: str, directory: Path = MODULE) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for path in _tf_files(directory):
        for block in _parse(path).get("resource", []):
            for rtype, named in block.items():
                if _literal(rtype) == resource_type:
                    for name, body in named.items():
                        found[_literal(name)] = body
    return found


def _locals(directory: Path = MODULE) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for path in _tf_files(directory):
        for block in _parse(path).get("locals", []):
            merged.update({k: v for k, v in block.items() if not k.startswith("__")})
    return merged


def _one(body: dict[str, Any], block: str) -> dict[str, Any]:
    blocks = body[block]
    assert len(blocks) == 1, f"expected one {block} block"
    only: dict[str, Any] = blocks[0]
    return only


# --- Logging query string helpers ---------------------------------------------


def _read_quoted(text: str, start: int) -> tuple[str, int]:
    """Decode the Logging query string literal at text[start] == '"'; return (value, end).

    Only \\\\ and \\" are accepted as escapes: the filter language's string escapes
    (AIP-160) do not include regex escapes such as \\d, so a regex backslash must
    be written doubled. A lone one is ambiguous and rejected here.
    """
    assert text[start] == '"'
    out: list[str] = []
    i = start + 1
    while i < len(text):
        char = text[i]
        if char == "\\":
            nxt = text[i + 1 : i + 2]
            if nxt not in ("\\", '"'):
                raise ValueError(f"ambiguous escape \\{nxt} at {i}: write \\\\{nxt} for a regex backslash")
            out.append(nxt)
            i += 2
        elif char == '"':
            return "".join(out), i + 1
        else:
            out.append(char)
            i += 1
    raise ValueError(f"unterminated string starting at {start}")


def _regexes_in_filter(query: str) -> list[str]:
    """The decoded pattern of every =~ / !~ comparison in a Logging query."""
    patterns: list[str] = []
    i = 0
    while i < len(query):
        if query[i] == '"':
            _, i = _read_quoted(query, i)
            continue
        match = REGEX_OPERATOR.match(query, i)
        if match:
            j = match.end()
            assert query[j : j + 1] == '"', f"regex operand at {j} must be a quoted string"
            pattern, i = _read_quoted(query, j)
            patterns.append(pattern)
            continue
        i += 1
    return patterns


def _unbalanced(query: str) -> str | None:
    """Why the query's quotes or parentheses do not balance, or None."""
    depth = 0
    i = 0
    while i < len(query):
        char = query[i]
        if char == '"':
            try:
                _, i = _read_quoted(query, i)
            except ValueError as error:
                return str(error)
            continue
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                return f"unmatched ')' at {i}"
        i += 1
    return f"{depth} unclosed '('" if depth else None


def _capturing_groups(pattern: str) -> int:
    groups: int = re2.compile(pattern).groups
    return groups


# --- signatures.json ---------------------------------------------------------


def _signatures() -> list[dict[str, Any]]:
    if not SIGNATURES_JSON.exists():
        pytest.skip(
            f"{SIGNATURES_JSON.relative_to(REPO) if SIGNATURES_JSON.is_relative_to(REPO) else SIGNATURES_JSON} "
            "does not exist yet: generate it with `python -m functions.entry.export_signatures --terraform`"
        )
    document = json.loads(SIGNATURES_JSON.read_text(encoding="utf-8"))
    signatures: list[dict[str, Any]] = document["signatures"]
    return signatures


def _signature_params() -> list[Any]:
    """One pytest param per signature, so a failure names the signature."""
    if not SIGNATURES_JSON.exists():
        return [pytest.param(None, id="signatures.json-missing")]
    return [pytest.param(s, id=s["id"]) for s in json.loads(SIGNATURES_JSON.read_text())["signatures"]]


@pytest.fixture
def signature(request: pytest.FixtureRequest) -> dict[str, Any]:
    value: dict[str, Any] | None = request.param
    if value is None:
        _signatures()  # skips with the reason
    assert value is not None
    return value


def test_signatures_file_is_a_non_empty_list_with_unique_ids() -> None:
    signatures = _signatures()
    ids = [s["id"] for s in signatures]
    assert ids, "signatures.json lists no signature: Terraform would create no metric"
    assert len(ids) == len(set(ids)), "duplicate signature ids would collide in for_each"


@pytest.mark.parametrize("signature", _signature_params(), indirect=True)
def test_signature_has_every_field_terraform_reads(signature: dict[str, Any]) -> None:
    required = {
        "id",
        "metric_name",
        "category",
        "severity",
        "summary",
        "description",
        "filter",
        "threshold_per_minute",
        "label_extractors",
        "action",
    }
    assert required <= signature.keys(), f"missing {sorted(required - signature.keys())}"


@pytest.mark.parametrize("signature", _signature_params(), indirect=True)
def test_metric_name_is_namespaced_and_within_the_logging_limit(signature: dict[str, Any]) -> None:
    name = signature["metric_name"]
    assert name == f"sitrep/{signature['id']}"
    assert len(name) <= METRIC_NAME_MAX_CHARS


@pytest.mark.parametrize("signature", _signature_params(), indirect=True)
def test_severity_and_threshold_are_valid_for_an_alert_policy(signature: dict[str, Any]) -> None:
    assert signature["severity"] in POLICY_SEVERITIES
    threshold = signature["threshold_per_minute"]
    assert isinstance(threshold, (int, float)) and not isinstance(threshold, bool)
    assert threshold >= 0


@pytest.mark.parametrize("signature", _signature_params(), indirect=True)
def test_signature_id_fits_a_policy_user_label(signature: dict[str, Any]) -> None:
    # alerts.tf sanitises with the same rule; an id that already fits stays readable.
    assert re.fullmatch(r"[a-z0-9_-]+", signature["id"]), "id should already be a valid label value"
    assert len(signature["id"]) <= USER_LABEL_MAX_CHARS


@pytest.mark.parametrize("signature", _signature_params(), indirect=True)
def test_filter_is_a_balanced_logging_query_within_the_length_limit(signature: dict[str, Any]) -> None:
    query = signature["filter"]
    assert _unbalanced(query) is None, _unbalanced(query)
    assert len(query) + MODULE_FILTER_OVERHEAD_CHARS <= LOGGING_FILTER_MAX_CHARS


@pytest.mark.parametrize("signature", _signature_params(), indirect=True)
def test_every_regex_in_the_filter_compiles_in_re2(signature: dict[str, Any]) -> None:
    patterns = _regexes_in_filter(signature["filter"])
    assert patterns, "a signature filter should match by regular expression (=~)"
    for pattern in patterns:
        re2.compile(pattern)  # raises re2.error on what Cloud Logging would reject


@pytest.mark.parametrize("signature", _signature_params(), indirect=True)
def test_label_extractors_read_log_entry_fields_with_one_capturing_group(signature: dict[str, Any]) -> None:
    extractors: dict[str, str] = signature["label_extractors"]
    assert "service" in extractors, "alert policies group by metric.label.service"
    assert len(extractors) <= METRIC_LABELS_MAX
    for label, extractor in extractors.items():
        assert LABEL_KEY.match(label), f"label key {label!r}"
        regexp = REGEXP_EXTRACT.match(extractor)
        match = EXTRACT.match(extractor) or regexp
        assert match, f'{label}: {extractor!r} is neither EXTRACT(field) nor REGEXP_EXTRACT(field, "re")'
        field = match.group(1)
        assert field.split(".")[0] in LOG_ENTRY_FIELDS, f"{label}: {field} is not a LogEntry field"
        if regexp:
            pattern, end = _read_quoted(regexp.group(2), 0)
            assert end == len(regexp.group(2))
            assert _capturing_groups(pattern) == 1, f"{label}: REGEXP_EXTRACT needs exactly one capturing group"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ('textPayload=~"exit\\\\((\\\\d+)\\\\)"', ["exit\\((\\d+)\\)"]),
        ('a="x =~ \\"y\\"" AND b!~"z"', ["z"]),
        ('NOT textPayload=~ "q\\"uote"', ['q"uote']),
    ],
)
def test_regex_extraction_decodes_logging_string_quoting(query: str, expected: list[str]) -> None:
    assert _regexes_in_filter(query) == expected


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ('textPayload=~"exit\\(1\\)"', "ambiguous escape"),
        ('textPayload=~"open', "unterminated"),
        ('(a="b"', "unclosed"),
        ('a="b")', "unmatched"),
    ],
)
def test_malformed_queries_are_reported(query: str, problem: str) -> None:
    try:
        reason = _unbalanced(query) or str(_regexes_in_filter(query))
    except ValueError as error:
        reason = str(error)
    assert problem in reason


# --- module structure --------------------------------------------------------


def test_module_reads_signatures_json_instead_of_restating_patterns() -> None:
    locals_ = _locals()
    assert 'jsondecode(file("${path.module}/signatures.json"))' in locals_["signatures_file"]
    metric = _resources("google_logging_metric")["signature"]
    assert metric["for_each"] == "${local.signatures}"
    assert "${each.value.filter}" in metric["filter"]
    assert metric["label_extractors"] == "${each.value.label_extractors}"
    policy = _resources("google_monitoring_alert_policy")["signature"]
    assert policy["for_each"] == "${local.per_signature_policies}"
    assert _locals()["per_signature_policies"] == "${var.consolidate_signature_alerts ? {} : local.signatures}"


@pytest.mark.parametrize("path", _tf_files(TERRAFORM), ids=lambda p: str(p.relative_to(TERRAFORM)))
def test_no_logging_regex_is_written_by_hand(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert "=~" not in text and "!~" not in text, "regex filters belong in functions/analysis/classify/signatures.d/"


def test_every_signature_label_becomes_a_descriptor_label() -> None:
    metric = _resources("google_logging_metric")["signature"]
    descriptor = _one(metric, "metric_descriptor")
    (dynamic,) = descriptor["dynamic"]
    assert dynamic['"labels"']["for_each"] == "${each.value.label_extractors}"
    assert _literal(descriptor["metric_kind"]) == "DELTA"
    assert _literal(descriptor["value_type"]) == "INT64"


def test_function_retries_and_runs_as_a_single_instance() -> None:
    function = _resources("google_cloudfunctions2_function")["main"]
    trigger = _one(function, "event_trigger")
    service = _one(function, "service_config")
    build = _one(function, "build_config")
    assert _literal(trigger["retry_policy"]) == "RETRY_POLICY_RETRY"
    assert _literal(trigger["event_type"]) == "google.cloud.pubsub.topic.v1.messagePublished"
    assert service["max_instance_count"] == 1
    assert _literal(service["ingress_settings"]) == "ALLOW_INTERNAL_ONLY"
    assert _literal(build["runtime"]) == "python312"
    assert _literal(build["entry_point"]) == "handle_alert"


def test_function_source_object_name_changes_with_the_source() -> None:
    obj = _resources("google_storage_bucket_object")["source"]
    assert "data.archive_file.source.output_md5" in obj["name"]


def test_function_gets_each_token_from_secret_manager() -> None:
    assert set(_locals()["secrets"].values()) == {'"SLACK_BOT_TOKEN"', '"GITHUB_TOKEN"', '"SLACK_SIGNING_SECRET"'}
    service = _one(_resources("google_cloudfunctions2_function")["main"], "service_config")
    (dynamic,) = service["dynamic"]
    assert dynamic['"secret_environment_variables"']["for_each"] == "${local.mounted_secrets}"


def test_no_secret_value_is_managed_by_terraform() -> None:
    for directory in (MODULE, EXAMPLE):
        assert not _resources("google_secret_manager_secret_version", directory)
    for path in _tf_files(TERRAFORM):
        assert "secret_data" not in path.read_text(encoding="utf-8")


def test_runtime_identity_reads_logs_and_metrics_and_may_only_snooze_at_project_level() -> None:
    grants = _resources("google_project_iam_member")
    runtime_roles = set(re.findall(r'"(roles/[\w.]+)"', grants["runtime"]["for_each"]))
    # snoozeEditor (Silence 1h) only with Slack actions: the narrowest predefined role with monitoring.snoozes.create.
    # run.viewer reads revisions for "What changed"; Admin Activity audit logs need nothing beyond logging.viewer.
    assert runtime_roles == {
        "roles/logging.viewer", "roles/monitoring.viewer", "roles/run.viewer", "roles/monitoring.snoozeEditor"
    }
    assert 'local.slack_actions_enabled ? ["roles/monitoring.snoozeEditor"] : []' in grants["runtime"]["for_each"]
    others = [name for name, body in grants.items() if "google_service_account.runtime" in body["member"]]
    assert others == ["runtime"]


def test_slack_actions_function_is_an_http_function_from_the_same_source() -> None:
    function = _resources("google_cloudfunctions2_function")["slack_actions"]
    main = _resources("google_cloudfunctions2_function")["main"]
    build, service = _one(function, "build_config"), _one(function, "service_config")
    assert "event_trigger" not in function
    assert _literal(build["entry_point"]) == "slack_actions"
    assert _one(build, "source") == _one(_one(main, "build_config"), "source")
    assert _literal(service["ingress_settings"]) == "ALLOW_ALL"
    assert service["max_instance_count"] == 1  # the replay memory is per process (functions/slack_app/replay_guard.py)
    assert service["service_account_email"] == "${google_service_account.slack[0].email}"
    (secret,) = service["secret_environment_variables"]
    assert _literal(secret["key"]) == "SLACK_SIGNING_SECRET"
    assert "slack-signing-secret" in secret["secret"]


def test_only_the_slack_actions_service_is_public_and_its_identity_holds_three_grants() -> None:
    public = [
        (kind, name, body)
        for kind in ("google_cloud_run_v2_service_iam_member", "google_cloud_run_service_iam_member",
                     "google_cloudfunctions2_function_iam_member", "google_project_iam_member")
        for name, body in _resources(kind).items()
        if "allUsers" in str(body.get("member")) or "allAuthenticatedUsers" in str(body.get("member"))
    ]
    assert [(kind, name) for kind, name, _ in public] == [("google_cloud_run_v2_service_iam_member",
                                                          "slack_public_invoker")]
    (_, _, invoker) = public[0]
    assert _literal(invoker["role"]) == "roles/run.invoker"
    assert invoker["name"] == "${google_cloudfunctions2_function.slack_actions[0].service_config[0].service}"
    slack_member = "${google_service_account.slack[0].member}"
    grants = {
        (kind, _literal(body["role"]))
        for kind in ("google_project_iam_member", "google_pubsub_topic_iam_member",
                     "google_secret_manager_secret_iam_member")
        for body in _resources(kind).values()
        if body["member"] == slack_member
    }
    assert grants == {
        ("google_project_iam_member", "roles/monitoring.viewer"),
        ("google_pubsub_topic_iam_member", "roles/pubsub.publisher"),
        ("google_secret_manager_secret_iam_member", "roles/secretmanager.secretAccessor"),
    }
    publisher = _resources("google_pubsub_topic_iam_member")["slack_publisher"]
    assert publisher["topic"] == "${google_pubsub_topic.alerts.id}"


@pytest.mark.parametrize("name", sorted(_resources("google_monitoring_alert_policy")))
def test_alert_policies_are_metric_conditions_that_notify_open_and_close(name: str) -> None:
    policy = _resources("google_monitoring_alert_policy")[name]
    for condition in policy["conditions"]:
        kinds = {key for key in condition if key.startswith("condition_")}
        # Metric conditions send CLOSED, which resolves the card; log-match policies never do.
        assert kinds in ({"condition_threshold"}, {"condition_prometheus_query_language"}), kinds
        if "condition_threshold" in condition:
            assert _literal(_one(condition, "condition_threshold")["comparison"]) in {"COMPARISON_GT", "COMPARISON_LT"}
    strategy = _one(policy, "alert_strategy")
    assert [_literal(p) for p in strategy["notification_prompts"]] == ["OPENED", "CLOSED"]
    assert "auto_close" in strategy


def test_apis_stay_enabled_when_sitrep_is_destroyed() -> None:
    service = _resources("google_project_service")["main"]
    assert service["disable_on_destroy"] is False


@pytest.mark.parametrize("directory", [MODULE, EXAMPLE], ids=["module", "example"])
def test_every_variable_has_a_type_and_a_description(directory: Path) -> None:
    variables = dict(_blocks(directory, "variable"))
    assert variables
    for name, body in variables.items():
        assert "type" in body, f"variable {name} has no type"
        assert _literal(body.get("description", "")).strip(), f"variable {name} has no description"


@pytest.mark.parametrize("directory", [MODULE, EXAMPLE], ids=["module", "example"])
def test_every_output_has_a_description(directory: Path) -> None:
    for name, body in _blocks(directory, "output"):
        assert _literal(body.get("description", "")).strip(), f"output {name} has no description"


def test_provider_range_matches_the_schema_tfcheck_validates() -> None:
    for directory in (MODULE, EXAMPLE):
        (terraform,) = [b for p in _tf_files(directory) for b in _parse(p).get("terraform", [])]
        (providers,) = terraform["required_providers"]
        assert _literal(providers["google"]["version"]) == ">= 6.50, < 8"


def test_slack_manifest_asks_for_the_scopes_sitrep_uses_and_a_long_lived_token() -> None:
    manifest = yaml.safe_load((REPO / "slack" / "manifest.yaml").read_text(encoding="utf-8"))
    # chat.postMessage/update, the /sitrep command, conversations.history (public and private channels).
    assert manifest["oauth_config"]["scopes"]["bot"] == ["chat:write", "commands", "channels:history", "groups:history"]
    assert manifest["settings"]["token_rotation_enabled"] is False, "a rotating token would expire in Secret Manager"
    assert manifest["features"]["bot_user"]["display_name"] == "sitrep"


def test_slack_manifest_sends_buttons_and_the_slash_command_to_the_slack_actions_function() -> None:
    manifest = yaml.safe_load((REPO / "slack" / "manifest.yaml").read_text(encoding="utf-8"))
    interactivity = manifest["settings"]["interactivity"]
    (command,) = manifest["features"]["slash_commands"]
    assert interactivity["is_enabled"] is True
    assert command["command"] == "/sitrep" and command["usage_hint"] == "status [service]"
    assert command["url"] == interactivity["request_url"]
    assert interactivity["request_url"].startswith("https://")
    outputs = dict(_blocks(MODULE, "output"))
    assert "slack_actions" in outputs["slack_interactivity_url"]["value"]


@pytest.mark.skipif(not TFCHECK.exists(), reason="tfcheck lives in ../shared/tools, outside this checkout")
def test_tfcheck_finds_nothing() -> None:
    result = subprocess.run(
        [sys.executable, str(TFCHECK), "-q", str(TERRAFORM)], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- first apply: waits for service agents and IAM propagation -----------------


def _seconds(duration: str) -> int:
    match = re.fullmatch(r'"?(\d+)s"?', duration)
    assert match, f"not a duration in seconds: {duration}"
    return int(match.group(1))


def _sleep(name: str) -> dict[str, Any]:
    return _resources("time_sleep")[name]


def test_service_agents_are_created_before_anything_relies_on_them() -> None:
    (identity,) = _resources("google_project_service_identity").values()
    assert identity["provider"] == "google-beta"
    services = set(re.findall(r'"([a-z]+\.googleapis\.com)"', identity["for_each"]))
    assert services == {"eventarc.googleapis.com", "monitoring.googleapis.com", "cloudscheduler.googleapis.com"}
    wait = _sleep("service_agents")
    assert _seconds(wait["create_duration"]) >= 60
    triggers = wait["triggers"]
    assert 'google_project_service.main["eventarc.googleapis.com"]' in triggers["eventarc_api"]
    assert 'google_project_service_identity.agent["eventarc.googleapis.com"]' in triggers["eventarc_agent"]
    assert 'google_project_service_identity.agent["monitoring.googleapis.com"]' in triggers["monitoring"]
    publisher = _resources("google_pubsub_topic_iam_member")["monitoring_publisher"]
    assert "gcp-sa-monitoring-notification" in publisher["member"]
    assert "${time_sleep.service_agents}" in publisher["depends_on"]


def test_the_tick_is_published_to_the_alert_topic_by_the_scheduler_agent_alone() -> None:
    job = _resources("google_cloud_scheduler_job")["tick"]
    target = job["pubsub_target"][0] if isinstance(job["pubsub_target"], list) else job["pubsub_target"]
    assert "google_pubsub_topic.alerts.id" in target["topic_name"]
    assert "sitrep_tick" in target["data"]
    assert "var.tick_schedule" in job["schedule"]
    grant = _resources("google_pubsub_topic_iam_member")["scheduler_publisher"]
    assert grant["role"].strip('"') == "roles/pubsub.publisher"  # on this topic only: no project-level role
    assert "gcp-sa-cloudscheduler" in grant["member"] and "google_pubsub_topic.alerts.id" in grant["topic"]
    variables = (MODULE / "variables.tf").read_text(encoding="utf-8")
    assert 'default     = "*/5 * * * *"' in variables


def test_alert_function_waits_for_the_eventarc_agent_and_for_its_own_grants() -> None:
    function = _resources("google_cloudfunctions2_function")["main"]
    for wait in ("service_agents", "build_iam_propagation", "runtime_iam_propagation"):
        assert f"${{time_sleep.{wait}}}" in function["depends_on"]
    runtime_wait = _sleep("runtime_iam_propagation")
    assert _seconds(runtime_wait["create_duration"]) >= 60
    # Re-runs whenever a grant is added, e.g. a secret mounted when delivery is turned on.
    assert "google_project_iam_member.runtime" in runtime_wait["triggers"]["grants"]
    assert "google_secret_manager_secret_iam_member.runtime" in runtime_wait["triggers"]["grants"]


@pytest.mark.parametrize(
    ("kind", "name"),
    [("google_cloudfunctions2_function", "slack_actions"), ("google_cloud_run_v2_service", "slack_actions")],
)
def test_slack_endpoint_waits_for_its_own_identity_grants(kind: str, name: str) -> None:
    assert "${time_sleep.slack_iam_propagation}" in _resources(kind)[name]["depends_on"]
    wait = _sleep("slack_iam_propagation")
    assert _seconds(wait["create_duration"]) >= 60
    for grant in ("slack_signing_secret", "slack_publisher", "slack_metrics_reader"):
        assert grant in wait["triggers"]["grants"]


def test_alert_policies_wait_the_ten_minutes_a_new_log_metric_may_take() -> None:
    wait = _sleep("metric_propagation")
    # The API's own 404: "it could take up to 10 minutes to become available".
    assert _seconds(wait["create_duration"]) >= 600
    on_log_metrics = [
        name
        for name, body in _resources("google_monitoring_alert_policy").items()
        if "google_logging_metric" in str(body) or "signature_promql" in str(body)
    ]
    assert sorted(on_log_metrics) == ["error_spike", "self", "signature", "signatures"]
    for name in on_log_metrics:
        assert "${time_sleep.metric_propagation}" in _resources("google_monitoring_alert_policy")[name]["depends_on"]


def test_project_number_is_known_at_plan_time() -> None:
    (data,) = [b for p in _tf_files(MODULE) for b in _parse(p).get("data", []) if '"google_project"' in b]
    body = data['"google_project"']['"main"']
    assert "depends_on" not in body, "a data source that depends on the API set is re-read at apply time"


# --- thresholds: "N per minute" means at least N ---------------------------------


def test_signature_threshold_of_n_fires_on_n_entries() -> None:
    locals_ = _locals()
    assert locals_["signature_threshold_value"] == (
        "${{for id, s in local.signatures : id => ceil(s.threshold_per_minute) - 1}}"
    )
    policy = _resources("google_monitoring_alert_policy")["signature"]
    condition = _one(_one(policy, "conditions"), "condition_threshold")
    assert _literal(condition["comparison"]) == "COMPARISON_GT"
    assert condition["threshold_value"] == "${local.signature_threshold_value[each.key]}"
    aggregation = _one(condition, "aggregations")
    assert _literal(aggregation["alignment_period"]) == "60s" and _literal(aggregation["per_series_aligner"]) == (
        "ALIGN_DELTA"
    ), "a one-minute count, so N - 1 < count means count >= N"


def test_error_spike_threshold_of_n_fires_on_n_entries() -> None:
    policy = _resources("google_monitoring_alert_policy")["error_spike"]
    condition = _one(_one(policy, "conditions"), "condition_threshold")
    assert _literal(condition["comparison"]) == "COMPARISON_GT"
    assert condition["threshold_value"] == "${each.value.error_threshold_per_minute - 1}"
    services = dict(_blocks(MODULE, "variable"))["services"]
    conditions = [v["condition"] for v in services["validation"]]
    assert any("s.error_threshold_per_minute >= 1" in c and "floor(" in c for c in conditions)


def test_consolidated_query_uses_the_same_at_least_n_arithmetic() -> None:
    query = _locals()["signature_promql"]
    assert "local.signature_threshold_value[id]" in query
    assert "])) > ${" in query, "compared with > N - 1, like the threshold conditions"
    assert "local.signature_metric_names[id]" in query and "for id, s in local.signatures" in query


# --- two instances in one project: every name carries name_prefix ---------------

_NAMED = {
    "google_logging_metric": "name",
    "google_monitoring_alert_policy": "display_name",
    "google_monitoring_uptime_check_config": "display_name",
    "google_monitoring_notification_channel": "display_name",
    "google_service_account": "account_id",
    "google_pubsub_topic": "name",
    "google_secret_manager_secret": "secret_id",
    "google_storage_bucket": "name",
    "google_artifact_registry_repository": "repository_id",
    "google_cloudfunctions2_function": "name",
    "google_cloud_run_v2_service": "name",
}


def _mentions_prefix(expression: str, locals_: dict[str, Any], depth: int = 0) -> bool:
    """True when the expression uses var.name_prefix directly or through locals."""
    if "var.name_prefix" in expression:
        return True
    return depth < 3 and any(
        _mentions_prefix(str(locals_[name]), locals_, depth + 1)
        for name in re.findall(r"local\.(\w+)", expression)
        if name in locals_
    )


@pytest.mark.parametrize(
    ("kind", "name"),
    [(kind, name) for kind in sorted(_NAMED) for name in sorted(_resources(kind))],
)
def test_every_name_that_must_be_unique_in_the_project_carries_the_prefix(kind: str, name: str) -> None:
    body = _resources(kind)[name]
    assert _mentions_prefix(str(body[_NAMED[kind]]), _locals()), f"{kind}.{name} would collide with a second instance"


def test_default_prefix_keeps_the_metric_names_the_function_reads() -> None:
    from functions.intake.metrics import SITREP_METRIC_PREFIX

    prefix = _literal(dict(_blocks(MODULE, "variable"))["name_prefix"]["default"])
    names = _locals()["signature_metric_names"]
    assert names == '${{for id, s in local.signatures : id => "${var.name_prefix}/${id}"}}'
    assert f"logging.googleapis.com/user/{prefix}/" == SITREP_METRIC_PREFIX, "the function reads these metrics"
    # any other prefix reaches the function too, so a second instance reads its own metrics
    assert "SITREP_METRIC_PREFIX = var.name_prefix" in (MODULE / "function.tf").read_text(encoding="utf-8")
    for signature in _signatures():
        assert signature["metric_name"] == f"{prefix}/{signature['id']}"


# --- org-safe Slack endpoint -------------------------------------------------------


def test_slack_public_access_chooses_between_all_users_and_a_disabled_invoker_check() -> None:
    variable = dict(_blocks(MODULE, "variable"))["slack_public_access"]
    assert _literal(variable["default"]) == "all_users"
    (validation,) = variable["validation"]
    assert '["all_users", "invoker_iam_disabled"]' in validation["condition"]
    locals_ = _locals()
    assert 'var.slack_public_access == "all_users"' in locals_["slack_via_cloud_functions"]
    assert 'var.slack_public_access == "invoker_iam_disabled"' in locals_["slack_via_cloud_run"]
    assert _resources("google_cloudfunctions2_function")["slack_actions"]["count"] == (
        "${local.slack_via_cloud_functions ? 1 : 0}"
    )
    assert _resources("google_cloud_run_v2_service_iam_member")["slack_public_invoker"]["count"] == (
        "${local.slack_via_cloud_functions ? 1 : 0}"
    )


def test_org_safe_slack_endpoint_is_public_without_any_iam_member() -> None:
    service = _resources("google_cloud_run_v2_service")["slack_actions"]
    assert service["count"] == "${local.slack_via_cloud_run ? 1 : 0}"
    assert service["invoker_iam_disabled"] is True
    assert _literal(service["ingress"]) == "INGRESS_TRAFFIC_ALL"
    members = [
        body
        for kind in ("google_cloud_run_v2_service_iam_member", "google_cloud_run_v2_service_iam_binding")
        for body in _resources(kind).values()
        if "google_cloud_run_v2_service.slack_actions" in str(body.get("name"))
    ]
    assert members == [], "the disabled invoker check replaces allUsers; no member is needed or allowed"
    build = _one(service, "build_config")
    assert _literal(build["function_target"]) == "slack_actions"
    assert "google_storage_bucket_object.source.name" in build["source_location"]
    template = _one(service, "template")
    assert template["service_account"] == "${google_service_account.slack[0].email}"
    (container,) = template["containers"]
    (secret,) = container["env"]
    assert _literal(secret["name"]) == "SLACK_SIGNING_SECRET"
    assert "slack-signing-secret" in str(secret["value_source"])


def test_both_slack_endpoints_feed_the_interactivity_url() -> None:
    value = dict(_blocks(MODULE, "output"))["slack_interactivity_url"]["value"]
    assert "google_cloudfunctions2_function.slack_actions" in value
    assert "google_cloud_run_v2_service.slack_actions" in value


# --- cost: one condition for every signature ----------------------------------------


def test_consolidation_is_one_promql_condition_grouped_by_service() -> None:
    variable = dict(_blocks(MODULE, "variable"))["consolidate_signature_alerts"]
    assert variable["default"] is False
    policy = _resources("google_monitoring_alert_policy")["signatures"]
    assert policy["count"] == "${var.consolidate_signature_alerts ? 1 : 0}"
    (condition,) = policy["conditions"]
    promql = _one(condition, "condition_prometheus_query_language")
    assert promql["query"] == "${local.signature_promql}"
    assert promql["disable_metric_validation"] is True, "a metric that never matched has no series on first apply"
    assert "sum by (service)" in _locals()["signature_promql"]


def test_readme_states_the_monthly_cost_of_the_default_conditions() -> None:
    readme = (TERRAFORM / "README.md").read_text(encoding="utf-8")
    conditions = len(_signatures()) + 1  # one per signature + self-monitoring
    assert f"**{conditions} conditions**" in readme
    assert f"${conditions * 1.5:.2f}" in readme
