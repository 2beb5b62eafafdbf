"""More secret shapes, and the one ordered rule list the redaction engine runs.

`functions.redaction.rules` holds the core detectors (vendor tokens, URL passwords, headers,
key = value). This module adds the shapes they missed, each named by where it turns up in logs:

- command lines: ``curl -u user:pw``, ``mysql -pPW``, ``sshpass -p PW``, ``redis-cli -a PW`` and
  .pgpass lines (``host:port:db:user:password``);
- key material without its BEGIN line: Cloud Run logs multi-line stderr one entry per line, so a
  PEM or OpenSSH key arrives as lines of bare base64 (see `_key_body_line`), PuTTY key files,
  age identities;
- more vendor prefixes (Hugging Face, Vault, DigitalOcean, Shopify, GitLab runner/deploy, Linear,
  Postman, New Relic, Doppler, PlanetScale, Databricks, Brevo, Sentry, Mailchimp, Groq, Replicate,
  Square, Mapbox, Pulumi, RubyGems, Discord bot tokens): the vendors' documented token formats,
  listed with gitleaks' and detect-secrets' catalogues as a checklist of shapes; the patterns are ours;
- credentials in URLs: DB URLs whose password holds ``#`` or a space, query parameters (``pw=``,
  ``key=``, ``session=``, ``;jsessionid=``, OAuth ``code=``), tokens in paths (``/reset/<token>``),
  Discord and Teams webhooks;
- structures flattened to text: name/value pairs (k8s env, HAR headers, Go's ``{Name:X Value:Y}``),
  ``{"password": {"value": ...}}`` and Node's ``"set-cookie": [...]``;
- an AWS secret access key beside an access key id with no key name.

Every quantifier is bounded and repetitions are separated by a mandatory delimiter, so no pattern
backtracks more than a constant per position.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from functions.redaction.matching import (
    _AUTH_SCHEMES,
    MARKER_PREFIX,
    Rule,
    _char_classes,
    _checked,
    _is_placeholder,
    _looks_random,
    _lower_rule,
    _splice,
    _text,
    _whole,
    marker,
)
from functions.redaction.rules import CONTEXT_RULES, EMAIL_RULE, PAIR_RULE, TOKEN_RULES, classify_key, value_is_secret

_B = r"(?<![\w-])"


def _trie(literals: list[str]) -> str:
    """A regex matching any of the literals, factored by first character so the engine never tries them in turn."""
    heads: dict[str, list[str]] = {}
    for literal in literals:
        heads.setdefault(literal[:1], []).append(literal[1:])
    branches = []
    for head, tails in sorted(heads.items()):
        if not head:
            continue
        rest = [t for t in tails if t]
        inner = _trie(rest) if rest else ""
        optional = "?" if rest and len(rest) < len(tails) else ""
        branches.append(re.escape(head) + (f"(?:{inner}){optional}" if inner else ""))
    return "|".join(branches)


def _any_of(literals: tuple[str, ...]) -> Callable[[str], bool]:
    """A gate for a rule with many literals: one scan of the text instead of a substring test per literal."""
    pattern = re.compile(_trie(sorted(set(literals))))
    return lambda text: pattern.search(text) is not None


_B64 = r"[A-Za-z0-9+/]"

# ---------------------------------------------------------------- key material


# RFC 7468 wraps PEM bodies at 64 characters; ssh-keygen wraps OpenSSH private keys at 70. A log
# entry that is exactly one such run of base64 is a line of a key (or of a certificate, whose lines
# look the same and lose nothing by going). Hex digests are one case only and base64 digests have
# other lengths (SHA-256: 44, SHA-512: 88), so requiring upper case, lower case and digits, and
# exactly these lengths, keeps hashes, ids and revision names.
_KEY_LINE_LENGTHS = (64, 70)


def _key_body_gate(text: str) -> bool:
    return len(text.strip()) in _KEY_LINE_LENGTHS


def _key_body_line(match: re.Match[str], text: str) -> str | None:
    line = _text(match, text, "secret")
    return _splice(match, text, "secret", "private_key") if _char_classes(line) == 3 else None


_KEY_BODY_LINE = Rule(
    "private_key",
    re.compile(rf"\A[ \t]{{0,8}}(?P<secret>{_B64}{{64}}|{_B64}{{70}})[ \t\r\n]{{0,8}}\Z"),
    _key_body_line,
    gate=_key_body_gate,
)

# DER keys open with SEQUENCE { INTEGER version ... }, which base64 spells in few ways: RSA
# (PKCS#1 and PKCS#8) "MII..IBA", EC "MHcCAQEE"/"MIGkAgEBBD", PKCS#8 EC and Ed25519, and OpenSSH's
# "openssh-key-v1" magic. A certificate opens with SEQUENCE { SEQUENCE ...} ("MII..CCA") instead,
# so a public certificate is not taken for a key. The run may continue over escaped newlines.
_KEY_DER = Rule(
    "private_key",
    re.compile(
        rf"(?<!{_B64})(?:MII{_B64}{{2}}[AQgw]IBA[AD]|MHcCAQEE|MIGkAgEBBD|MIG{_B64}AgEAMBMGByqGSM49"
        rf"|MC4CAQAwBQYDK2Vw|b3BlbnNzaC1rZXktdjE)(?:{_B64}|=|\\n|\r?\n){{24,16384}}"
    ),
    _whole("private_key"),
    gate=_any_of(("MII", "MHcCAQEE", "MIG", "MC4CAQAw", "b3BlbnNzaC1rZXktdjE")),
)
_NL = r"(?:\\n|\r?\n)"
_PUTTY = Rule(
    "private_key",  # PuTTY .ppk: the Private-Lines block and the MAC over it; Public-Lines stay
    re.compile(
        rf"Private-Lines:[ \t]{{0,4}}\d{{1,3}}[ \t]{{0,4}}{_NL}"
        rf"(?P<secret>[A-Za-z0-9+/=]{{1,64}}(?:{_NL}(?!Private-)[A-Za-z0-9+/=]{{1,64}}){{0,63}})"
        r"|Private-MAC:[ \t]{0,4}(?P<mac>[0-9a-fA-F]{40,128})"
    ),
    lambda m, t: _splice(m, t, "secret" if m.group("secret") is not None else "mac", "private_key"),
    exact_triggers=("Private-Lines:", "Private-MAC:"),
)
_AGE = Rule(
    "private_key",  # age identities: Bech32, upper case
    re.compile(r"AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}"),
    _whole("private_key"),
    exact_triggers=("AGE-SECRET-KEY-1",),
)

# ---------------------------------------------------------------- vendor tokens

_VENDOR_PREFIXES = (
    "hf_", "api_org_", "hvs.", "hvb.", "hvr.", "dop_v1_", "doo_v1_", "dor_v1_", "shpat_", "shpca_",
    "shppa_", "shpss_", "glrt-", "gldt-", "glptt-", "glsoat-", "glcbt-", "lin_api_", "PMAK-", "NRAK-",
    "dp.", "pscale_", "dapi", "xkeysib-", "sntrys_", "sntryu_", "-us", "gsk_", "r8_", "sq0", "sk.eyJ",
    "pul-", "rubygems_",
)  # fmt: skip
_VENDOR = Rule(
    "vendor_api_key",
    re.compile(
        rf"{_B}(?:hf_[A-Za-z]{{34}}|api_org_[A-Za-z]{{34}}|hv[sbr]\.[A-Za-z0-9_-]{{24,256}}"
        r"|do[opr]_v1_[a-f0-9]{64}|shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}"
        r"|gl(?:rt|dt|ptt|soat|cbt)-[A-Za-z0-9_-]{20,64}|lin_api_[A-Za-z0-9]{40}"
        r"|PMAK-[a-f0-9]{24}-[a-f0-9]{34}|NRAK-[A-Z0-9]{27}|dp\.(?:pt|st|sa|ct)\.[A-Za-z0-9]{40,44}"
        r"|pscale_(?:pw|tkn|oauth)_[A-Za-z0-9_.=-]{32,64}|dapi[a-f0-9]{32}(?:-\d)?"
        r"|xkeysib-[a-f0-9]{64}-[A-Za-z0-9]{16}|sntrys_[A-Za-z0-9+/=_]{60,400}|sntryu_[a-f0-9]{64}"
        r"|[a-f0-9]{32}-us\d{1,2}|gsk_[A-Za-z0-9]{52}|r8_[A-Za-z0-9]{37}|sq0(?:atp|csp)-[A-Za-z0-9_-]{22,43}"
        r"|sk\.eyJ[A-Za-z0-9_-]{20,512}\.[A-Za-z0-9_-]{20,128}|pul-[a-f0-9]{40}|rubygems_[a-f0-9]{48})"
        r"(?![\w-])"
    ),
    _whole("vendor_api_key"),
    gate=_any_of(_VENDOR_PREFIXES),
)
# Discord bot tokens: base64 of the bot's numeric id (so "MT".."OT"), a 6-character timestamp, an HMAC.
_DISCORD_BOT = Rule(
    "vendor_api_key",
    re.compile(r"(?<![\w.-])(?P<secret>[MNO][A-Za-z0-9_-]{23,27}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,40})(?![\w.-])"),
    _checked("vendor_api_key", lambda value: _char_classes(value) == 3),
    gate=_any_of(("MT", "Mj", "Mz", "ND", "NT", "Nj", "Nz", "OD", "OT")),
)
# An AWS secret access key is 40 characters of base64 (always mixing cases and digits). With no key
# name it is recognised by sitting next to its access key id, as in credentials.csv or CLI arguments.
_AWS_SEP = r"[ \t,;:|=\"']{1,8}"
_AWS_SECRET_AFTER = Rule(
    "aws_secret_key",
    re.compile(rf"\[REDACTED:aws_access_key\]{_AWS_SEP}(?P<secret>[A-Za-z0-9/+]{{40}})(?![A-Za-z0-9/+=])"),
    _checked("aws_secret_key", lambda value: _char_classes(value) == 3),
    exact_triggers=("IA", "ACCA", "A3T", "aws_access_key]"),
)
_AWS_SECRET_BEFORE = Rule(
    "aws_secret_key",
    re.compile(rf"(?<![A-Za-z0-9/+=])(?P<secret>[A-Za-z0-9/+]{{40}}){_AWS_SEP}\[REDACTED:aws_access_key\]"),
    _checked("aws_secret_key", lambda value: _char_classes(value) == 3),
    exact_triggers=("IA", "ACCA", "A3T", "aws_access_key]"),
)

# ---------------------------------------------------------------- URLs


def _not_a_port(value: str) -> bool:
    """'db:5432 unreachable, mail ops@x' reads as user:password@host; a password is not a port and prose."""
    return re.match(r"\d{1,5}(?:\s|$)", value) is None and "://" not in value


_DB_URL_PASSWORD = Rule(
    "url_password",  # passwords with '#' or a space, which the general URL rule stops at; DB schemes only
    re.compile(
        r"(?<![\w+.-])(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|rediss?|amqps?|mssql|sqlserver"
        r"|clickhouse|cockroachdb|oracle)(?:\+[a-z0-9]{1,20})?://[^\s:/?#@\"'\[\]]{0,128}:"
        r"(?P<secret>(?!\[REDACTED:)[^\n/\"'<>@]{1,128}(?:@[^\n/\"'<>@]{1,64}){0,3})@(?=[\w\[%.-])"
    ),
    _checked("url_password", _not_a_port),
    exact_triggers=("@",),
)
_WEBHOOK = Rule(
    "webhook",  # Discord (id/token) and Microsoft Teams incoming webhooks: the path is the credential
    re.compile(
        r"discord(?:app)?\.com/api/(?:v\d{1,2}/)?webhooks/(?P<secret>\d{17,20}/[A-Za-z0-9_-]{60,100})"
        r"|\.webhook\.office\.com/webhookb2/(?P<teams>[A-Za-z0-9@/-]{40,400})"
    ),
    lambda m, t: _splice(m, t, "secret" if m.group("secret") is not None else "teams", "webhook"),
    triggers=("/webhooks/", "webhookb2/"),
)
_TOKEN_ALPHABET = re.compile(r"[A-Za-z0-9._~%+/=-]+")
_PARAM_KINDS = {
    "pw": "password_pair", "passwd": "password_pair", "key": "url_token",
    "session": "session", "sessionid": "session", "session_id": "session", "sid": "session",
    "jsessionid": "session", "phpsessid": "session", "aspsessionid": "session",
    "code": "oauth_code", "auth_code": "oauth_code",
}  # fmt: skip
_PARAM_MIN_LEN = {"password_pair": 1, "url_token": 16, "session": 16, "oauth_code": 10}


def _replace_param(match: re.Match[str], text: str) -> str | None:
    kind = _PARAM_KINDS[match.group("name")]
    value = _text(match, text, "secret")
    if len(value) < _PARAM_MIN_LEN[kind] or _is_placeholder(value):
        return None
    if kind != "password_pair" and not (_TOKEN_ALPHABET.fullmatch(value) and _looks_random(value, 10)):
        return None  # ?key=orders.by-date, ?code=invalid_grant: words, not credentials
    return _splice(match, text, "secret", kind)


_URL_PARAM = _lower_rule(
    "url_token",
    r"[?&;](?P<name>pw|passwd|key|session(?:_?id)?|sid|jsessionid|phpsessid|aspsessionid|code|auth_code)"
    r"=(?P<secret>(?!\[redacted:)[^&\s#\"'<>;?]{1,2048})",
    _replace_param,
    triggers=("pw=", "passwd=", "key=", "session", "sid=", "code="),
)


def _path_token(value: str) -> bool:
    return _looks_random(value, 16) or _char_classes(value) >= 2


_URL_PATH_TOKEN = _lower_rule(
    "url_token",  # one-time links: /reset/<token>, Django's /reset/<uidb64>/<token>/, invites, magic links
    r"/(?:reset|reset[-_]password|password[-_]reset|verify|verify[-_]email|confirm|confirm[-_]email|activate"
    r"|invite|invitation|magic|magic[-_]link|unsubscribe|login[-_]link)/(?:[a-z0-9_-]{1,12}/)?"
    r"(?P<secret>(?!\[redacted:)[a-z0-9_~-]{16,512})(?![a-z0-9_~.-])",
    _checked("url_token", _path_token),
    triggers=("reset/", "verify", "confirm", "activate/", "invit", "magic", "unsubscribe/", "login"),
)

# ---------------------------------------------------------------- command lines

_ARG = r"(?P<q>['\"]?)(?P<secret>(?!\[REDACTED:)[^\s'\"]{1,256})"
_CMD_PREFIX = r"(?:[ \t][^\n|;&\[]{0,300}?)?[ \t]"  # never across a marker: stays idempotent


def _cli_value(value: str) -> bool:
    return not _is_placeholder(value) and not value.startswith("$")


_CLI = Rule(
    "cli_password",
    re.compile(
        rf"{_B}curl{_CMD_PREFIX}(?:-[uU][ \t]{{0,4}}|--(?:proxy-)?user(?:[ \t]{{1,4}}|=))"
        rf"['\"]?[^\s:'\"]{{0,128}}:{_ARG}"
    ),
    _checked("cli_password", _cli_value),
    exact_triggers=("curl",),
)
_MYSQL = Rule(
    "cli_password",  # -pPASS (no space: "-p dbname" prompts for the password instead)
    re.compile(
        rf"{_B}(?:mysql|mysqldump|mysqladmin|mysqlimport|mysqlcheck|mysqlsh|mariadb(?:-dump|-admin)?)"
        rf"{_CMD_PREFIX}-p{_ARG}"
    ),
    _checked("cli_password", _cli_value),
    exact_triggers=("mysql", "mariadb"),
)
_SSHPASS_REDIS = Rule(
    "cli_password",
    re.compile(rf"{_B}(?:sshpass[ \t]{{1,4}}-p[ \t]{{0,4}}|redis-cli{_CMD_PREFIX}-a[ \t]{{1,4}}){_ARG}"),
    _checked("cli_password", _cli_value),
    exact_triggers=("sshpass", "redis-cli"),
)


_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-")
_MAX_HOST = 253


def _pgpass(match: re.Match[str], text: str) -> str | None:
    """Accept the match when a host (or ``*``) precedes it: read backwards, like keys in redact_rules."""
    start = match.start()
    if start > 0 and text[start - 1] == "*":
        host_start = start - 1
    else:
        host_start = start
        while host_start > 0 and start - host_start <= _MAX_HOST and text[host_start - 1] in _HOST_CHARS:
            host_start -= 1
        host = text[host_start:start]
        if not any(ch.isalpha() or ch == "." for ch in host):
            return None  # "01:42:17:123:456" is a time, not host:port:db:user:password
    if host_start > 0 and (text[host_start - 1].isalnum() or text[host_start - 1] in "_.:/*@-"):
        return None  # inside a longer token (a URL, an IPv6 address, a too-long name)
    if not _cli_value(match.group("secret")):
        return None
    return _splice(match, text, "secret", "cli_password")


_PGPASS = Rule(
    "cli_password",  # hostname:port:database:username:password (PostgreSQL's password file)
    # The pattern starts at the ':' before the port, a literal the regex engine scans for quickly;
    # the host is read backwards by the replacer.
    re.compile(
        r":(?:\*|\d{1,5}):(?:\*|[\w.$-]{1,63}):"
        r"(?:\*|[\w.@$-]{1,63}):(?P<secret>(?!\[REDACTED:)(?:[^\s:\\\"']|\\.){1,256})(?![^\s\"',])"
    ),
    _pgpass,
    exact_triggers=(":",),
)

# ---------------------------------------------------------------- structures flattened to text

_Q = r"\\?\""  # a quote, or an escaped one inside a JSON string
_JSON_STR = r"(?P<secret>(?!\[REDACTED:)(?:[^\"\\\n]|\\[^\"\n]){1,1024})"


def named_secret(name: str, value: str) -> str | None:
    """The replacement of `value` held under `name` (authorization keeps its scheme), or None to keep it."""
    lowered = name.lower()
    if MARKER_PREFIX in value or _is_placeholder(value):
        return None
    if lowered in ("authorization", "proxy-authorization"):
        scheme, _, credential = value.partition(" ")
        if credential and scheme.lower() in _AUTH_SCHEMES:
            return f"{scheme} {marker('authorization')}"
        return marker("authorization")
    if lowered in ("cookie", "set-cookie"):
        return _COOKIE_ITEM_RE.sub(_cookie_item, value)
    classified = classify_key(name)
    if classified is None or not value_is_secret(name, classified[0], value):
        return None
    return marker(classified[1])


def _replace_named(match: re.Match[str], text: str) -> str | None:
    replacement = named_secret(match.group("name"), _text(match, text, "secret"))
    if replacement is None or replacement == _text(match, text, "secret"):
        return None
    start, end = match.start("secret"), match.end("secret")
    return text[match.start() : start] + replacement + text[end : match.end()]


_NAME_VALUE = Rule(
    "password_pair",  # {"name": "DB_PASSWORD", "value": "..."} (k8s env, HAR headers), {"key": .., "value": ..}
    re.compile(
        rf"{_Q}(?:name|key|Name|Key){_Q}[ \t]{{0,3}}:[ \t]{{0,3}}{_Q}(?P<name>[\w.-]{{1,64}}){_Q}[ \t]{{0,3}},"
        rf"[ \t]{{0,3}}{_Q}(?:value|Value){_Q}[ \t]{{0,3}}:[ \t]{{0,3}}{_Q}{_JSON_STR}"
    ),
    _replace_named,
    exact_triggers=("value", "Value"),
)
_NAME_VALUE_TEXT = Rule(
    "password_pair",  # YAML "- name: X\n  value: v" and Go's %+v of an EnvVar "{Name:X Value:v ...}"
    re.compile(
        r"(?:\bname:[ \t]{1,3}(?P<name>[\w.-]{1,64})[ \t]{0,4}\r?\n[ \t]{0,16}value:[ \t]{1,3}[\"']?"
        r"|\{Name:(?P<goname>[\w.-]{1,64}) Value:)(?P<secret>(?!\[REDACTED:)[^\s\"'}]{1,1024})"
    ),
    lambda m, t: _replace_named_text(m, t),
    exact_triggers=("value:", "Value:"),
)


def _replace_named_text(match: re.Match[str], text: str) -> str | None:
    name = match.group("name") or match.group("goname")
    replacement = named_secret(name, _text(match, text, "secret"))
    if replacement is None:
        return None
    return text[match.start() : match.start("secret")] + replacement + text[match.end("secret") : match.end()]


_NESTED_VALUE = Rule(
    "password_pair",  # {"password": {"value": "..."}}: the secret one level down
    re.compile(
        rf"{_Q}(?P<name>[\w.-]{{1,64}}){_Q}[ \t]{{0,3}}:[ \t]{{0,3}}\{{[ \t]{{0,3}}"
        rf"{_Q}(?:value|secret|plaintext|data|stringValue|string_value|secretString){_Q}[ \t]{{0,3}}:[ \t]{{0,3}}"
        rf"{_Q}{_JSON_STR}"
    ),
    _replace_named,
    triggers=("value", "secret", "plaintext", "data"),  # stringValue and secretString hold two of them
)
_COOKIE_ITEM_RE = re.compile(r"(?P<name>[^=;,\s\"'\[]{1,128})=(?P<secret>(?!\[REDACTED:)[^;\s\"',\]]{1,4096})")
_COOKIE_ATTRIBUTES = frozenset(
    {"path", "domain", "expires", "max-age", "samesite", "secure", "httponly", "priority", "partitioned"}
)


def _cookie_item(match: re.Match[str]) -> str:
    if match.group("name").lower() in _COOKIE_ATTRIBUTES:
        return match.group(0)
    return match.group("name") + "=" + marker("cookie")


def _replace_cookie_list(match: re.Match[str], text: str) -> str | None:
    body = _text(match, text, "body")
    redacted = _COOKIE_ITEM_RE.sub(_cookie_item, body)
    return None if redacted == body else text[match.start() : match.start("body")] + redacted


_COOKIE_LIST = _lower_rule(
    "cookie",  # Node's headers object: "set-cookie": ["sid=...; Path=/", ...]
    r"(?<![\w-])(?:set-)?cookie\\?[\"']?[ \t]{0,3}[:=][ \t]{0,3}\[(?P<body>[^\]\n]{1,8192})",
    _replace_cookie_list,
    triggers=("cookie",),
)

# ---------------------------------------------------------------- the order

RULES: tuple[Rule, ...] = (
    *TOKEN_RULES,
    _KEY_BODY_LINE,
    _KEY_DER,
    _PUTTY,
    _AGE,
    _VENDOR,
    _DISCORD_BOT,
    _AWS_SECRET_AFTER,
    _AWS_SECRET_BEFORE,
    _WEBHOOK,
    *CONTEXT_RULES,
    _DB_URL_PASSWORD,
    _NAME_VALUE,
    _NAME_VALUE_TEXT,
    _NESTED_VALUE,
    _COOKIE_LIST,
    _CLI,
    _MYSQL,
    _SSHPASS_REDIS,
    _PGPASS,
    _URL_PARAM,
    _URL_PATH_TOKEN,
    PAIR_RULE,
    EMAIL_RULE,
)

__all__ = ["RULES", "named_secret"]
