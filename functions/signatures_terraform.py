"""Terraform export of the failure signatures: one log-based metric and alert per alerting signature.

Terraform reads `terraform/modules/sitrep/signatures.json`, which `python -m functions.signatures
--terraform` generates from `signatures.d/*.yaml` (the CLI below; `signatures.py` hands its `__main__`
to it) and `--terraform --check` (and a test) proves is not stale. Patterns become Cloud Logging
query filters and RE2 label extractors; texts are rendered static (no values).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from functions.signatures import (
    DEFAULT_PATH,
    TERRAFORM_SEVERITY,
    Signature,
    SignatureError,
    load_signatures,
    render_template,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
TERRAFORM_JSON_PATH = REPO_ROOT / "terraform" / "modules" / "sitrep" / "signatures.json"
GENERATED_BY = "python -m functions.signatures --terraform"
CLI_DESCRIPTION = "Failure signatures: load, validate and compile `signatures.d/*.yaml`; export them for Terraform."
METRIC_PREFIX = "sitrep/"
METRIC_NAME_MAX_CHARS = 100  # Cloud Logging log-based metric name limit
_NAMED_GROUP_RE = re.compile(r"(?<!\\)((?:\\\\)*)\(\?P<(\w+)>")


def logging_string(value: str) -> str:
    """Quote a value as a Cloud Logging query-language string literal."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def filter_regex(pattern: str, keep_group: str | None = None) -> str:
    """The pattern for RE2 in Cloud Logging: named groups become non-capturing,
    except `keep_group`, which becomes the one capturing group (for REGEXP_EXTRACT)."""

    def replace(match: re.Match[str]) -> str:
        prefix, name = match.group(1), match.group(2)
        return prefix + ("(" if name == keep_group else "(?:")

    return _NAMED_GROUP_RE.sub(replace, pattern)


def logging_filter(sig: Signature) -> str:
    """The full Cloud Logging query of the entries a signature matches."""
    clauses = ['resource.type="cloud_run_revision"']
    if sig.log_severity is not None:
        clauses.append(f"severity>={sig.log_severity}")
    if sig.pattern is not None:
        quoted = logging_string(filter_regex(sig.pattern))
        clauses.append(f"(textPayload=~{quoted} OR jsonPayload.message=~{quoted})")
    if sig.http_status:
        terms = [
            f"httpRequest.status={lo}" if lo == hi else f"(httpRequest.status>={lo} AND httpRequest.status<={hi})"
            for lo, hi in sig.http_status
        ]
        clauses.append(terms[0] if len(terms) == 1 else "(" + " OR ".join(terms) + ")")
    return " AND ".join(clauses)


def label_extractors(sig: Signature) -> dict[str, str]:
    """Metric labels: service and revision, plus each entity the pattern extracts."""
    labels = {
        "service": "EXTRACT(resource.labels.service_name)",
        "revision": "EXTRACT(resource.labels.revision_name)",
    }
    if sig.http_status and sig.pattern is None:
        labels["status"] = "EXTRACT(httpRequest.status)"
    if sig.pattern is not None:
        for group, entity in sig.group_entities.items():
            if entity in labels or entity == "revision":
                continue  # first group of an entity wins; the resource label is better
            marker = f"(?P<{group}>"
            alternative = next(alt for alt in sig.alternatives if marker in alt)
            regex = filter_regex(alternative, keep_group=group)
            labels[entity] = f"REGEXP_EXTRACT(textPayload, {logging_string(regex)})"
    return labels


def _static(template: str) -> str:
    """A template without values: optional segments dropped, entities as <entity>."""
    return render_template(template, {})


def _description(sig: Signature) -> str:
    if sig.description:
        return sig.description
    text = f"{_static(sig.summary)}."
    if sig.action is not None:
        text += f" Action ({sig.action.priority.value}): {_static(sig.action.text)}"
    return text


def terraform_export(signatures: Sequence[Signature]) -> dict[str, Any]:
    """The document Terraform reads: one log-based metric + alert per alerting signature.

    Texts are static (no values): optional `[...]` segments dropped, entities shown as
    `<entity>`; the metric's label extractors carry the actual values.
    """
    exported = []
    for sig in signatures:
        if sig.alert is None or sig.action is None:
            continue
        metric_name = METRIC_PREFIX + sig.id
        if len(metric_name) > METRIC_NAME_MAX_CHARS:
            raise SignatureError(f"signature {sig.id!r}: metric name longer than 100 chars")
        exported.append(
            {
                "id": sig.id,
                "metric_name": metric_name,
                "category": sig.category.value,
                "severity": TERRAFORM_SEVERITY[sig.severity],
                "summary": _static(sig.summary),
                "description": _description(sig),
                "filter": logging_filter(sig),
                "threshold_per_minute": _number(sig.alert.threshold_per_minute),
                "label_extractors": label_extractors(sig),
                "action": {"priority": sig.action.priority.value, "text": _static(sig.action.text)},
            }
        )
    return {"generated_by": GENERATED_BY, "signatures": exported}


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def render_terraform_json(signatures: Sequence[Signature]) -> str:
    """Deterministic JSON text (sorted keys, 2-space indent, trailing newline)."""
    return json.dumps(terraform_export(signatures), indent=2, sort_keys=True) + "\n"


def check_terraform_json(signatures: Sequence[Signature], path: Path = TERRAFORM_JSON_PATH) -> list[str]:
    """Differences between the committed JSON and what the signatures imply ([] = fresh)."""
    expected = render_terraform_json(signatures)
    if not path.exists():
        return [f"{path} does not exist"]
    actual = path.read_text(encoding="utf-8")
    if actual == expected:
        return []
    try:
        committed = {s["id"]: s for s in json.loads(actual).get("signatures", [])}
    except (ValueError, AttributeError, TypeError, KeyError):
        return [f"{path} is not a valid export"]
    wanted = {s["id"]: s for s in terraform_export(signatures)["signatures"]}
    problems = [f"missing signature {i!r}" for i in sorted(set(wanted) - set(committed))]
    problems += [f"extra signature {i!r}" for i in sorted(set(committed) - set(wanted))]
    problems += [f"signature {i!r} differs" for i in sorted(set(wanted) & set(committed)) if wanted[i] != committed[i]]
    return problems or [f"{path} differs in formatting or order"]


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: `--terraform` writes the Terraform export, `--check` verifies it instead."""
    parser = argparse.ArgumentParser(prog="python -m functions.signatures", description=CLI_DESCRIPTION)
    parser.add_argument("--terraform", action="store_true", help="write (or check) the Terraform export")
    parser.add_argument("--check", action="store_true", help="fail if the export is stale instead of writing it")
    parser.add_argument("--signatures", type=Path, default=DEFAULT_PATH, help="signatures folder (or one YAML file)")
    parser.add_argument("--out", type=Path, default=TERRAFORM_JSON_PATH, help="Terraform JSON path")
    args = parser.parse_args(argv)
    try:
        signatures = load_signatures(args.signatures)
    except SignatureError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not args.terraform:
        alerting = sum(1 for s in signatures if s.alert is not None)
        print(f"{len(signatures)} signatures valid ({alerting} with alerts)")
        return 0
    if args.check:
        problems = check_terraform_json(signatures, args.out)
        for problem in problems:
            print(f"stale: {problem}", file=sys.stderr)
        if problems:
            print(f"run: {GENERATED_BY}", file=sys.stderr)
            return 1
        print(f"{args.out} is up to date")
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render_terraform_json(signatures), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
