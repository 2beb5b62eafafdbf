"""Reading the signature files: `signatures.d/*.yaml` (one per stack, see its README.md) merged into one
ordered tuple of `Signature`s (the classifier's precedence is `merge_documents`).

File format (each file is a YAML list; the merged order matters, see `merge_documents`):

- ``pattern``: one alternative per line (joined with ``|``); a line may start with
  ``(?i)`` / ``(?s)`` to set that flag for that alternative only; lines starting with ``#`` are
  comments; leading/trailing blanks are ignored (write ``\\s`` or ``[ ]`` for significant
  ones). Every alternative must compile in Python ``re`` and in RE2 (Cloud Logging).
- Named groups extract entities: the group name is an entity of the JSON output; a suffix
  ``_2``, ``_3`` ... lets the same entity appear in several alternatives; ``timeout_ms``
  fills ``timeout_s`` (divided by 1000). Unnamed capturing groups are not allowed.
- ``summary`` / ``action.text`` templates: ``{entity}`` placeholders; a ``[...]`` segment
  is dropped unless every placeholder inside it was extracted.
- ``http_status`` (ints or ``"500-599"`` ranges) restricts a signature to request-log
  records with that status; a signature with no ``pattern`` matches on status alone.
- ``log_severity`` (e.g. ``ERROR``) restricts it to records at least that severe.
- ``entity_patterns`` (same line format): extra extractors tried only after the pattern
  matched, to fill entities the matching alternative did not capture (e.g. host=... port=...).
  They never decide a match, so they are not part of the Terraform filter.
- ``failed_start: true`` marks signatures whose every occurrence is an instance that
  never started (health counts them as failed starts).
- ``crashes_instance: true`` marks an application failure that ends the process whenever it
  happens (an unrecovered Go panic): the root-cause stage lets it explain the container exits
  and failed starts of its service, although the category graph runs container_startup ->
  application (a crashed instance fails requests), not the reverse.
- ``action.text`` may also use ``{service}`` (the record's service).
- ``request_line: true`` marks a signature that recognises a whole request (access) log line:
  tried before every other one, since a request's URL may quote any failure text.
- ``rank_as: <category>`` merges the signature as if it had that category (it keeps its own):
  for a phrase that quotes the words of an earlier category's more generic rule.
- ``catch_all: true`` marks a generic shape (a stack trace, an exception line, a warning word):
  it is tried only after every specific signature and after the cue stage (`functions.analysis.classify.cues`).
- ``examples: {match: [...], no_match: [...]}``: messages the whole classifier must give this
  signature, and near misses it must not (tests/test_signatures.py checks both): the rule's
  class written down beside it, so an edit elsewhere that steals or widens it fails a test.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn

import yaml

from functions.analysis.classify.signatures import (
    _LEADING_FLAGS_RE,
    CATEGORY_PRIORITY,
    ActionSpec,
    AlertSpec,
    Signature,
    SignatureError,
    _failer,
)
from functions.core.model import Category, Priority, Severity

DEFAULT_PATH = Path(__file__).with_name("signatures.d")
STACK_FILES = ("noise", "platform", "python", "jvm", "node", "go", "php_ruby_dotnet", "common", "catchall")
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


# --------------------------------------------------------------------------- loading


def load_signatures(path: Path | None = None) -> tuple[Signature, ...]:
    """Read, validate and compile the signatures: a folder of STACK_FILES (default:
    functions/analysis/classify/signatures.d/) merged by `merge_documents`, or one YAML file taken in its order."""
    return parse_signatures(load_documents(path))


def load_documents(path: Path | None = None) -> list[Any]:
    """The raw YAML entries in merged order (what `parse_signatures` takes)."""
    source = path or DEFAULT_PATH
    if not source.is_dir():
        data = _read_yaml(source)
        if not isinstance(data, list):
            raise SignatureError("the signatures file must be a non-empty YAML list")
        return data
    present = {p.stem for p in source.glob("*.yaml")}
    unknown = sorted(present - set(STACK_FILES))
    if unknown:
        raise SignatureError(f"{source}: files {unknown} are not in STACK_FILES (signature_files.py)")
    files = []
    for name in STACK_FILES:
        data = _read_yaml(source / f"{name}.yaml")
        if not isinstance(data, list):
            raise SignatureError(f"{name}.yaml must be a YAML list")
        files.append((name, data))
    return merge_documents(files)


def _read_yaml(path: Path) -> object:
    with path.open(encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_SAFE_LOADER)  # a safe loader (the C one when built)


def merge_documents(files: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
    """Merge the stack files into one priority order (the classifier's precedence).

    Request-line signatures first (a request's URL may quote any failure text); then the
    specific signatures, by CATEGORY_PRIORITY (of ``rank_as`` when given), then file order (STACK_FILES), then position
    in the file; then the catch-alls (``catch_all: true``, kept in catchall.yaml)
    in file order. An entry whose category is not valid sorts last and fails validation.
    """
    rank = {category.value: index for index, category in enumerate(CATEGORY_PRIORITY)}
    keyed = []
    for file_index, (_, entries) in enumerate(files):
        for position, raw in enumerate(entries):
            category = raw.get("category") if isinstance(raw, dict) else None
            catch_all = isinstance(raw, dict) and raw.get("catch_all") is True
            request_line = isinstance(raw, dict) and raw.get("request_line") is True
            if request_line:
                first = (0, 0)
            elif catch_all:
                first = (2, 0)
            else:
                ranked = raw.get("rank_as", category) if isinstance(raw, dict) else category
                first = (1, rank.get(str(ranked), len(rank)))
            keyed.append(((*first, file_index, position), raw))
    keyed.sort(key=lambda item: item[0])
    return [raw for _, raw in keyed]


def parse_signatures(data: object) -> tuple[Signature, ...]:
    """Build signatures from the parsed YAML document (a list of mappings)."""
    if not isinstance(data, list) or not data:
        raise SignatureError("the signatures file must be a non-empty YAML list")
    seen: set[str] = set()
    result: list[Signature] = []
    for position, raw in enumerate(data):
        if not isinstance(raw, dict):
            raise SignatureError(f"entry #{position + 1} is not a mapping")
        sig = signature_from_dict(raw)
        if sig.id in seen:
            raise SignatureError(f"signature {sig.id!r}: duplicate id")
        seen.add(sig.id)
        result.append(sig)
    return tuple(result)


_KNOWN_KEYS = frozenset(
    {
        "id",
        "category",
        "severity",
        "pattern",
        "summary",
        "action",
        "causes",
        "alert",
        "http_status",
        "log_severity",
        "description",
        "failed_start",
        "crashes_instance",
        "entity_patterns",
        "catch_all",
        "request_line",
        "rank_as",
        "examples",
    }
)


def signature_from_dict(raw: Mapping[str, Any]) -> Signature:
    """One YAML entry -> Signature, with errors naming the id and the field."""
    sig_id = str(raw.get("id", "")).strip() or "<missing id>"
    fail = _failer(sig_id)
    unknown = sorted(set(raw) - _KNOWN_KEYS)
    if unknown:
        fail(f"unknown keys {unknown}")
    if "id" not in raw:
        fail("missing 'id'")
    category = _enum(Category, raw.get("category"), "category", fail)
    severity = _enum(Severity, raw.get("severity"), "severity", fail)
    alternatives = _pattern_alternatives(raw.get("pattern"), fail)
    pattern = "|".join(f"(?:{alt})" if len(alternatives) > 1 else alt for alt in alternatives) or None
    action = None
    if raw.get("action") is not None:
        spec = raw["action"]
        if not isinstance(spec, dict) or set(spec) != {"priority", "text"}:
            fail("action must be {priority: P0|P1|P2, text: ...}")
        action = ActionSpec(
            priority=_enum(Priority, spec["priority"], "action.priority", fail),
            text=str(spec["text"]).strip(),
        )
    causes_raw = raw.get("causes") or []
    if not isinstance(causes_raw, list):
        fail("causes must be a list of categories")
    causes = tuple(_enum(Category, c, "causes", fail) for c in causes_raw)
    alert = None
    if raw.get("alert") is not None:
        spec = raw["alert"]
        if not isinstance(spec, dict) or set(spec) != {"threshold_per_minute"}:
            fail("alert must be {threshold_per_minute: N}")
        threshold = spec["threshold_per_minute"]
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)):
            fail("alert.threshold_per_minute must be a number")
        alert = AlertSpec(threshold_per_minute=float(threshold))
    summary = raw.get("summary")
    if not isinstance(summary, str):
        fail("summary must be a string")
    log_severity = raw.get("log_severity")
    if raw.get("rank_as") is not None:
        _enum(Category, raw.get("rank_as"), "rank_as", fail)
    return Signature(
        id=sig_id,
        category=category,
        severity=severity,
        summary=str(summary).strip(),
        pattern=pattern,
        http_status=_parse_status(raw.get("http_status"), fail),
        action=action,
        causes=causes,
        alert=alert,
        log_severity=str(log_severity).upper() if log_severity is not None else None,
        description=str(raw.get("description") or "").strip(),
        failed_start=_flag(raw.get("failed_start", False), "failed_start", fail),
        crashes_instance=_flag(raw.get("crashes_instance", False), "crashes_instance", fail),
        catch_all=_flag(raw.get("catch_all", False), "catch_all", fail),
        request_line=_flag(raw.get("request_line", False), "request_line", fail),
        entity_patterns=_pattern_alternatives(raw.get("entity_patterns"), fail),
        alternatives=alternatives,
        examples=_examples(raw.get("examples"), "match", fail),
        counter_examples=_examples(raw.get("examples"), "no_match", fail),
    )


def _examples(value: object, kind: str, fail: Callable[[str], NoReturn]) -> tuple[str, ...]:
    """One list of ``examples`` (``match`` or ``no_match``): non-empty strings."""
    if value is None:
        return ()
    if not isinstance(value, dict) or not value or set(value) - {"match", "no_match"}:
        fail("examples must be {match: [messages], no_match: [messages]}")
    items = value.get(kind) or []
    if not isinstance(items, list) or not all(isinstance(item, str) and item.strip() for item in items):
        fail(f"examples.{kind} must be a list of non-empty strings")
    return tuple(items)


def _flag(value: object, where: str, fail: Callable[[str], NoReturn]) -> bool:
    if not isinstance(value, bool):
        fail(f"{where} must be true or false")
    return value


def _enum(kind: Any, value: object, where: str, fail: Callable[[str], NoReturn]) -> Any:
    try:
        return kind(str(value))
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        fail(f"{where} {value!r} is not one of: {allowed}")


def _pattern_alternatives(value: object, fail: Callable[[str], NoReturn]) -> tuple[str, ...]:
    """The pattern's lines, each a self-contained alternative (flags scoped to it)."""
    if value is None:
        return ()
    if not isinstance(value, str):
        fail("pattern must be a string (one alternative per line)")
    lines = [line.strip() for line in str(value).splitlines()]
    alternatives = [line for line in lines if line and not line.startswith("#")]
    if not alternatives:
        fail("pattern is empty")
    if len(alternatives) == 1:
        return (alternatives[0],)
    parts = []
    for alt in alternatives:
        flags = _LEADING_FLAGS_RE.match(alt)
        if flags:  # "(?i)x" on one line means "(?i:x)": that alternative only
            parts.append(f"(?{flags.group(1)}:{alt[flags.end() :]})")
        else:
            parts.append(alt)
    return tuple(parts)


def _parse_status(value: object, fail: Callable[[str], NoReturn]) -> tuple[tuple[int, int], ...]:
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    ranges: list[tuple[int, int]] = []
    for item in items:
        text = str(item).strip()
        match = re.fullmatch(r"(\d{3})(?:\s*-\s*(\d{3}))?", text)
        if isinstance(item, bool) or not match:
            fail(f"http_status entry {item!r} is not a status code or 'NNN-NNN' range")
        lo = int(match.group(1))
        hi = int(match.group(2) or lo)
        if not 100 <= lo <= hi <= 599:
            fail(f"http_status range {text!r} is outside 100-599")
        ranges.append((lo, hi))
    return tuple(sorted(set(ranges)))


# --------------------------------------------------------------------------- causal graph
