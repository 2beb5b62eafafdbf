"""The redaction rules: what counts as a secret in a log line, and what each one is replaced with.

The token shapes are the vendors' documented formats, built from the primitives of `functions.redaction.matching`.
Each rule names literal triggers, so the
engine (`functions.redaction.redact`) runs only the rules a line can match. Case-insensitive rules are
written in lower case and run case-sensitively over the lower-cased text (``re.IGNORECASE`` is
about five times slower here). Every quantifier is bounded and alternatives start with
distinct characters, so a 100 KB line cannot backtrack catastrophically. No rule matches
inside a ``[REDACTED:kind]`` marker, which keeps redaction idempotent.

Deliberately kept: service-account emails (IAM errors need them), ``git@host``,
trace/request ids, UUIDs, SHAs, hashes, IPs, paths, revision and pod names,
pagination cursors (pageToken), and placeholders (``password: YES``, ``***``, ``${VAR}``).
"""

from __future__ import annotations

import re

from functions.redaction.matching import (
    _CURSOR_KEYS,
    _KEY_CHARS,
    _MAX_KEY_LEN,
    _TOKEN_CHARS_RE,
    _UUID_RE,
    MARKER_PREFIX,
    Rule,
    _basic_credentials,
    _char_classes,
    _checked,
    _is_path_like,
    _is_placeholder,
    _looks_random,
    _lower_rule,
    _replace_authorization,
    _replace_bare_userinfo,
    _replace_cookie_header,
    _replace_email,
    _splice,
    _text,
    _whole,
)

# ---------------------------------------------------------------- key = value

# The regex finds a secret-sounding *word* followed by an assignment and a value;
# the replacer then reads the whole key backwards (DB_PASSWORD,
# spring.datasource.password, clientSecret, x-api-key) and decides from it.
# Families: "pw" keys hide any real value, "tk" keys hide machine-made values,
# "weak" keys (signature, auth, credential) hide only long machine-made values.
_PASSWORD_WORDS = r"pass(?:word|wd|phrase)|(?<![a-z])(?:pass|pwd)|secret(?:[_-]?key(?:[_-]?base)?)?"
_TOKEN_WORDS = (
    r"token|api[_-]?key|apikey|private[_-]?key[_-]?id"
    r"|(?:access|private|signing|encryption|master|client|subscription"
    r"|license|account|app|auth|hmac|storage|admin|service|webhook|bot)[_-]?key"
)
_WEAK_WORDS = r"signature|(?<![a-z])(?:sig|auth)|credentials?"
_SECRET_KEY_RE = re.compile(
    rf"[\w.\- ]{{0,{_MAX_KEY_LEN}}}?(?:(?P<pw>{_PASSWORD_WORDS})|(?P<tk>{_TOKEN_WORDS})"
    rf"|(?P<weak>{_WEAK_WORDS}))",
    re.IGNORECASE,
)
# A value: escaped-JSON quoted, double-quoted, single-quoted or bare. Each
# alternative starts with a different character, so none backtracks into
# another; a missing closing quote (truncated excerpt) still redacts. A bare
# value stops at "&name=" (next query parameter) but keeps a lone "&".
_VALUE = (
    r"(?:\\\"(?!\[redacted:)(?P<ev>(?:[^\"\\\n]|\\[^\"\n]){1,1024})(?:\\\")?"
    r"|\"(?!\[redacted:)(?P<dv>(?:[^\"\\\n]|\\.){1,1024})\"?"
    r"|'(?!\[redacted:)(?P<sv>(?:[^'\\\n]|\\.){1,1024})'?"
    r"|(?P<uv>(?:[^\s\"'`,;&<>\[\]|\\]|&(?![\w.-]{1,64}=)){1,1024}))"
)
_SEPARATOR = (
    r"(?P<sep>(?:\\?[\"'])?[ \t]{0,3}(?::=|=>|[:=])[ \t]{0,3}"  # key: v, "key": "v", key=v
    r"|\\?[\"'][ \t]{0,3},[ \t]{0,3}(?=\\?[\"'])"  # ('key', 'v'): gRPC metadata tuples
    r"|[ \t]{1,3}(?=[^\s:=,;-]))"  # --password v: accepted only after a "--" flag
)
_KEY_VALUE = (
    r"(?:pass(?:word|wd|phrase)?|pwd|secret|token|key(?:[_-]?(?:id|base))?|signature|sig|auth|credentials?)"
    rf"{_SEPARATOR}{_VALUE}"
)


_NEXT_IS_COLON_RE = re.compile(r"[ \t]{0,3}:")


def _key_policy(key: str, family: str) -> str | None:
    """Return the kind a value under this key is redacted as, or None for cursor-like keys."""
    norm = re.sub(r"[\W_]", "", key.lower())
    if norm.endswith(_CURSOR_KEYS):
        return None
    if norm.endswith("privatekeyid"):
        return "gcp_service_account_key"
    if "secretaccesskey" in norm or ("aws" in norm and family != "weak"):
        return "aws_secret_key"
    return "generic_secret" if family == "weak" else "password_pair"


def value_is_secret(key: str, family: str, value: str) -> bool:
    """Decide, from the key's family, whether its value is a secret worth cutting out."""
    if _is_placeholder(value) or MARKER_PREFIX in value:
        return False  # a value already holding a marker was handled: redacting it again breaks idempotence
    if family == "pw":
        # PWD/OLDPWD in env dumps are working directories, not passwords.
        return not (key.lower().lstrip("-") in ("pwd", "oldpwd") and _is_path_like(value))
    if _is_path_like(value) or not _TOKEN_CHARS_RE.fullmatch(value):
        return False  # a path, or not a token alphabet: "token: android.os.BinderProxy@2bd79ce"
    if family == "tk":
        return _looks_random(value)
    return _looks_random(value, 16) and not _UUID_RE.fullmatch(value)


def classify_key(key: str) -> tuple[str, str] | None:
    """Return (family, kind) for a key that names a secret, else None."""
    match = _SECRET_KEY_RE.fullmatch(key)
    if match is None:
        return None
    family = "pw" if match.group("pw") else "tk" if match.group("tk") else "weak"
    kind = _key_policy(key, family)
    return None if kind is None else (family, kind)


def _key_ending_at(text: str, word_start: int, word_end: int) -> str | None:
    """Read the key whose secret-sounding last word spans text[word_start:word_end]."""
    limit = max(0, word_start - _MAX_KEY_LEN)
    key_start = limit + len(text[limit:word_start].rstrip(_KEY_CHARS))
    if key_start == limit and limit > 0 and text[limit - 1] in _KEY_CHARS:
        return None  # an identifier longer than any key
    if key_start > 0 and text[key_start - 1] == "/":
        return None  # a URL path segment (/oauth/token: ...), not a key
    if text.endswith(MARKER_PREFIX, 0, key_start):
        return None
    return text[key_start:word_end]


def _replace_key_value(match: re.Match[str], text: str) -> str | None:
    key = _key_ending_at(text, match.start(), match.start("sep"))
    if key is None:
        return None
    if not match.group("sep").strip(" \t") and not key.startswith("--"):
        return None  # prose: "password hunter2" is not an assignment
    classified = classify_key(key)
    if classified is None:
        return None
    family, kind = classified
    group = next(g for g in ("ev", "dv", "sv", "uv") if match.group(g) is not None)
    value = _text(match, text, group)
    if text.startswith(MARKER_PREFIX, match.end(group)):
        return None  # the value runs into a marker: this span was handled already
    if "," in match.group("sep") and _NEXT_IS_COLON_RE.match(text, match.end()):
        return None  # '"DB_PASSWORD","value":' is a name followed by the next key, not a ('key', 'v') tuple
    if group == "uv":
        if value.startswith("{"):
            return None  # "password": {"value": ...}: a nested object, handled by its own rule
        # A bare value may end in the ")" or "}" closing a call or struct: keep that.
        for close, opening in ((")", "("), ("}", "{")):
            while value.endswith(close) and value.count(close) > value.count(opening):
                value = value[:-1]
        if family != "pw":
            # tokens are base64/hex/url-safe: "token=Token{a64f992 ..." is an object dump
            value = re.split(r"[{(]", value, maxsplit=1)[0]
    if not value or not value_is_secret(key, family, value):
        return None
    return _splice(match, text, group, kind, len(value))


def is_secret_key(key: str) -> bool:
    """Say whether a mapping key (``password``, ``client_secret``, ``x-api-key``) names a secret."""
    return classify_key(key) is not None


# ---------------------------------------------------------------- rules, in order

_B = r"(?<![\w-])"  # left boundary for tokens that start with a fixed prefix
_ASSIGN_OR_TUPLE = (
    r"(?:(?:\\?[\"'])?[ \t]{0,3}[:=][ \t]{0,3}(?:\\?[\"'])?"
    r"|\\?[\"'][ \t]{0,3},[ \t]{0,3}\\?[\"'])"
)
# Order matters: whole-token formats first (their markers then stop the
# contextual rules), PEM blocks before anything that could split them, emails last
# (after url_password has kept "user@host" of a URL). functions.redaction.shapes puts
# these groups and its own rules together into the one ordered RULES.
TOKEN_RULES: tuple[Rule, ...] = (
    Rule(
        "private_key",
        re.compile(
            r"-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----"
            r"(?:(?!-----END)[A-Za-z0-9+/=\s\\:,.-]){0,65536}"
            r"(?:-----END[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----)?"
        ),
        _whole("private_key"),
        exact_triggers=("PRIVATE KEY",),
    ),
    Rule(
        "slack_webhook",
        re.compile(
            r"hooks\.slack\.com/(?:services|workflows|triggers)/"
            r"(?P<secret>(?!\[REDACTED:)[A-Za-z0-9_]{6,40}/[A-Za-z0-9_/]{8,200})"
        ),
        _checked("slack_webhook"),
        triggers=("hooks.slack",),
    ),
    Rule(
        "slack_token",
        # xoxc- (browser session token) and xoxd- (its "d" cookie, URL-encoded: %2F, %3D) included
        re.compile(rf"{_B}(?:xox[abposrecd]-|xoxe\.xox[bp]-|xoxe-|xapp-)[A-Za-z0-9%-]{{8,255}}"),
        _whole("slack_token"),
        exact_triggers=("xox", "xapp-"),
    ),
    Rule(
        "github_token",
        re.compile(r"(?<!\w)(?:gh[pousr]_[A-Za-z0-9]{30,251}|github_pat_[A-Za-z0-9_]{30,255})"),
        _whole("github_token"),
        exact_triggers=("gh", "github_pat_"),
    ),
    Rule(
        "google_api_key",
        re.compile(rf"{_B}AIza[0-9A-Za-z_-]{{30,60}}"),
        _whole("google_api_key"),
        exact_triggers=("AIza",),
    ),
    Rule(
        "google_oauth_token",
        re.compile(
            r"(?<![\w.-])ya29\.[A-Za-z0-9_.-]{16,4096}"
            r"|(?<![\w/])1//0[A-Za-z0-9_-]{30,1024}"
            rf"|{_B}GOCSPX-[A-Za-z0-9_-]{{20,64}}"
        ),
        _whole("google_oauth_token"),
        exact_triggers=("ya29.", "1//0", "GOCSPX-"),
    ),
    Rule(
        "jwt",
        re.compile(
            rf"{_B}eyJ[A-Za-z0-9_=-]{{6,8192}}\.[A-Za-z0-9_=-]{{6,16384}}\.[A-Za-z0-9_=-]{{0,8192}}"
            r"(?:\.[A-Za-z0-9_=-]{0,8192}\.[A-Za-z0-9_=-]{0,8192})?"  # JWE: five parts
        ),
        _whole("jwt"),
        exact_triggers=("eyJ",),
    ),
    Rule(
        "aws_access_key",
        re.compile(r"(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16}(?![A-Za-z0-9])"),
        _whole("aws_access_key"),
        exact_triggers=("IA", "ACCA", "A3T"),
    ),
    Rule(
        "stripe_key",
        re.compile(r"(?<![A-Za-z0-9])(?:[sr]k_(?:live|test)_[0-9A-Za-z]{16,247}|whsec_[A-Za-z0-9+/=]{24,128})"),
        _whole("stripe_key"),
        exact_triggers=("k_live_", "k_test_", "whsec_"),
    ),
    Rule(
        "sendgrid_key",
        re.compile(r"(?<![A-Za-z0-9])SG\.[\w-]{16,32}\.[\w-]{16,64}"),
        _whole("sendgrid_key"),
        exact_triggers=("SG.",),
    ),
    Rule(
        "twilio_key",
        re.compile(r"(?<![A-Za-z0-9])SK[0-9a-fA-F]{32}(?![A-Za-z0-9])"),
        _whole("twilio_key"),
        exact_triggers=("SK",),
    ),
    Rule(
        "vendor_api_key",  # OpenAI, Anthropic, npm, PyPI, GitLab, Telegram bots (/bot<id>:<secret>)
        re.compile(
            rf"(?P<secret>{_B}(?:sk-(?:proj-|ant-[a-z]{{2,8}}\d{{2}}-|svcacct-)?[A-Za-z0-9_-]{{32,300}}"
            r"|npm_[A-Za-z0-9]{36}|pypi-AgE[A-Za-z0-9_-]{50,400}|glpat-[A-Za-z0-9_-]{20,64})"
            r"|(?<!\d)\d{8,10}:AA[A-Za-z0-9_-]{33}(?![\w-]))"
        ),
        _checked("vendor_api_key", lambda value: _char_classes(value) >= 2),
        exact_triggers=("sk-", "npm_", "pypi-", "glpat-", ":AA"),
    ),
)
CONTEXT_RULES: tuple[Rule, ...] = (
    Rule(
        "url_password",  # scheme://user:PASSWORD@host: keep user and host
        re.compile(
            r"(?<![\w+.-])[A-Za-z][\w+.-]{1,20}://[^\s:/?#@\"'\[\]]{0,128}:"
            r"(?P<secret>(?!\[REDACTED:)[^\s/?#\"'<>]{1,256})@(?=[\w\[/%.-])"
        ),
        _checked("url_password"),
        exact_triggers=("@",),
    ),
    Rule(
        "url_password",  # user:PASSWORD@host without a scheme: Go MySQL DSNs (app:pw@tcp(db:3306)/x)
        re.compile(
            r"(?<![\w.:/@%+-])(?P<user>[A-Za-z_][\w.-]{0,63}):"
            r"(?P<secret>(?!\[REDACTED:)[^\s/?#\"'<>\[\]]{1,256})@(?!sha\d{3}\b)(?=[\w\[(])"
        ),
        _replace_bare_userinfo,
        exact_triggers=("@",),
    ),
    _lower_rule(
        "bearer",
        r"(?<![\w-])bearer[ \t]{1,4}(?P<secret>(?!\[redacted:)[a-z0-9._~+/-]{8,4096}=*)",
        _checked("bearer", _looks_random),
        triggers=("bearer",),
    ),
    _lower_rule(
        "basic_auth",
        r"(?<![\w-])basic[ \t]{1,4}(?P<secret>[a-z0-9+/]{4,2048}={0,2})(?![\w+/=])",
        _checked("basic_auth", _basic_credentials),
        triggers=("basic",),
    ),
    _lower_rule(
        "authorization",  # other schemes: Token, SSWS, ApiKey, AWS4-HMAC-SHA256, none
        rf"(?<![\w-])(?:proxy-)?authorization{_ASSIGN_OR_TUPLE}"
        r"(?:(?P<scheme>[a-z][\w-]{1,30})[ \t]{1,4})?(?P<secret>(?!\[redacted:)[^\s\"'\\,;]{6,4096})(?![^\s\"'\\,;])"
        r"(?(scheme)|(?![ \t]{1,4}[^\s\"',;]))",  # without a scheme, the credential is the whole value
        _replace_authorization,
        triggers=("authorization",),
    ),
    _lower_rule(
        "cookie",
        rf"(?<![\w-])(?:set-)?cookie{_ASSIGN_OR_TUPLE}(?P<body>[^\n\"'\\]{{1,8192}})",
        _replace_cookie_header,
        triggers=("cookie",),
    ),
)
PAIR_RULE = _lower_rule(
    "password_pair",
    _KEY_VALUE,
    _replace_key_value,
    triggers=("pass", "pwd", "secret", "token", "key", "sig", "auth", "credential"),
)
EMAIL_RULE = Rule(
    "email",
    re.compile(
        r"(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@[A-Za-z0-9-]{1,63}"
        r"(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}(?![\w-])"
    ),
    _replace_email,
    exact_triggers=("@",),
)
