"""Tokens that name a failure: exception classes, error codes and status words.

Masking (`functions.analysis.templates.masking`) writes variable parts as ``<*>``; a token that *names* what failed
is constant text and must survive, or the card's top template reads ``<*>: Read timed out``.
Each rule names a class of token, across runtimes:

- **Exception classes.** A namespaced name (segments joined by ``.``, ``::``, ``\\`` or ``$``:
  Python and Java packages, .NET namespaces, Ruby modules, PHP namespaces, Java inner classes)
  whose last segment is CamelCase is a class when it labels a message (``Class: text``, the
  exception line of every runtime) or when its last segment ends the way failure classes are
  named (``…Error``, ``…Exception``, ``…Timeout``, and the CamelCase gRPC and HTTP statuses
  that client libraries turn into classes, ``ResourceExhausted``, ``ServiceUnavailable``).
  Host names and module paths are lower case (``db.internal.example.com``, ``app.v2.jobs``),
  and an all-capitals last segment is a constant or a shouting host, so those stay variables.
- **gRPC status names** (``UNAVAILABLE``, ``StatusCode.DEADLINE_EXCEEDED``, and the CamelCase
  ``Unavailable`` of Go and .NET): the closed set of the gRPC spec's codes.
- **Error codes**: errno names (the platform's table, plus the getaddrinfo and c-ares names
  that Node reports, ``ENOTFOUND``, ``EAI_AGAIN``), Node's ``ERR_…`` codes and one-word HTTP
  reason phrases. They matter where a value would otherwise be masked: quoted
  (``code: 'ECONNREFUSED'``) or after ``key=``.
- **SQLSTATE codes** (``08006``, ``HY000``, ``57P01``) when introduced as one
  (``SQLSTATE[HY000]``, ``(SQLSTATE 08006)``, ``SQLState: 08001``): five characters that are
  a standard condition, not a count. Without the introduction a five-digit number is a number.

Every check runs on digit-normalised text (each digit run is ``0``), so ``psycopg2`` arrives as
``psycopg0``; masking writes kept names with the message's own digits.
"""

from __future__ import annotations

import errno
import re
from http import HTTPStatus

GRPC_STATUS_NAMES = frozenset(
    "OK CANCELLED UNKNOWN INVALID_ARGUMENT DEADLINE_EXCEEDED NOT_FOUND ALREADY_EXISTS "  # noqa: SIM905
    "PERMISSION_DENIED RESOURCE_EXHAUSTED FAILED_PRECONDITION ABORTED OUT_OF_RANGE "
    "UNIMPLEMENTED INTERNAL UNAVAILABLE DATA_LOSS UNAUTHENTICATED".split()
)  # https://grpc.github.io/grpc/core/md_doc_statuscodes.html

# getaddrinfo (EAI_*) and c-ares (ENOTFOUND, ESERVFAIL, ...) names that Node puts in `code`.
_RESOLVER_CODES = frozenset(
    "EAI_ADDRFAMILY EAI_AGAIN EAI_BADFLAGS EAI_FAIL EAI_FAMILY EAI_MEMORY EAI_NODATA EAI_NONAME "  # noqa: SIM905
    "EAI_OVERFLOW EAI_SERVICE EAI_SOCKTYPE EAI_SYSTEM ENOTFOUND ESERVFAIL EREFUSED EBADRESP "
    "ECONNREFUSED ETIMEOUT ENODATA EFORMERR ENOTIMP EBADNAME ECANCELLED".split()
)


def _camel(words: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[\s_-]+", words) if part)


# Go's codes.Unavailable and .NET's StatusCode.DeadlineExceeded print the gRPC names in CamelCase.
GRPC_STATUS_CAMEL = frozenset(_camel(name.lower()) for name in GRPC_STATUS_NAMES - {"OK"})
ERROR_CODES = frozenset(errno.errorcode.values()) | _RESOLVER_CODES | GRPC_STATUS_NAMES | GRPC_STATUS_CAMEL

_FAILURE_PHRASES = [status.phrase for status in HTTPStatus if status >= HTTPStatus.BAD_REQUEST]
HTTP_STATUS_WORDS = frozenset(phrase for phrase in _FAILURE_PHRASES if phrase.isalpha())


# How failure classes end: the naming conventions (PEP 8 and Java/.NET use Error/Exception),
# the words timeout and refusal classes use, and statuses as client libraries name their classes.
FAILURE_CLASS_SUFFIXES = tuple(
    sorted(
        {
            *"Error Exception Fault Failure Failed Timeout TimedOut Refused Exceeded Exhausted".split(),  # noqa: SIM905
            *"Denied Unavailable Unreachable Interrupted Cancelled Canceled Aborted Rejected Violation".split(),  # noqa: SIM905
            *GRPC_STATUS_CAMEL,
            *(_camel(phrase) for phrase in _FAILURE_PHRASES if re.fullmatch(r"[A-Za-z -]+", phrase)),
        }
    )
)

# A namespaced name: identifier segments joined by . :: \ or $, the last one captured.
_NAMESPACED = re.compile(r"(?:[A-Za-z_]\w*(?:\.|::|\\|\$))+_*([A-Z]\w*)")
_NODE_CODE = re.compile(r"ERR_[A-Z0-9_]+")
_SQLSTATE_TOKEN = re.compile(r"(?i:sqlstate)(?:\[[0-9A-Z]{1,5}\]|[:=]?[0-9A-Z]{1,5})")
_SQLSTATE_CODE = re.compile(r"[0-9A-Z]{1,5}")  # digit-normalised: 08006 arrives as 0, HY000 as HY0

SQLSTATE_WORDS = ("SQLSTATE", "SQLState", "SqlState", "sqlstate")
# Tokens that introduce the SQLSTATE code in the next token: "(SQLSTATE 08006)", "SQLState: 08001".
SQLSTATE_INTRODUCERS = frozenset(
    f"{opener}{word}{colon}" for word in SQLSTATE_WORDS for opener in ("", "(", "[") for colon in ("", ":", "=")
)


def names_failure(core: str, closing: str = "") -> bool:
    """Whether a bare value (brackets and quotes stripped) names a failure and so is not a variable.

    ``closing`` is the punctuation after the value: a colon makes a class name the label of an
    exception line.
    """
    if not core or core.islower() or not (core[0].isalpha() or core[0] == "_"):
        return False  # every name here has a capital: lower-case hosts, paths, ids and numbers are values
    namespaced = _NAMESPACED.fullmatch(core)
    if namespaced is not None:
        last = namespaced.group(1)
        if last in GRPC_STATUS_NAMES:
            return True
        if last.isupper():
            return False  # a constant or a host label in capitals, not a class
        return closing.startswith(":") or last.endswith(FAILURE_CLASS_SUFFIXES)
    if core[0] in "Ss" and _SQLSTATE_TOKEN.fullmatch(core) is not None:
        return True
    return is_error_code(core)


def is_error_code(word: str) -> bool:
    """Whether a word is an errno name, a gRPC status, a Node ``ERR_`` code or an HTTP reason word."""
    if word in ERROR_CODES or word in HTTP_STATUS_WORDS:
        return True
    return word.startswith("ERR_") and _NODE_CODE.fullmatch(word) is not None


def is_sqlstate_code(core: str) -> bool:
    """Whether the value after a SQLSTATE introducer has the shape of a code (digit-normalised)."""
    return _SQLSTATE_CODE.fullmatch(core) is not None
