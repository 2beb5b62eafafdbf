"""The signatures file: validity, the causal graph, and the Terraform export it drives."""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
import re2
import yaml

from functions.analysis.classify.classifier import Classifier
from functions.analysis.classify.signature_files import (
    DEFAULT_PATH,
    STACK_FILES,
    load_documents,
    load_signatures,
    merge_documents,
    parse_signatures,
)
from functions.analysis.classify.signatures import (
    CATEGORY_PRIORITY,
    ENTITY_NAMES,
    Signature,
    SignatureError,
    log_severity_rank,
    render_template,
)
from functions.analysis.classify.terraform import (
    GENERATED_BY,
    check_terraform_json,
    filter_regex,
    logging_string,
    render_terraform_json,
    terraform_export,
)
from functions.core.model import Category, Priority, Severity
from functions.entry.export_signatures import TERRAFORM_JSON_PATH, main
from tests.signature_tools import action_for, causal_graph

SIGNATURES = load_signatures()
CLASSIFIER = Classifier(SIGNATURES)
COMMITTED_JSON = TERRAFORM_JSON_PATH.read_text(encoding="utf-8")
BY_ID = {sig.id: sig for sig in SIGNATURES}
RAW: list[dict[str, Any]] = load_documents()
EXPORT_KEYS = {
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
# docs/ARCHITECTURE.md: the causal graph is a DAG in this order (edges point to later categories).
CAUSAL_ORDER = [
    Category.CONFIGURATION,
    Category.DEPENDENCY_MISSING,
    Category.NETWORK,
    Category.TLS,
    Category.DATABASE,
    Category.AUTH,
    Category.RESOURCE_EXHAUSTION,
    Category.CONTAINER_STARTUP,
    Category.TIMEOUT,
    Category.WEBSOCKET,
    Category.APPLICATION,
]


def _re2(pattern: str) -> Any:
    options = re2.Options()
    options.log_errors = False
    return re2.compile(pattern, options)


def test_there_are_enough_signatures_with_unique_ids() -> None:
    assert len(SIGNATURES) >= 60
    assert len(BY_ID) == len(SIGNATURES)


def test_every_category_of_the_taxonomy_is_covered() -> None:
    covered = {sig.category for sig in SIGNATURES}
    assert covered == set(Category) - {Category.UNKNOWN}


@pytest.mark.parametrize("sig", [s for s in SIGNATURES if s.pattern], ids=lambda s: s.id)
def test_pattern_compiles_in_python_re_and_re2(sig: Signature) -> None:
    assert sig.regex is not None
    compiled = _re2(sig.pattern or "")
    assert compiled.groups == sig.regex.groups == len(sig.regex.groupindex)
    assert set(sig.group_entities.values()) <= ENTITY_NAMES


def test_all_patterns_fit_in_one_re2_set() -> None:
    options = re2.Options()
    options.max_mem = 64 << 20
    rset = re2.Set.SearchSet(options)
    for sig in SIGNATURES:
        if sig.pattern:
            rset.Add(sig.pattern)
    rset.Compile()


def test_file_order_keeps_specific_before_generic() -> None:
    ids = [sig.id for sig in SIGNATURES]
    assert ids.index("optional-sdk-unavailable") < ids.index("python-module-not-found")
    assert ids.index("python-module-not-found") < ids.index("python-traceback")
    assert ids.index("db-connection-timeout") < ids.index("operation-timeout")
    assert ids.index("startup-import-crash") < ids.index("python-traceback")
    assert ids[-1] == "error-exception-line"
    assert ids.index("http-gateway-timeout") < ids.index("http-server-error")
    # Status-only rules are a separate pass (functions.analysis.classify.classifier); among them, a narrower
    # status precedes every rule whose range contains it (504 before 500-599).
    status_only = [s for s in SIGNATURES if s.pattern is None]
    for i, narrow in enumerate(status_only):
        for broad in status_only[:i]:
            assert not all(
                broad.matches_status(lo) and broad.matches_status(hi) for lo, hi in narrow.http_status
            ) or all(narrow.matches_status(lo) and narrow.matches_status(hi) for lo, hi in broad.http_status), (
                f"{broad.id} hides {narrow.id}"
            )


def test_the_stack_files_merge_request_lines_first_then_categories_then_catch_alls() -> None:
    request_lines = [s for s in SIGNATURES if s.request_line]
    catch_alls = [s for s in SIGNATURES if s.catch_all]
    specific = [s for s in SIGNATURES if not s.request_line and not s.catch_all]
    assert list(SIGNATURES) == request_lines + specific + catch_alls
    raw_by_id = {raw["id"]: raw for raw in RAW}
    ranks = [CATEGORY_PRIORITY.index(Category(raw_by_id[s.id].get("rank_as", s.category))) for s in specific]
    assert ranks == sorted(ranks)
    assert {path.stem for path in DEFAULT_PATH.glob("*.yaml")} == set(STACK_FILES)


def test_merge_puts_a_stacks_own_phrasing_before_the_shared_one_within_a_category() -> None:
    def entry(sig_id: str, category: str, **extra: object) -> dict[str, object]:
        return {"id": sig_id, "category": category, "severity": "error", "pattern": sig_id, "summary": "s", **extra}

    merged = merge_documents(
        [
            ("python", [entry("py-timeout", "timeout"), entry("py-db", "database")]),
            ("common", [entry("any-db", "database"), entry("any-trace", "application", catch_all=True)]),
            ("platform", [entry("access", "application", request_line=True)]),
        ]
    )
    assert [e["id"] for e in merged] == ["access", "py-db", "any-db", "py-timeout", "any-trace"]


# ------------------------------------------------------------------ causal graph


def test_causal_graph_is_acyclic_in_the_documented_order() -> None:
    rank = {cat: i for i, cat in enumerate(CAUSAL_ORDER)}
    for cause, effects in causal_graph(SIGNATURES).items():
        for effect in effects:
            assert rank[effect] > rank[cause], f"{cause.value} -> {effect.value}"


@pytest.mark.parametrize(
    ("cause", "effects"),
    [
        (Category.DEPENDENCY_MISSING, {Category.CONTAINER_STARTUP, Category.WEBSOCKET, Category.APPLICATION}),
        (Category.CONTAINER_STARTUP, {Category.TIMEOUT, Category.APPLICATION}),
        (Category.CONFIGURATION, {Category.CONTAINER_STARTUP, Category.AUTH, Category.DATABASE}),
        (Category.DATABASE, {Category.AUTH, Category.APPLICATION, Category.TIMEOUT, Category.WEBSOCKET}),
        (Category.NETWORK, {Category.DATABASE, Category.AUTH, Category.TLS, Category.TIMEOUT}),
        (Category.RESOURCE_EXHAUSTION, {Category.CONTAINER_STARTUP}),
    ],
)
def test_design_causal_edges_exist(cause: Category, effects: set[Category]) -> None:
    assert effects <= causal_graph(SIGNATURES)[cause]


def test_noise_causes_nothing_and_is_never_urgent() -> None:
    for sig in SIGNATURES:
        if sig.category is Category.NOISE:
            assert sig.causes == ()
            assert sig.action is None or sig.action.priority is Priority.P2
            assert sig.alert is None


@pytest.mark.parametrize(
    "sig_id",
    [
        "python-module-not-found",
        "container-exit-nonzero",
        "instance-failed-to-start",
        "db-connection-timeout",
        "db-endpoint-unreachable",
        "cloudsql-connection-failed",
        "memory-limit-exceeded",
        "port-not-listening",
    ],
)
def test_outage_level_signatures_are_p0_and_alert(sig_id: str) -> None:
    sig = BY_ID[sig_id]
    assert sig.action is not None and sig.action.priority is Priority.P0
    assert sig.severity is Severity.CRITICAL
    assert sig.alert is not None


# ------------------------------------------------------------------ templates


@pytest.mark.parametrize(
    ("template", "entities", "expected"),
    [
        ("missing Python module '{module}'", {"module": "auth_service"}, "missing Python module 'auth_service'"),
        ("missing Python module '{module}'", {}, "missing Python module '<module>'"),
        ("timeout[ after {timeout_s}s]", {"timeout_s": "15"}, "timeout after 15s"),
        ("timeout[ after {timeout_s}s]", {}, "timeout"),
        ("db[ {host}][:{port}]", {"port": "5432"}, "db:5432"),
        ("db[ {host}:{port}]", {"host": "h"}, "db"),
    ],
)
def test_render_template(template: str, entities: dict[str, str], expected: str) -> None:
    assert render_template(template, entities) == expected


def test_templates_drop_the_segments_whose_entities_are_missing() -> None:
    summary = BY_ID["db-connection-timeout"].summary
    assert render_template(summary, {"timeout_s": "15"}) == "database connection timeout after 15s"
    assert render_template(summary, {}) == "database connection timeout"
    with_host = render_template(summary, {"host": "10.0.0.3", "port": "5432"})
    assert with_host == "database connection timeout (10.0.0.3:5432)"


def test_action_text_may_name_the_service() -> None:
    (sig,) = parse_signatures([_valid(action={"priority": "P0", "text": "roll back {service} ({host})"})])
    action = action_for(sig, {"host": "db"}, service="api")
    assert action is not None and action.text == "roll back api (db)"


def test_failed_start_signatures_are_marked() -> None:
    marked = {sig.id for sig in SIGNATURES if sig.failed_start}
    assert {"instance-failed-to-start", "startup-probe-failed", "port-not-listening"} <= marked
    assert all(BY_ID[i].category is Category.CONTAINER_STARTUP for i in marked)
    assert "container-exit-nonzero" not in marked  # an exit may follow a successful start


def test_action_for_fills_entities() -> None:
    action = action_for(BY_ID["python-module-not-found"], {"module": "auth_service"})
    assert action is not None
    assert action.priority is Priority.P0
    assert "'auth_service'" in action.text
    assert (action.category, action.signature) == (Category.DEPENDENCY_MISSING, "python-module-not-found")
    assert action_for(BY_ID["grpc-absl-notice"], {}) is None


def test_entity_patterns_fill_what_the_match_did_not_capture() -> None:
    (sig,) = parse_signatures(
        [_valid(summary="cannot reach {host}[:{port}]", entity_patterns="port=(?P<port>\\d+)\nhost=(?P<host>\\S+)")]
    )
    assert sig.entities == {"host", "port"}
    assert sig.search("connect to db.internal failed (port=5432, host=ignored)") == {
        "host": "db.internal",
        "port": "5432",
    }
    assert sig.search("port=5432 but nothing failed") is None  # entity patterns never decide a match


def test_timeout_in_milliseconds_becomes_seconds() -> None:
    sig = BY_ID["db-pool-exhausted"]
    assert sig.search("HikariPool-1 - Connection is not available, request timed out after 1500ms.") == {
        "timeout_s": "1.5"
    }


# ------------------------------------------------------------------ validation


def _valid(**overrides: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": "sample-failure",
        "category": "database",
        "severity": "error",
        "pattern": "connect to (?P<host>[\\w.]+) failed",
        "summary": "cannot reach {host}",
        "action": {"priority": "P1", "text": "check {host}"},
        "causes": ["application"],
    }
    entry.update(overrides)
    return entry


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        (_valid(id="Bad_Id"), "kebab-case"),
        (_valid(category="oops"), "category 'oops'"),
        (_valid(severity="fatal"), "severity 'fatal'"),
        (_valid(action={"priority": "P9", "text": "x"}), "action.priority 'P9'"),
        (_valid(pattern="connect to (unclosed"), "does not compile in Python re"),
        (_valid(pattern="(?P<host>a)(?P=host)"), "not valid RE2"),
        (_valid(pattern="retry(?=\\d)"), "not valid RE2"),
        (_valid(pattern="connect to ([\\w.]+) failed", summary="x"), "unnamed capturing groups"),
        (_valid(pattern="user (?P<user>\\w+)", summary="x"), "group 'user' is not an entity"),
        (_valid(summary="cannot reach {port}"), "placeholder {port} is not extracted"),
        (_valid(summary="cannot reach {host!r}"), "plain {entity}"),
        (_valid(action={"priority": "P1", "text": "check [{host}"}), "unbalanced"),
        (_valid(causes=["nowhere"]), "causes 'nowhere'"),
        (_valid(causes=["database"]), "cannot cause its own category"),
        (_valid(category="noise", causes=["application"]), "noise causes nothing"),
        (_valid(severity="info", alert={"threshold_per_minute": 1}), "needs severity critical"),
        (_valid(alert={"threshold_per_minute": 0}), "must be > 0"),
        (_valid(alert={"threshold": 1}), "alert must be"),
        (_valid(pattern=None), "needs a pattern, an http_status"),
        (_valid(http_status=["5xx"]), "http_status entry '5xx'"),
        (_valid(http_status="600-700"), "outside 100-599"),
        (_valid(log_severity="LOUD"), "log_severity 'LOUD'"),
        (_valid(colour="red"), "unknown keys ['colour']"),
        (_valid(failed_start="yes"), "failed_start must be true or false"),
        (_valid(entity_patterns="no groups here"), "extracts no entity"),
        (_valid(entity_patterns="(?P<user>\\w+)"), "group 'user' is not an entity"),
        (_valid(pattern=None, http_status=[500], entity_patterns="port (?P<port>\\d+)"), "need a pattern"),
        (_valid(summary="cannot reach {service}"), "placeholder {service} is not extracted"),
        (_valid(examples=["connect to db failed"]), "examples must be {match"),
        (_valid(examples={"matches": ["connect to db failed"]}), "examples must be {match"),
        (_valid(examples={"match": "connect to db failed"}), "examples.match must be a list"),
        (_valid(examples={"no_match": [""]}), "examples.no_match must be a list of non-empty strings"),
    ],
)
def test_invalid_signatures_are_rejected_with_id_and_reason(entry: dict[str, Any], problem: str) -> None:
    with pytest.raises(SignatureError) as raised:
        parse_signatures([entry])
    message = str(raised.value)
    assert repr(entry["id"]) in message
    assert problem in message


def test_examples_are_kept_beside_the_rule() -> None:
    examples = {"match": ["connect to db.internal failed"], "no_match": ["connected"]}
    (sig,) = parse_signatures([_valid(examples=examples)])
    assert sig.examples == ("connect to db.internal failed",)
    assert sig.counter_examples == ("connected",)


_EXAMPLES = [(sig.id, message) for sig in SIGNATURES for message in sig.examples]
_COUNTER_EXAMPLES = [(sig.id, message) for sig in SIGNATURES for message in sig.counter_examples]


@pytest.mark.parametrize(("sig_id", "message"), _EXAMPLES, ids=[f"{i}:{m[:40]!r}" for i, m in _EXAMPLES])
def test_each_example_gets_its_signature_from_the_whole_classifier(sig_id: str, message: str) -> None:
    """The merged order decides, not the pattern alone: an earlier rule that steals an example fails here."""
    assert CLASSIFIER.classify_message(message, severity="ERROR").signature == sig_id


@pytest.mark.parametrize(
    ("sig_id", "message"), _COUNTER_EXAMPLES, ids=[f"{i}:{m[:40]!r}" for i, m in _COUNTER_EXAMPLES]
)
def test_each_near_miss_does_not_get_the_signature(sig_id: str, message: str) -> None:
    assert CLASSIFIER.classify_message(message, severity="ERROR").signature != sig_id


def test_duplicate_ids_are_rejected() -> None:
    with pytest.raises(SignatureError, match="'sample-failure': duplicate id"):
        parse_signatures([_valid(), _valid()])


def test_multiline_patterns_are_alternatives_with_line_scoped_flags() -> None:
    pattern = "# a comment\n(?i)CONNECT to (?P<host>[\\w.]+) failed\nrefused by (?P<host_2>\\w+)\n"
    (sig,) = parse_signatures([_valid(pattern=pattern)])
    assert sig.alternatives == ("(?i:CONNECT to (?P<host>[\\w.]+) failed)", "refused by (?P<host_2>\\w+)")
    assert sig.search("connect to db.internal failed") == {"host": "db.internal"}
    assert sig.search("REFUSED BY db") is None
    assert sig.search("refused by db") == {"host": "db"}


def test_http_status_accepts_codes_and_ranges() -> None:
    (sig,) = parse_signatures(
        [_valid(pattern=None, summary="HTTP {status}", action=None, http_status=[502, "500-504", 429])]
    )
    assert sig.http_status == ((429, 429), (500, 504), (502, 502))
    assert [s for s in (200, 429, 499, 500, 503, 505) if sig.matches_status(s)] == [429, 500, 503]


@pytest.mark.parametrize(
    ("name", "rank"), [("ERROR", 500), ("error", 500), ("WARN", 400), ("EMERGENCY", 800), ("nonsense", 0)]
)
def test_log_severity_rank(name: str, rank: int) -> None:
    assert log_severity_rank(name) == rank


def test_the_committed_file_is_the_packaged_default() -> None:
    assert parse_signatures(copy.deepcopy(RAW)) == SIGNATURES


# ------------------------------------------------------------------ Terraform export


def _unquote(text: str, start: int) -> tuple[str, int]:
    """Read a Logging query-language string literal starting at text[start] == '"'."""
    assert text[start] == '"'
    out, i = [], start + 1
    while text[i] != '"':
        if text[i] == "\\":
            i += 1
        out.append(text[i])
        i += 1
    return "".join(out), i + 1


def _quoted_regexes(expression: str, marker: str) -> list[str]:
    found, pos = [], expression.find(marker)
    while pos != -1:
        value, end = _unquote(expression, pos + len(marker))
        found.append(value)
        pos = expression.find(marker, end)
    return found


EXPORT = terraform_export(SIGNATURES)
EXPORTED = EXPORT["signatures"]


def test_export_has_exactly_the_agreed_shape() -> None:
    assert set(EXPORT) == {"generated_by", "signatures"}
    assert EXPORT["generated_by"] == GENERATED_BY
    assert [s["id"] for s in EXPORTED] == [sig.id for sig in SIGNATURES if sig.alert]
    for entry in EXPORTED:
        assert set(entry) == EXPORT_KEYS
        assert entry["metric_name"] == f"sitrep/{entry['id']}" and len(entry["metric_name"]) <= 100
        assert entry["severity"] in {"CRITICAL", "ERROR", "WARNING"}
        assert entry["threshold_per_minute"] > 0
        assert set(entry["action"]) == {"priority", "text"}
        assert "{" not in entry["summary"] and "[" not in entry["summary"]
        assert entry["label_extractors"]["service"] == "EXTRACT(resource.labels.service_name)"


@pytest.mark.parametrize("entry", EXPORTED, ids=lambda e: e["id"])
def test_filter_is_the_signature_pattern_quoted_for_cloud_logging(entry: dict[str, Any]) -> None:
    sig = BY_ID[entry["id"]]
    assert entry["filter"].startswith('resource.type="cloud_run_revision" AND ')
    text_res = _quoted_regexes(entry["filter"], "textPayload=~")
    json_res = _quoted_regexes(entry["filter"], "jsonPayload.message=~")
    assert text_res == json_res == [filter_regex(sig.pattern or "")]
    compiled = _re2(text_res[0])
    assert compiled.groups == 0
    # the unquoted filter regex matches what the signature matches
    assert (compiled.search("No module named 'auth_service'") is not None) == (
        sig.search("No module named 'auth_service'") is not None
    )


@pytest.mark.parametrize("entry", EXPORTED, ids=lambda e: e["id"])
def test_label_extractors_have_exactly_one_capturing_group(entry: dict[str, Any]) -> None:
    sig = BY_ID[entry["id"]]
    for label, expression in entry["label_extractors"].items():
        if expression.startswith("EXTRACT("):
            continue
        assert label in sig.entities
        (regex,) = _quoted_regexes(expression, "REGEXP_EXTRACT(textPayload, ")
        assert _re2(regex).groups == 1, (label, regex)


def test_extractor_returns_the_entity_value() -> None:
    expression = label_for("python-module-not-found", "module")
    (regex,) = _quoted_regexes(expression, "REGEXP_EXTRACT(textPayload, ")
    match = _re2(regex).search("ModuleNotFoundError: No module named 'auth_service'")
    assert match is not None and match.group(1) == "auth_service"


def label_for(sig_id: str, label: str) -> str:
    entry = next(e for e in EXPORTED if e["id"] == sig_id)
    return str(entry["label_extractors"][label])


def test_logging_string_escapes_backslashes_and_quotes() -> None:
    assert logging_string('a\\d"b') == '"a\\\\d\\"b"'
    assert _unquote(logging_string('x\\.y "z"'), 0)[0] == 'x\\.y "z"'


def test_status_only_filters_use_http_request_status() -> None:
    (sig,) = parse_signatures(
        [
            _valid(
                pattern=None,
                summary="HTTP {status}",
                action={"priority": "P1", "text": "look at the {status}s"},
                http_status=["500-599", 429],
                alert={"threshold_per_minute": 2},
            )
        ]
    )
    (entry,) = terraform_export([sig])["signatures"]
    assert entry["filter"] == (
        'resource.type="cloud_run_revision" AND (httpRequest.status=429 OR '
        "(httpRequest.status>=500 AND httpRequest.status<=599))"
    )
    assert entry["label_extractors"]["status"] == "EXTRACT(httpRequest.status)"


def test_severity_gated_signature_filters_on_severity() -> None:
    (sig,) = parse_signatures([_valid(log_severity="error", alert={"threshold_per_minute": 3})])
    (entry,) = terraform_export([sig])["signatures"]
    assert entry["filter"].startswith('resource.type="cloud_run_revision" AND severity>=ERROR AND (')


def test_rendered_json_is_deterministic() -> None:
    text = render_terraform_json(SIGNATURES)
    assert text == render_terraform_json(load_signatures())
    assert text.endswith("}\n") and not text.endswith("\n\n")
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True) + "\n"


def test_committed_terraform_json_is_not_stale() -> None:
    assert check_terraform_json(SIGNATURES, COMMITTED_JSON) == []
    assert main(["--terraform", "--check"]) == 0


def test_changing_a_signature_without_regenerating_is_detected() -> None:
    first = next(sig for sig in SIGNATURES if sig.alert is not None)
    changed = dataclasses.replace(first, summary=first.summary + " (changed)")
    modified = tuple(changed if sig is first else sig for sig in SIGNATURES)
    assert check_terraform_json(modified, COMMITTED_JSON) == [f"signature {first.id!r} differs"]
    without = tuple(sig for sig in SIGNATURES if sig is not first)
    assert check_terraform_json(without, COMMITTED_JSON) == [f"extra signature {first.id!r}"]


def test_cli_writes_then_checks_and_detects_edits(tmp_path: Path) -> None:
    out = tmp_path / "signatures.json"
    assert main(["--terraform", "--check", "--out", str(out)]) == 1  # missing
    assert main(["--terraform", "--out", str(out)]) == 0
    assert main(["--terraform", "--check", "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    data["signatures"][0]["threshold_per_minute"] = 99
    out.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    assert main(["--terraform", "--check", "--out", str(out)]) == 1


def test_cli_check_fails_for_an_edited_signatures_file(tmp_path: Path) -> None:
    edited = copy.deepcopy(RAW)
    entry = next(e for e in edited if e.get("alert"))
    entry["alert"]["threshold_per_minute"] = 42
    source = tmp_path / "signatures.yaml"
    source.write_text(yaml.safe_dump(edited, sort_keys=False))
    assert main(["--terraform", "--check", "--signatures", str(source)]) == 1


def test_cli_reports_an_invalid_file(tmp_path: Path) -> None:
    source = tmp_path / "signatures.yaml"
    source.write_text(yaml.safe_dump([_valid(category="oops")]))
    assert main(["--signatures", str(source)]) == 2
