"""Failure signatures: load, validate and compile `signatures.d/*.yaml`; export them to Terraform.

The files of `functions/analysis/classify/signatures.d/` (one per stack, see its README.md) are the single
source of truth (DESIGN §3). `load_signatures` reads them and merges them into one
ordered tuple (the merge rule is `merge_documents`); the classifier reads that tuple;
Terraform reads `terraform/modules/sitrep/signatures.json`, which
`python -m functions.entry.export_signatures --terraform` generates from them and `--terraform --check`
(and a test) proves is not stale (the export and that CLI live in
`functions.analysis.classify.terraform`).

File format (each file is a YAML list; the merged order matters, see `merge_documents`):

- ``pattern``: one alternative per line (joined with ``|``); a line may start with
  ``(?i)`` / ``(?s)`` to set that flag for that alternative only; lines starting with ``#`` are
  comments; leading/trailing blanks are ignored (write ``\\s`` or ``[ ]`` for significant
  ones). Every alternative must compile in Python ``re`` and in RE2 (Cloud Logging).
- Named groups extract entities: the group name is an entity of DESIGN §2; a suffix
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
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import re2
import yaml

from functions.core.model import Category, Priority, Severity

DEFAULT_PATH = Path(__file__).with_name("signatures.d")
# The files of DEFAULT_PATH, in merge order (see `merge_documents`): within a category, a
# stack's own phrasing is tried before the phrases every runtime shares (common.yaml).
STACK_FILES = ("noise", "platform", "python", "jvm", "node", "go", "php_ruby_dotnet", "common", "catchall")
# Merge priority of the specific (non catch-all) signatures: a message that two of them
# match gets the earlier category. Earlier categories name a more precise cause of what the
# later ones describe: a known-harmless notice stays harmless even when it quotes an error; a
# missing module or a bad setting is what makes start-up crash; TLS and the database explain
# the connection error their clients report; timeouts and application errors are what
# nearly every other failure ends as, so they come last.
CATEGORY_PRIORITY: tuple[Category, ...] = (
    Category.NOISE,
    Category.DEPENDENCY_MISSING,
    Category.CONFIGURATION,
    Category.TLS,
    Category.DATABASE,
    Category.WEBSOCKET,
    Category.AUTH,
    Category.RESOURCE_EXHAUSTION,
    Category.CONTAINER_STARTUP,
    Category.NETWORK,
    Category.TIMEOUT,
    Category.APPLICATION,
)

# Entities of DESIGN §2, plus `signal` (Container terminated on signal N), `path` (a missing
# configuration file), and for a denied permission `member` (who was denied: a service account),
# `permission` (what it lacked) and `resource` (on what: a bucket, a secret, a project), so the
# action can say which grant to make.
ENTITY_NAMES = frozenset(
    {
        "member",
        "permission",
        "resource",
        "module",
        "exit_code",
        "env_var",
        "host",
        "port",
        "timeout_s",
        "memory_limit",
        "revision",
        "status",
        "exception",
        "signal",
        "path",
    }
)
_GROUP_ALIASES = {"timeout_ms": "timeout_s"}
MAX_EXTRA_MATCHES = 8  # later matches scanned for entities the first match lacked
MAX_ENTITY_CHARS = 200  # long Go panic messages etc. are cut; entities are labels, not excerpts
_ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_PLACEHOLDER_RE = re.compile(r"\{(\w+)\}")
_OPTIONAL_SEGMENT_RE = re.compile(r"\[([^\[\]]*)\]")
_SUFFIX_RE = re.compile(r"_\d+$")
_LEADING_FLAGS_RE = re.compile(r"^\(\?([ims]+)\)")

# LogEntry severities (Cloud Logging enum, plus common aliases) in increasing order.
LOG_SEVERITY_RANK: Mapping[str, int] = {
    "DEFAULT": 0,
    "DEBUG": 100,
    "INFO": 200,
    "NOTICE": 300,
    "WARNING": 400,
    "WARN": 400,
    "ERROR": 500,
    "CRITICAL": 600,
    "FATAL": 600,
    "ALERT": 700,
    "EMERGENCY": 800,
}
# Severities an alerting signature may have, as the Terraform export spells them.
TERRAFORM_SEVERITY = {
    Severity.CRITICAL: "CRITICAL",
    Severity.ERROR: "ERROR",
    Severity.WARNING: "WARNING",
}


# libyaml's safe loader parses the signature file ~10x faster (cold start); same semantics as safe_load.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class SignatureError(ValueError):
    """A signature in the file is invalid; the message names its id and the problem."""


def log_severity_rank(severity: str) -> int:
    """Rank of a LogEntry severity name (unknown names rank as DEFAULT)."""
    return LOG_SEVERITY_RANK.get(severity.strip().upper(), 0)


@dataclass(frozen=True)
class ActionSpec:
    """What to do when a signature is a root cause; `text` is a template."""

    priority: Priority
    text: str


@dataclass(frozen=True)
class AlertSpec:
    """Terraform creates a log-based metric and an alert policy above this rate."""

    threshold_per_minute: float


@dataclass(frozen=True)
class Signature:
    """One failure signature, validated and compiled at construction."""

    id: str
    category: Category
    severity: Severity
    summary: str
    pattern: str | None = None
    http_status: tuple[tuple[int, int], ...] = ()
    action: ActionSpec | None = None
    causes: tuple[Category, ...] = ()
    alert: AlertSpec | None = None
    log_severity: str | None = None
    description: str = ""
    failed_start: bool = False  # each occurrence is an instance that never started (health)
    crashes_instance: bool = False  # each occurrence ends the process (root cause: explains its exits)
    catch_all: bool = False  # a generic shape, tried after the specific signatures and the cues
    request_line: bool = False  # the whole line is a request (access) log: tried before all others
    alternatives: tuple[str, ...] = ()  # the pattern's lines; default: (pattern,)
    entity_patterns: tuple[str, ...] = ()  # extra entity extractors, run only after a match
    examples: tuple[str, ...] = ()  # messages the classifier must give this signature (tests)
    counter_examples: tuple[str, ...] = ()  # near misses it must not give it (tests)
    regex: re.Pattern[str] | None = field(default=None, init=False, compare=False, repr=False)
    group_entities: Mapping[str, str] = field(default_factory=dict, init=False, compare=False, repr=False)
    min_log_rank: int = field(default=0, init=False, compare=False, repr=False)
    entity_regexes: tuple[tuple[re.Pattern[str], Mapping[str, str]], ...] = field(
        default=(), init=False, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        fail = _failer(self.id)
        if not _ID_RE.match(self.id):
            fail("id must be kebab-case ([a-z0-9] words joined by '-')")
        if self.pattern is None and not self.http_status:
            fail("needs a pattern, an http_status, or both")
        groups: dict[str, str] = {}
        if self.pattern is not None:
            if not self.alternatives:
                object.__setattr__(self, "alternatives", (self.pattern,))
            object.__setattr__(self, "regex", _compile_both(self.pattern, fail))
            groups = _group_entities(self.regex, fail)  # type: ignore[arg-type]
        object.__setattr__(self, "group_entities", groups)
        extra = []
        for entity_pattern in self.entity_patterns:
            compiled = _compile_both(entity_pattern, fail)
            entity_groups = _group_entities(compiled, fail)
            if not entity_groups:
                fail(f"entity pattern {entity_pattern!r} extracts no entity")
            extra.append((compiled, entity_groups))
        if extra and self.regex is None:
            fail("entity_patterns need a pattern")
        object.__setattr__(self, "entity_regexes", tuple(extra))
        available = set(groups.values()) | ({"status"} if self.http_status else set())
        available |= {name for _, entity_groups in extra for name in entity_groups.values()}
        _check_template(self.summary, available, fail, "summary")
        if not self.summary.strip():
            fail("summary is empty")
        object.__setattr__(self, "summary", Template(self.summary))
        if self.action is not None:
            _check_template(self.action.text, available | {"service"}, fail, "action.text")
            object.__setattr__(self, "action", ActionSpec(self.action.priority, Template(self.action.text)))
        if Category.UNKNOWN in self.causes or self.category is Category.UNKNOWN:
            fail("'unknown' is not a signature category nor a cause")
        if self.category is Category.NOISE and self.causes:
            fail("noise causes nothing (DESIGN §2)")
        if self.category in self.causes:
            fail("a signature cannot cause its own category")
        if self.crashes_instance and self.category is not Category.APPLICATION:
            fail("crashes_instance is for application failures (other categories say it with causes)")
        if self.alert is not None:
            if self.severity not in TERRAFORM_SEVERITY:
                fail("an alerting signature needs severity critical, error or warning")
            if self.action is None:
                fail("an alerting signature needs an action")
            if not self.alert.threshold_per_minute > 0:
                fail("alert.threshold_per_minute must be > 0")
        if self.log_severity is not None:
            if self.log_severity.upper() not in LOG_SEVERITY_RANK:
                fail(f"log_severity {self.log_severity!r} is not a LogEntry severity")
            object.__setattr__(self, "min_log_rank", log_severity_rank(self.log_severity))

    @property
    def entities(self) -> frozenset[str]:
        """Entity names this signature can extract."""
        extra = {name for _, groups in self.entity_regexes for name in groups.values()}
        return frozenset(self.group_entities.values()) | extra

    def accepts(self, http_status: int | None, log_rank: int) -> bool:
        """Whether the record's status and severity pass this signature's conditions."""
        if log_rank < self.min_log_rank:
            return False
        if self.http_status:
            return http_status is not None and self.matches_status(http_status)
        return True

    def matches_status(self, status: int) -> bool:
        return any(lo <= status <= hi for lo, hi in self.http_status)

    def search(self, text: str) -> dict[str, str] | None:
        """Entities if the pattern matches `text` (None if it does not).

        The leftmost match may be an alternative without the entity (e.g. a generic
        phrase before "HTTP 403"), so later matches fill entities still missing.
        """
        if self.regex is None:
            return None
        matches = self.regex.finditer(text)
        first = next(matches, None)
        if first is None:
            return None
        entities = self.extract(first)
        wanted = len(set(self.group_entities.values()))
        for extra, match in enumerate(matches):
            if len(entities) >= wanted or extra >= MAX_EXTRA_MATCHES:
                break
            for name, value in self.extract(match).items():
                entities.setdefault(name, value)
        for regex, groups in self.entity_regexes:
            if all(name in entities for name in groups.values()):
                continue
            found = regex.search(text)
            if found is not None:
                for name, value in self.extract(found, groups).items():
                    entities.setdefault(name, value)
        return entities

    def extract(self, match: re.Match[str], groups: Mapping[str, str] | None = None) -> dict[str, str]:
        """Entities from one match (first non-empty group per entity wins)."""
        names = self.group_entities if groups is None else groups
        entities: dict[str, str] = {}
        for group, value in match.groupdict().items():
            if not value:
                continue
            name = names[group]
            if name in entities:
                continue
            cleaned = value.strip().strip("'\"`").rstrip(".")
            if group.startswith("timeout_ms"):
                cleaned = _ms_to_seconds(cleaned)
            elif name == "timeout_s":
                cleaned = _seconds(cleaned)
            if cleaned:
                entities[name] = cleaned[:MAX_ENTITY_CHARS]
        return entities

    def render_summary(self, entities: Mapping[str, str]) -> str:
        return render_template(self.summary, entities)


class Template(str):
    """A summary or action template: `{entity}` placeholders and optional `[...]` segments.

    It is a str, and its `format(**values)` / `format_map(values)` render it with
    `render_template`, so code that treats it as a format string gets the right text
    (no stray brackets, no KeyError for an entity that was not extracted).
    """

    __slots__ = ()

    def format(self, *args: object, **kwargs: object) -> str:
        return render_template(self, kwargs)

    def format_map(self, mapping: Any) -> str:
        return render_template(self, mapping)

    @property
    def placeholders(self) -> frozenset[str]:
        return frozenset(_PLACEHOLDER_RE.findall(self))


def render_template(template: str, values: Mapping[str, object]) -> str:
    """Fill `{entity}` placeholders; drop `[...]` segments whose entities are missing.

    A placeholder outside a segment whose entity is missing renders as `values[name]`
    if the mapping provides one (e.g. via `__missing__`), else as `<entity>`.
    """

    def segment(match: re.Match[str]) -> str:
        inner = match.group(1)
        names = _PLACEHOLDER_RE.findall(inner)
        if all(name in values and str(values[name]) for name in names):
            return _fill(inner, values)
        return ""

    return _fill(_OPTIONAL_SEGMENT_RE.sub(segment, template), values)


def _fill(text: str, values: Mapping[str, object]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        try:
            found = str(values[name])
        except KeyError:
            found = ""
        return found or f"<{name}>"

    return _PLACEHOLDER_RE.sub(value, text)


def _ms_to_seconds(value: str) -> str:
    try:
        seconds = round(float(value) / 1000.0, 1)
    except ValueError:
        return value
    return f"{seconds:g}"


def _seconds(value: str) -> str:
    """'15.0' and '15.00' are 15: one spelling per value, so counts aggregate."""
    try:
        return f"{round(float(value), 3):g}"
    except ValueError:
        return value


def _failer(sig_id: str) -> Callable[[str], NoReturn]:
    def fail(problem: str) -> NoReturn:
        raise SignatureError(f"signature {sig_id!r}: {problem}")

    return fail


def _compile_both(pattern: str, fail: Callable[[str], NoReturn]) -> re.Pattern[str]:
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        fail(f"pattern does not compile in Python re: {exc}")
    options = re2.Options()
    options.log_errors = False
    try:
        re2.compile(pattern, options)
    except re2.error as exc:
        fail(f"pattern is not valid RE2 (Cloud Logging): {exc}")
    return compiled


def _group_entities(regex: re.Pattern[str], fail: Callable[[str], NoReturn]) -> dict[str, str]:
    if regex.groups != len(regex.groupindex):
        fail("pattern has unnamed capturing groups; use (?:...) or (?P<entity>...)")
    groups: dict[str, str] = {}
    for name in sorted(regex.groupindex, key=regex.groupindex.__getitem__):
        base = _SUFFIX_RE.sub("", name)
        entity = _GROUP_ALIASES.get(base, base)
        if entity not in ENTITY_NAMES:
            fail(f"group {name!r} is not an entity ({', '.join(sorted(ENTITY_NAMES))})")
        groups[name] = entity
    return groups


def _check_template(template: str, available: set[str], fail: Callable[[str], NoReturn], where: str) -> None:
    outside = _OPTIONAL_SEGMENT_RE.sub("", template)
    if "[" in outside or "]" in outside:
        fail(f"{where} has unbalanced or nested [...] segments")
    for _, name, spec, conversion in string.Formatter().parse(template.replace("[", "").replace("]", "")):
        if name is None:
            continue
        if spec or conversion or not name.isidentifier():
            fail(f"{where} placeholder {{{name}}} must be a plain {{entity}}")
        if name not in available:
            fail(
                f"{where} placeholder {{{name}}} is not extracted by the pattern "
                f"(available: {', '.join(sorted(available)) or 'none'})"
            )


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
        raise SignatureError(f"{source}: files {unknown} are not in STACK_FILES (functions/signatures.py)")
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
