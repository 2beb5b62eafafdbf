"""Redaction primitives: the marker, the Rule type, and the predicates and replacers rules are built from.

`functions.redaction.rules` and `functions.redaction.shapes` compose them into the rule tables the engine
(`functions.redaction.redact`) runs. A value is kept when it is a placeholder, a path or a word; it is
hidden when it looks machine-made (mixed character classes, enough length, few vowels).
"""

from __future__ import annotations

import base64
import binascii
import re
import string
from collections.abc import Callable
from dataclasses import dataclass

MARKER_PREFIX = "[REDACTED:"

REDACTION_KINDS: tuple[str, ...] = (
    "private_key", "gcp_service_account_key", "slack_webhook", "slack_token",
    "github_token", "google_api_key", "google_oauth_token", "jwt", "aws_access_key",
    "aws_secret_key", "stripe_key", "sendgrid_key", "twilio_key", "vendor_api_key",
    "url_password", "bearer", "basic_auth", "authorization", "cookie",
    "password_pair", "generic_secret", "email",
    # shapes of functions.redaction.shapes
    "cli_password", "session", "oauth_code", "url_token", "webhook",
)  # fmt: skip

# Values that say "no secret here": keeping them keeps lines like
# "Access denied for user 'app' (using password: YES)" intact.
_PLACEHOLDERS = frozenset(
    {
        "none", "null", "nil", "undefined", "true", "false", "yes", "no", "n/a",
        "na", "redacted", "hidden", "masked", "omitted", "removed", "empty",
        "required", "missing", "unset", "not set", "notset", "invalid", "expired",
    }
)  # fmt: skip
_MASK_CHARS = frozenset("*xX•#.-_ ")
_TEMPLATE_STARTS = ("${", "$(", "%(", "{{", "<", MARKER_PREFIX, "projects/")
# Pagination and sync cursors are named "...token" but carry no credential.
_CURSOR_KEYS = (
    "pagetoken", "continuationtoken", "synctoken", "resumetoken",
    "cancellationtoken", "nexttoken",
)  # fmt: skip
_AUTH_SCHEMES = frozenset(
    {"bearer", "basic", "token", "digest", "negotiate", "ntlm", "hoba", "mutual",
     "aws4-hmac-sha256", "sharedkey", "signature", "apikey", "dpop", "oauth"}
)  # fmt: skip
# "prefix:name@host" forms that are not user:password (IAM members, mailto:)
_IAM_PREFIXES = frozenset(
    {"user", "serviceaccount", "group", "domain", "deleted", "principal", "principalset", "mailto", "sip", "xmpp"}
)
_COOKIE_ATTRIBUTES = frozenset(
    {"path", "domain", "expires", "max-age", "samesite", "secure", "httponly",
     "priority", "partitioned", "version", "comment"}
)  # fmt: skip
# base64, base64url, hex, percent-encoding and the separators of JWT-like or scoped tokens
_TOKEN_CHARS_RE = re.compile(r"[A-Za-z0-9+/=_.~%:-]+")
_UUID_RE = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_KEY_CHARS = string.ascii_letters + string.digits + "_.-"
_MAX_KEY_LEN = 60


def marker(kind: str) -> str:
    """Return the visible replacement for a secret of ``kind``."""
    return f"{MARKER_PREFIX}{kind}]"


# A replacer gets the match and the original text (the match may be over the
# lower-cased copy, with the same offsets) and returns the replacement of the
# match's span, or None to decline it.
Replacer = Callable[[re.Match[str], str], "str | None"]


@dataclass(frozen=True)
class Rule:
    """One detector: a regex, the literals that must occur for it to run, a replacer."""

    kind: str
    pattern: re.Pattern[str]
    replace: Replacer
    triggers: tuple[str, ...] = ()  # lower case, looked for in the lower-cased text
    exact_triggers: tuple[str, ...] = ()  # looked for in the text as is
    # Set for lower-case patterns run over text.lower(): the same pattern with
    # re.IGNORECASE, for the rare text whose lower-casing changes its length.
    fallback: re.Pattern[str] | None = None
    # For a shape no literal announces (a bare line of base64): a cheap test of the text that wakes the rule.
    gate: Callable[[str], bool] | None = None


def _lower_rule(kind: str, pattern: str, replace: Replacer, triggers: tuple[str, ...]) -> Rule:
    """Build a case-insensitive rule from a pattern written in lower case."""
    return Rule(kind, re.compile(pattern), replace, triggers=triggers, fallback=re.compile(pattern, re.IGNORECASE))


# ---------------------------------------------------------------- value checks


def _char_classes(value: str) -> int:
    """Count how many of lower case, upper case and digits a value uses."""
    return (
        (value.upper() != value)  # has a lower-case letter
        + (value.lower() != value)  # has an upper-case letter
        + any(ch.isdigit() for ch in value)
    )


def _is_placeholder(value: str) -> bool:
    """Say whether a value is a stand-in (None, ***, ${VAR}, a marker) rather than a secret."""
    stripped = value.strip()
    if not stripped or stripped.lower() in _PLACEHOLDERS:
        return True
    return stripped.startswith(_TEMPLATE_STARTS) or all(ch in _MASK_CHARS for ch in stripped)


_VOWELS = frozenset("aeiouy")
_MIN_LOWER_TOKEN = 20  # below this a lower-case value under a token key may well be a word ("expired")


def _looks_random(value: str, min_len: int = 8) -> bool:
    """Say whether a value looks machine-made: letters mixed with digits, cases mixed evenly,
    or a long lower-case run that is not pronounceable.

    Random base62/base64 text is about half upper case; CamelCase names
    (AppWindowToken, BinderProxy) are mostly lower case, so they do not count.
    """
    if len(value) < min_len:
        return False
    letters = sum(ch.isalpha() for ch in value)
    if letters and any(ch.isdigit() for ch in value):
        return True
    upper = sum(ch.isupper() for ch in value)
    if letters > 0 and 0.3 <= upper / letters <= 0.7:
        return True
    return _random_lower_case(value)


def _random_lower_case(value: str) -> bool:
    """Say whether an all-lower-case value is random letters rather than words run together.

    Some vendors issue tokens of lower-case letters only. English text, run together or not,
    is about 40% vowels (y counted); letters drawn at random are 6 in 26 (23%). Under 30% over
    at least 20 letters separates the two: "internalservererror" is 37%, "authorizationrequired" 48%.
    """
    if len(value) < _MIN_LOWER_TOKEN or not value.isalpha() or not value.islower() or not value.isascii():
        return False
    return sum(ch in _VOWELS for ch in value) / len(value) < 0.3


def _is_path_like(value: str) -> bool:
    """Say whether a value is a file path or URL (a key *file*, not the key)."""
    return value.startswith(("/", "~", "./", "../")) or "://" in value


def _basic_credentials(value: str) -> bool:
    """Say whether a Basic credential decodes to user:password."""
    try:
        return b":" in base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return False


# ---------------------------------------------------------------- replacers


def _text(match: re.Match[str], text: str, group: str | int = 0) -> str:
    """Return a group's text from the original (the match may be over a lower-cased copy)."""
    return text[match.start(group) : match.end(group)]


def _splice(match: re.Match[str], text: str, group: str, kind: str, length: int | None = None) -> str:
    """Replace one group of the match (or its first ``length`` chars), keeping the rest."""
    start = match.start(group)
    end = match.end(group) if length is None else start + length
    return text[match.start() : start] + marker(kind) + text[end : match.end()]


def _whole(kind: str) -> Replacer:
    """Replace the whole match."""
    return lambda _match, _text: marker(kind)


def _checked(kind: str, check: Callable[[str], bool] = lambda _v: True) -> Replacer:
    """Replace the ``secret`` group when ``check`` accepts it."""

    def replace(match: re.Match[str], text: str) -> str | None:
        if not check(_text(match, text, "secret")):
            return None
        return _splice(match, text, "secret", kind)

    return replace


def _replace_authorization(match: re.Match[str], text: str) -> str | None:
    cred = _text(match, text, "secret")
    if match.group("scheme") is None and cred.lower() in _AUTH_SCHEMES:
        return None  # "Authorization: Bearer [REDACTED:jwt]" read without a scheme
    if MARKER_PREFIX in cred or _is_placeholder(cred) or not _looks_random(cred, 6):
        return None
    return _splice(match, text, "secret", "authorization")


_COOKIE_PAIR_RE = re.compile(r"(?P<name>[^=;,\s]{1,128})=(?P<secret>(?!\[REDACTED:)[^;\s]{1,4096})")


def _replace_cookie_pair(match: re.Match[str]) -> str:
    if match.group("name").lower() in _COOKIE_ATTRIBUTES:
        return match.group(0)  # Path=/, Expires=..., SameSite=Lax
    return _splice(match, match.string, "secret", "cookie")


def _replace_cookie_header(match: re.Match[str], text: str) -> str | None:
    body = _text(match, text, "body")
    redacted = _COOKIE_PAIR_RE.sub(_replace_cookie_pair, body)
    return None if redacted == body else text[match.start() : match.start("body")] + redacted


def _replace_bare_userinfo(match: re.Match[str], text: str) -> str | None:
    if match.group("user").lower() in _IAM_PREFIXES:
        return None  # "serviceAccount:sa@p.iam.gserviceaccount.com" is a principal, not user:password
    return _splice(match, text, "secret", "url_password")


def _replace_email(match: re.Match[str], text: str) -> str | None:
    local, _, domain = match.group(0).partition("@")
    # Service accounts are principals an on-call engineer needs (IAM errors),
    # and git@host is a transport, not a person.
    if domain.lower().endswith("gserviceaccount.com") or local.lower() == "git":
        return None
    return marker("email")
