"""Failure signatures: the model of one signature, its compiled patterns and its text templates.

The signature files (`signatures.d/`, read by `functions.analysis.classify.signature_files`) are the single
source of truth (docs/ARCHITECTURE.md §4); the classifier and the Terraform export
(`functions.analysis.classify.terraform`) both read the `Signature`s built here.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import NoReturn

import re2

from functions.core.model import Category, Priority, Severity

# The files of DEFAULT_PATH, in merge order (see `merge_documents`): within a category, a
# stack's own phrasing is tried before the phrases every runtime shares (common.yaml).
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

# Entities of the JSON output, plus `signal` (Container terminated on signal N), `path` (a missing
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
    wanted: int = field(default=0, init=False, compare=False, repr=False)  # distinct entities the pattern's groups name
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
        object.__setattr__(self, "wanted", len(set(groups.values())))
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
        if self.action is not None:
            _check_template(self.action.text, available | {"service"}, fail, "action.text")
        if Category.UNKNOWN in self.causes or self.category is Category.UNKNOWN:
            fail("'unknown' is not a signature category nor a cause")
        if self.category is Category.NOISE and self.causes:
            fail("noise causes nothing (docs/ARCHITECTURE.md)")
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
        if len(entities) < self.wanted:  # asked only then: each further match is another scan of the text
            for extra, match in enumerate(matches):
                if extra >= MAX_EXTRA_MATCHES:
                    break
                for name, value in self.extract(match).items():
                    entities.setdefault(name, value)
                if len(entities) >= self.wanted:
                    break
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


