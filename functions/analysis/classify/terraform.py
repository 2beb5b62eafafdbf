"""Terraform export of the failure signatures: one log-based metric and alert per alerting signature.

Terraform reads `terraform/modules/sitrep/signatures.json`, which `python -m functions.entry.export_signatures
--terraform` generates from the signature files and `--terraform --check` (and a test) proves is not stale.
Pure: the command line in `functions.entry.export_signatures` does the file I/O. Patterns become Cloud
Logging query filters and RE2 label extractors; texts are rendered static (no values).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from functions.analysis.classify.signatures import TERRAFORM_SEVERITY, Signature, SignatureError, render_template

GENERATED_BY = "python -m functions.entry.export_signatures --terraform"
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


def check_terraform_json(
    signatures: Sequence[Signature], committed: str | None, name: str = "signatures.json"
) -> list[str]:
    """Differences between the committed JSON text and what the signatures imply ([] = fresh)."""
    expected = render_terraform_json(signatures)
    if committed is None:
        return [f"{name} does not exist"]
    if committed == expected:
        return []
    try:
        found = {s["id"]: s for s in json.loads(committed).get("signatures", [])}
    except (ValueError, AttributeError, TypeError, KeyError):
        return [f"{name} is not a valid export"]
    wanted = {s["id"]: s for s in terraform_export(signatures)["signatures"]}
    problems = [f"missing signature {i!r}" for i in sorted(set(wanted) - set(found))]
    problems += [f"extra signature {i!r}" for i in sorted(set(found) - set(wanted))]
    problems += [f"signature {i!r} differs" for i in sorted(set(wanted) & set(found)) if wanted[i] != found[i]]
    return problems or [f"{name} differs in formatting or order"]
