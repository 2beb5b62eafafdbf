"""Classify log records into findings using the failure signatures.

How a record is classified (first rule that applies wins):

1. Specific pattern signatures, in merged order: the first whose pattern matches anywhere
   in the message (a multi-line traceback is one message) and whose ``http_status`` and
   ``log_severity`` conditions hold. The merge order encodes specificity (see
   functions/analysis/classify/signatures.d/README.md), so a traceback ending in ModuleNotFoundError is
   ``dependency_missing`` and not ``application``.
2. For a record that is not a request log: the cues of ``functions.analysis.classify.cues`` (exception class
   names, errno, gRPC codes, SQLSTATE, HTTP statuses), then the catch-all signatures.
2b. Status-only signatures (request logs), in merged order, e.g. 504 -> timeout.
3. A request-log record with a 1xx-3xx status that nothing above matched is a
   successful request: signature ``http-ok`` (category ``unknown``, severity info).
   ``is_failure`` is False for it, ``is_ok`` is True, so the pipeline can skip it.
3b. Not a request log: an exception class name is ``application``; an informational line (its
   level word says DEBUG/INFO) is ``noise``; so is an advisory one without a failure word (its
   level word says WARNING, or it has none and the record declared INFO/DEBUG).
4. Anything else: category ``unknown``, signature ``unknown``, severity taken from the
   record (ERROR and above -> error, WARNING -> warning, else info). Still grouped by
   template downstream. An ERROR record with an ``...Error:``/``...Exception:`` line is
   caught before this by the ``error-exception-line`` signature (application).

Speed: all patterns are compiled into one RE2 set, so one linear scan of the message
finds every candidate signature; only the first candidate's Python regex then runs to
extract entities. Verdicts are memoised per (message, status, severity band, declared-informational) in a
bounded LRU cache, since error spikes repeat the same lines; messages over CACHED_MAX_CHARS
are not, so the cache is bounded in bytes as well as entries. A sentinel empty pattern
in the set detects an RE2 failure (its DFA can give up on memory), in which case the
classifier falls back to trying each pattern in order, so results never depend on RE2.
Messages longer than MAX_MESSAGE_CHARS are classified on their head and tail (the
final exception line of a traceback is at the end).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NoReturn

import re2

from functions.analysis.classify import cues
from functions.analysis.classify.signatures import Signature, log_severity_rank
from functions.core.model import Category, Finding, LogRecord, Severity

HTTP_OK_SIGNATURE = "http-ok"
UNKNOWN_SIGNATURE = "unknown"
MAX_MESSAGE_CHARS = 16_384
DEFAULT_CACHE_SIZE = 16_384
# Longer messages are classified every time rather than memoised: the cache lives as long as the
# instance, and 16,384 distinct 100 KB messages would hold 1.6 GB. Bounded this way it holds <= 32 MB.
CACHED_MAX_CHARS = 2_048
SCANS_REMEMBERED = 2_048  # more than one batch of the pipeline holds distinct texts (functions/analysis/pipeline.py)
SET_MAX_MEM_BYTES = 64 << 20  # RE2 set memory budget; on failure we fall back, not fail
_HEAD_TAIL_CHARS = MAX_MESSAGE_CHARS // 2
_ERROR_RANK = log_severity_rank("ERROR")
_WARNING_RANK = log_severity_rank("WARNING")
# Severities a logger sets only when it means "informational" (DEFAULT is plain stdout: no claim).
_QUIET_RANKS = frozenset({log_severity_rank("DEBUG"), log_severity_rank("INFO")})
_NOT_FAILURES = frozenset({Category.NOISE, Category.UNKNOWN})
# A database client that reports one of these is a database failure (functions.analysis.classify.cues).
_DB_SYMPTOMS = frozenset({Category.NETWORK, Category.TIMEOUT})


class FrozenEntities(dict[str, str]):
    """A read-only dict: findings from one cached verdict share it, so nobody may
    mutate it; still a dict, so it serialises with json.dumps."""

    __slots__ = ()

    def _readonly(self, *args: object, **kwargs: object) -> NoReturn:
        raise TypeError("finding entities are read-only; copy with dict(...)")

    __setitem__ = _readonly
    __delitem__ = _readonly
    clear = _readonly
    pop = _readonly
    popitem = _readonly
    setdefault = _readonly
    update = _readonly
    __ior__ = _readonly

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(frozenset(self.items()))


_NO_ENTITIES = FrozenEntities()


@dataclass(frozen=True, slots=True)
class _Verdict:
    category: Category
    signature: str
    severity: Severity
    summary: str
    entities: Mapping[str, str]
    matched_by: str = ""
    weak: bool = False


def is_failure(finding: Finding) -> bool:
    """True for findings that are failures (not noise, not unknown, not a 2xx/3xx)."""
    return finding.category not in _NOT_FAILURES


def is_ok(finding: Finding) -> bool:
    """True for a successful request (request-log record with a 1xx-3xx status)."""
    return finding.signature == HTTP_OK_SIGNATURE


@functools.lru_cache(maxsize=64)
def _severity_band(severity: str) -> Severity:
    rank = log_severity_rank(severity)
    if rank >= _ERROR_RANK:
        return Severity.ERROR
    if rank >= _WARNING_RANK:
        return Severity.WARNING
    return Severity.INFO


@functools.lru_cache(maxsize=64)
def _declared_quiet(severity: str) -> bool:
    """Whether the record's severity says DEBUG or INFO (a logger's claim that it is informational)."""
    return log_severity_rank(severity) in _QUIET_RANKS


_BAND_RANK = {
    Severity.ERROR: _ERROR_RANK,
    Severity.WARNING: _WARNING_RANK,
    Severity.INFO: 0,
}


def _clip(message: str) -> str:
    if len(message) <= MAX_MESSAGE_CHARS:
        return message
    return message[:_HEAD_TAIL_CHARS] + "\n" + message[-_HEAD_TAIL_CHARS:]


class Classifier:
    """LogRecord -> Finding, driven by the signatures (see the module docstring)."""

    def __init__(
        self,
        signatures: Sequence[Signature],
        *,
        cache_size: int = DEFAULT_CACHE_SIZE,
        set_max_mem_bytes: int = SET_MAX_MEM_BYTES,
    ) -> None:
        self._signatures = tuple(signatures)
        self._text = tuple(s for s in self._signatures if s.regex is not None)
        self._status_only = tuple(s for s in self._signatures if s.regex is None)
        self._all_text = tuple(range(len(self._text)))
        self._set, self._sentinel = self._build_set(set_max_mem_bytes)
        self._cached = functools.lru_cache(maxsize=cache_size)(self._verdict)
        # RE2 scans by text, for `classify_many`: it scans a batch's texts first, back to back.
        self._scanned = functools.lru_cache(maxsize=SCANS_REMEMBERED)(self._scan)

    def _build_set(self, max_mem: int) -> tuple[re2.Set | None, int]:
        options = re2.Options()
        options.max_mem = max_mem
        options.log_errors = False
        rset = re2.Set.SearchSet(options)
        try:
            for sig in self._text:
                rset.Add(sig.pattern)
            sentinel = rset.Add("")
            rset.Compile()
        except re2.error:
            return None, -1  # too big for the budget: every message tries every pattern
        return rset, sentinel

    @property
    def signatures(self) -> tuple[Signature, ...]:
        return self._signatures

    @property
    def uses_set(self) -> bool:
        """Whether the RE2 set pre-filter is active (False: per-pattern fallback)."""
        return self._set is not None

    def cache_info(self) -> functools._CacheInfo:
        return self._cached.cache_info()

    def classify(self, record: LogRecord) -> Finding:
        """Classify one log record (message, request status and severity all count).

        Callers show it the record as `functions.analysis.requests.for_classification` makes it, so
        that no request target (the caller's text) decides a verdict.
        """
        return self.classify_message(
            record.message,
            http_status=record.http_status,
            service=record.service,
            revision=record.revision,
            severity=record.severity,
        )

    def classify_message(
        self,
        message: str,
        *,
        http_status: int | None = None,
        service: str = "",
        revision: str = "",
        severity: str = "",
    ) -> Finding:
        """Classify a bare message; `severity` is the LogEntry severity name, if known."""
        band = _severity_band(severity)
        quiet = _declared_quiet(severity)
        if len(message) <= CACHED_MAX_CHARS:
            verdict = self._cached(message, http_status, band, quiet)
        else:
            verdict = self._verdict(message, http_status, band, quiet)
        return Finding(
            category=verdict.category,
            signature=verdict.signature,
            severity=verdict.severity,
            summary=verdict.summary,
            entities=verdict.entities,
            service=service,
            revision=revision,
            matched_by=verdict.matched_by,
            weak=verdict.weak,
        )

    def classify_many(self, records: Sequence[LogRecord]) -> list[Finding]:
        """`classify` of each record. Their texts' RE2 scans run first, back to back: run between
        the other stages of the verdicts, the set's automaton falls out of the processor's cache
        (the scans of the 200k benchmark export took ~1.8x as long)."""
        for text in {_clip(r.message) for r in records if r.message}:
            if len(text) <= CACHED_MAX_CHARS:
                self._scanned(text)
        return [self.classify(r) for r in records]

    def _candidates(self, text: str) -> Sequence[int]:
        return self._scanned(text) if len(text) <= CACHED_MAX_CHARS else self._scan(text)

    def _scan(self, text: str) -> tuple[int, ...]:
        if self._set is None:
            return self._all_text
        hits = self._set.Match(text)
        if not hits or self._sentinel not in hits:
            return self._all_text  # RE2 gave up (DFA out of memory): be exact instead
        return tuple(sorted(h for h in hits if h != self._sentinel))

    def _verdict(self, message: str, http_status: int | None, band: Severity, quiet: bool = False) -> _Verdict:
        log_rank = _BAND_RANK[band]
        text = _clip(message)
        cues_tried = http_status is not None  # a request's text is its URL: never read cues in it
        if text:
            for index in self._candidates(text):
                sig = self._text[index]
                if sig.catch_all and not cues_tried:
                    cues_tried = True
                    cue = cues.category_cue(text)
                    if cue is not None:
                        return _cue_verdict(cue, band)
                if not sig.accepts(http_status, log_rank):
                    continue
                entities = sig.search(text)
                if entities is None:
                    continue
                if sig.category in _DB_SYMPTOMS and http_status is None and cues.database_context(text):
                    return _database_verdict(sig, entities)
                return self._make(sig, entities, http_status)
            if not cues_tried:
                cue = cues.category_cue(text)
                if cue is not None:
                    return _cue_verdict(cue, band)
        if http_status is not None:
            for sig in self._status_only:
                if sig.accepts(http_status, log_rank):
                    return self._make(sig, {}, http_status)
            if 100 <= http_status < 400:
                return _Verdict(
                    Category.UNKNOWN,
                    HTTP_OK_SIGNATURE,
                    Severity.INFO,
                    "successful request",
                    FrozenEntities(status=str(http_status)),
                )
        if text and http_status is None:
            cue = cues.last_resort_cue(text, band, declared_quiet=quiet)
            if cue is not None:
                return _cue_verdict(cue, band)
        entities = FrozenEntities(status=str(http_status)) if http_status else _NO_ENTITIES
        return _Verdict(Category.UNKNOWN, UNKNOWN_SIGNATURE, band, "unrecognised log message", entities)

    @staticmethod
    def _make(sig: Signature, entities: dict[str, str], http_status: int | None) -> _Verdict:
        if http_status is not None:
            entities.setdefault("status", str(http_status))
        return _Verdict(
            sig.category,
            sig.id,
            sig.severity,
            sig.render_summary(entities),
            FrozenEntities(entities),
            matched_by=sig.id,
        )


def _database_verdict(sig: Signature, entities: dict[str, str]) -> _Verdict:
    """A network or timeout signature matched inside a database client's message: the
    database is what failed. One aggregate (``cue-database``), the signature in matched_by."""
    return _Verdict(
        Category.DATABASE,
        f"cue-{Category.DATABASE.value}",
        sig.severity,
        "database unreachable: " + sig.render_summary(entities),
        FrozenEntities(entities),
        f"{sig.id}+cue:db-context",
    )


def _cue_verdict(cue: cues.Cue, band: Severity) -> _Verdict:
    """A cue's verdict: signature ``cue-<category>`` (one aggregate per category), how it was
    reached in ``matched_by``; a failure is at least an error unless only a weak cue says so."""
    if cue.category is Category.NOISE:
        severity = Severity.INFO
    elif cue.weak:
        severity = band
    else:
        severity = Severity.ERROR
    entities = FrozenEntities(exception=cue.exception[:200]) if cue.exception else _NO_ENTITIES
    return _Verdict(
        cue.category, f"cue-{cue.category.value}", severity, cue.summary, entities, cue.matched_by, cue.weak
    )
