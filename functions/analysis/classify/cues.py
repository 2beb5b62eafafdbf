"""The second classification stage: cues that hold across runtimes, for lines no signature names.

Signatures (functions/analysis/classify/signatures.d/) give precise meaning and entities for phrasings we know.
Real outages also log lines nobody wrote a signature for; these still carry the same few kinds of
evidence whatever the runtime, and this module reads them. Catalogue, most reliable first:

=================  =========================================================  ========
cue                what it reads                                              strength
=================  =========================================================  ========
exception-suffix   the class name of the innermost exception (the last line    strong
                   of a traceback that is not a frame, the right-most ``--->``
                   of a .NET chain): ``…Timeout``, ``…SSLError``,
                   ``…PermissionDenied``, ``…ConnectionRefused…``,
                   ``OutOfMemory…``, ``…ClassNotFound…``, ``…Config…``
exception-ns       the namespace of that class: ``java.net.``,
                   ``javax.net.ssl.``, ``System.Security.Authentication.``     strong
errno              ECONNREFUSED, ETIMEDOUT, ENOTFOUND, EAI_AGAIN, EMFILE ...  strong
grpc               gRPC status names (``14 UNAVAILABLE``, ``StatusCode.X``,     strong
                   ``code = X``); INVALID_ARGUMENT-like codes are weak
sqlstate           ``SQLSTATE[08006]``, ``SQLSTATE[HY000] [2002]``: database  strong
http-status        a status with its reason phrase (``403 Forbidden``,         weak
                   ``status code 429``)
phrase:auth        refusal words (``permission denied``, ``invalid_grant``,   weak
                   ``authentication failed``, ``token is expired``)
level              the level word inside the text (``[INFO]``, ``info:``,      weak
                   ``I, [``, ``production.INFO:``, ``I0721``, ``Normal``
                   kubelet events): an informational line with no failure cue
                   is noise, whatever the LogEntry severity says
exception          any other exception class name: an unhandled application  strong
                   error
=================  =========================================================  ========

A database context (a driver's namespace, ``SQLSTATE``, a Cloud SQL socket, a database's well-known
port) turns a network or timeout cue into ``database``: a driver that cannot reach its server is a
database failure. Likewise a WebSocket context (``wss://``, ``socket.io``) turns a network cue into
``websocket``: the connection that broke is the WebSocket.

Two more cues describe lines that name no code: the ``ERROR: (gcloud.… deploy)`` line of a deploy
that no signature explains is a rejected deployment (``configuration``, weak); and an advisory,
that is a line the logger marked WARNING (level word in the text) or a record declared INFO/DEBUG,
that names no failure word and no exception, is ``noise`` (weak).

A weak cue may describe a line, but a root cause is never built from it alone (``Finding.weak``).
Request logs (records with an HTTP status) never reach this stage: their URL is attacker-chosen.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import re2

from functions.analysis.classify.gate import Gate
from functions.core.model import Category, Severity


@dataclass(frozen=True, slots=True)
class Cue:
    """What a cue concluded: the category, how (``matched_by``) and whether it is weak."""

    category: Category
    matched_by: str
    weak: bool
    summary: str
    exception: str = ""


# ------------------------------------------------------------------ the useful lines of a message

# Frames and source excerpts of Python, Java/.NET, Node, Ruby, PHP and Go traces: they name code,
# not the failure, and a failure word inside them (a function called `handle_timeout`) misleads.
_FRAME_RE = re.compile(
    r"""^\s*(?:at\s|File\s"|\#\d+\s|from\s\S+:\d+|\.\.\.|---\s*End\sof|Stack\strace:|\[stacktrace\]|goroutine\s\d+)
    |^\s*\S+\.go:\d+
    |^\s*/\S+:\d+:in\s
    |^\s*[\w.$/\\<>]+\([^)\n]*\)\s*(?:\+\d+|in\s|\[0x)""",
    re.VERBOSE,
)
_MAX_LINES = 60  # the tail of a long trace holds the innermost exception; more lines add nothing


def useful_lines(text: str) -> list[str]:
    """The lines that can name the failure, last first (a trace's last line is its innermost cause).

    Indented lines are code or frames, except an inner-exception line (``--->``, ``Caused by``).
    """
    lines = text.splitlines()
    kept: list[str] = []
    for line in reversed(lines[-_MAX_LINES:] if len(lines) > _MAX_LINES else lines):
        stripped = line.strip()
        if not stripped or _FRAME_RE.match(line):
            continue
        if line[:1].isspace() and not (stripped.startswith(("--->", "Caused by", "|")) or "Exception" in stripped):
            continue
        kept.append(stripped)
    if len(lines) > _MAX_LINES:
        kept.append(lines[0].strip())  # the header line of a cut trace still says what failed
    return kept


# ------------------------------------------------------------------ exception class names

# The class name itself (every match of _EXCEPTION_RE holds one): what the cue gate looks for.
_EXCEPTION_NAME = (
    r"[A-Z][\w$]*?(?:Error|Exception|Exceeded|Denied|Refused|Timeout|TimedOut|Failure|Fault|Forbidden|Unauthorized|"
    r"Unauthenticated|Unavailable|Exhausted|ResourceExhausted|NotFound|Throwable)"
)
_EXCEPTION_RE = re.compile(r"(?<![\w$])((?:[A-Za-z_][\w$]*(?:\.|::|\\\\?))*" + _EXCEPTION_NAME + r"[\w$]*)(?![\w$])")
# Ordered: the first row whose pattern is found in the class's last component decides.
_SUFFIX_TABLE: tuple[tuple[re.Pattern[str], Category, str], ...] = tuple(
    (re.compile(pattern), category, label)
    for pattern, category, label in (
        (r"WebSocket|Websocket", Category.WEBSOCKET, "WebSocket"),
        (r"SSL|Ssl|TLS|Tls|Certificate|CertPath|Handshake", Category.TLS, "SSL"),
        (
            r"OutOfMemory|MemoryError|ResourceExhausted|TooManyRequests|RateLimit|Quota|Throttl",
            Category.RESOURCE_EXHAUSTION,
            "OutOfMemory",
        ),
        (r"^(?:Connect|Connection|Socket|Read|Write|Http|Io)?(?:Timeout|TimedOut)", Category.NETWORK, "ConnectTimeout"),
        (r"Timeout|TimedOut|DeadlineExceeded", Category.TIMEOUT, "Timeout"),
        (
            r"PermissionDenied|AccessDenied|Forbidden|Unauthori[sz]ed|Unauthenticated|Authenticat|Authoriz|Credential|InvalidToken|TokenExpired|Jwt|JWT",
            Category.AUTH,
            "PermissionDenied",
        ),
        (
            r"ConnectionRefused|ConnectException|ConnectionReset|ConnectionAborted|ConnectionError|ConnectionClosed|UnknownHost|NameResolution|HostNotFound|Unreachable|NoRouteToHost|SocketException|BrokenPipe|Unavailable",
            Category.NETWORK,
            "ConnectionRefused",
        ),
        (
            r"ModuleNotFound|ImportError|ClassNotFound|NoClassDefFound|LoadError|DllNotFound|FileLoadException|BadImageFormat|MissingModule",
            Category.DEPENDENCY_MISSING,
            "ModuleNotFound",
        ),
        (r"Config|Setting|MissingAppKey|EnvironmentVariable", Category.CONFIGURATION, "Config"),
        (r"Deadlock|SQL|Sql|Database|DataSource|Jdbc|JDBC|Npgsql|Mongo|Redis|PDO", Category.DATABASE, "SQL"),
    )
)
_NAMESPACE_TABLE: tuple[tuple[re.Pattern[str], Category, str], ...] = (
    (re.compile(r"^javax?\.net\.ssl\.|^System\.Security\.Authentication\.|^OpenSSL::|^ssl\."), Category.TLS, "ssl"),
    (re.compile(r"^java\.net\.|^System\.Net\.Sockets\.|^Errno::ECONN|^Net::"), Category.NETWORK, "net"),
)
# A database client in the line (driver namespaces, SQLSTATE, the Cloud SQL socket path). RE2, not re:
# it is tried on every line a network or timeout rule matched, and its ~40 alternatives made Python's
# backtracking engine cost ~170 µs on a 300-character line (RE2: ~3 µs; same verdicts on the corpus).
_DB_CONTEXT_RE = re2.compile(
    "(?i)"
    r"Npgsql|\bPG::|Mysql2::|\bpsycopg|\bpymysql|\bMySQLdb|\basyncpg|sqlalchemy|\bPDO|SQLSTATE|Doctrine\\DBAL|Illuminate\\Database"
    r"|ActiveRecord::|\bSequelize|\bJDBC|jdbc:|\bHikari|SqlClient|\bMongo|\bRedis|/cloudsql/|sqladmin\.googleapis|\.s\.PGSQL\."
    r"|\bpostgres(?:ql)?\b|\bmysql\b|\bdatabase\b|\bknex\b|\bprisma\b"
    # the well-known server ports of PostgreSQL, MySQL, the Cloud SQL connector, Redis, MongoDB, SQL
    # Server, Oracle, CockroachDB, Cassandra, Memcached: a connection to one is a database connection
    r"|[\w\]]:(?:5432|3306|3307|6379|27017|1433|1521|26257|9042|11211)\b",
)
# A WebSocket client or server in the line (a ws:// URL, the word, socket.io, a wss_ identifier).
_WEBSOCKET_CONTEXT_RE = re.compile(r"(?i)\bwss?://|web ?sockets?|socket\.io|\bwss?_|_wss?\b")


def database_context(text: str) -> bool:
    """Whether a database client wrote the message (its namespace, SQLSTATE, a Cloud SQL socket)."""
    return _DB_CONTEXT_RE.search(text) is not None


def _exception_cue(lines: list[str]) -> Cue | None:
    for line in lines:
        for match in reversed(list(_EXCEPTION_RE.finditer(line))):
            name = match.group(1)
            last = re.split(r"\.|::|\\", name)[-1]
            for pattern, category, label in _NAMESPACE_TABLE:
                if pattern.search(name):
                    return Cue(category, f"cue:exception-ns:{label}", False, f"{name}", name)
            for pattern, category, label in _SUFFIX_TABLE:
                if pattern.search(last):
                    return Cue(category, f"cue:exception-suffix:{label}", False, f"{name}", name)
    return None


# ------------------------------------------------------------------ errno, gRPC, SQLSTATE, HTTP

_ERRNO: dict[str, Category] = {
    "ECONNREFUSED": Category.NETWORK,
    "ECONNRESET": Category.NETWORK,
    "ECONNABORTED": Category.NETWORK,
    "ETIMEDOUT": Category.NETWORK,
    "EHOSTUNREACH": Category.NETWORK,
    "ENETUNREACH": Category.NETWORK,
    "ENOTFOUND": Category.NETWORK,
    "EAI_AGAIN": Category.NETWORK,
    "EAI_NONAME": Category.NETWORK,
    "EPIPE": Category.NETWORK,
    "EMFILE": Category.RESOURCE_EXHAUSTION,
    "ENFILE": Category.RESOURCE_EXHAUSTION,
    "ENOMEM": Category.RESOURCE_EXHAUSTION,
    "ENOSPC": Category.RESOURCE_EXHAUSTION,
    "EADDRINUSE": Category.CONTAINER_STARTUP,
}
_ERRNO_RE = re.compile(r"\b(" + "|".join(_ERRNO) + r")\b")
# Linux errno numbers as socket libraries print them: "(111: Connection refused)", "[Errno 110]".
_ERRNO_NUMBER = {"111": Category.NETWORK, "110": Category.NETWORK, "104": Category.NETWORK, "113": Category.NETWORK}
_ERRNO_NUMBER_RE = re.compile(r"(?:\[Errno |\()(111|110|104|113)(?:\]|: |\))")

# gRPC status names (google.rpc.Code). Strong when the code says what failed; weak when it only
# says the request was wrong (the caller's configuration, usually: a bad id, a disabled API).
_GRPC: dict[str, tuple[Category, bool]] = {
    "UNAVAILABLE": (Category.NETWORK, False),
    "DEADLINE_EXCEEDED": (Category.TIMEOUT, False),
    "PERMISSION_DENIED": (Category.AUTH, False),
    "UNAUTHENTICATED": (Category.AUTH, False),
    "RESOURCE_EXHAUSTED": (Category.RESOURCE_EXHAUSTION, False),
    # ABORTED is a concurrency conflict: a transaction the database (Firestore, Spanner,
    # Datastore) aborted.
    "ABORTED": (Category.DATABASE, False),
    "INVALID_ARGUMENT": (Category.CONFIGURATION, True),
    "FAILED_PRECONDITION": (Category.CONFIGURATION, True),
    "NOT_FOUND": (Category.CONFIGURATION, True),
}
_GRPC_RE = re.compile(
    r"(?:\b\d{1,2} |StatusCode\.|status(?:Code)?[\"']?[:=] ?[\"']?|\()(" + "|".join(_GRPC) + r")\b"
    r"|\b(" + "|".join(_GRPC) + r"):"
)
_GRPC_CAMEL = {
    "Unavailable": "UNAVAILABLE",
    "DeadlineExceeded": "DEADLINE_EXCEEDED",
    "PermissionDenied": "PERMISSION_DENIED",
    "Unauthenticated": "UNAUTHENTICATED",
    "ResourceExhausted": "RESOURCE_EXHAUSTED",
    "Aborted": "ABORTED",
}
_GRPC_CAMEL_RE = re.compile(r"\b(?:code|Code) ?= ?(" + "|".join(_GRPC_CAMEL) + r")\b")

# SQLSTATE codes (ISO/IEC 9075 classes as PostgreSQL, MySQL and PDO print them): a database
# reported it, whichever class.
_SQLSTATE_RE = re.compile(r"\bSQLSTATE\s*\[?[:=]?\s*([0-9A-Z]{5})\b", re.IGNORECASE)

# A status with its reason phrase, or after "status (code)": the reason phrase makes it a status.
_HTTP_STATUS: dict[str, Category] = {
    "401": Category.AUTH,
    "403": Category.AUTH,
    "407": Category.AUTH,
    "408": Category.TIMEOUT,
    "429": Category.RESOURCE_EXHAUSTION,
    "502": Category.NETWORK,
    "503": Category.NETWORK,
    "504": Category.TIMEOUT,
}
_HTTP_RE = re.compile(
    r"\b(401|403|407|408|429|502|503|504)\)?:? \(?"
    r"(?i:Unauthorized|Forbidden|Proxy Authentication Required|Request Time-?out"
    r"|Too Many Requests|Bad Gateway|Service Unavailable|Gateway Time-?out)\b"
    r"|(?i:status(?: ?code)?|HTTP(?:/[\d.]+)?|response code)[ :=]+\(?(401|403|407|408|429|502|503|504)\b"
)


# ------------------------------------------------------------------ the level word in the text

_LEVELS = {
    "TRACE": "DEBUG",
    "TRCE": "DEBUG",
    "DEBUG": "DEBUG",
    "DBUG": "DEBUG",
    "D": "DEBUG",
    "INFO": "INFO",
    "INFORMATION": "INFO",
    "I": "INFO",
    "NOTICE": "INFO",
    "NORMAL": "INFO",
    "WARN": "WARNING",
    "WARNING": "WARNING",
    "W": "WARNING",
    "DEPRECATED": "WARNING",
    "ERROR": "ERROR",
    "FAIL": "ERROR",
    "E": "ERROR",
    "SEVERE": "ERROR",
    "FATAL ERROR": "ERROR",
    "PARSE ERROR": "ERROR",
    "CRIT": "CRITICAL",
    "CRITICAL": "CRITICAL",
    "FATAL": "CRITICAL",
    "F": "CRITICAL",
    "ALERT": "CRITICAL",
    "EMERG": "CRITICAL",
}
_LEVEL_WORDS = r"TRACE|DEBUG|INFO|NOTICE|WARN(?:ING)?|ERROR|SEVERE|CRIT(?:ICAL)?|FATAL|ALERT|EMERG"
# The prefixes of common loggers, each with one group: the level word.
_LEVEL_PATTERNS = (
    r"^(trce|dbug|info|warn|fail|crit): ",  # ASP.NET Core console logger
    r"^(Information|Warning|Error|Critical|Debug|Trace): ",  # .NET (Microsoft.Extensions.Logging) long names
    r"^([DIWEF]), \[",  # Ruby Logger (Rails)
    r"^([IWEF])\d{4} \d\d:\d\d:\d\d",  # glog / klog (Go)
    r"^PHP (Notice|Warning|Deprecated|Fatal error|Parse error):",  # PHP
    r"\b[a-z]+\.(DEBUG|INFO|NOTICE|WARNING|ERROR|CRITICAL|ALERT|EMERGENCY):",  # Laravel (Monolog)
    r"\[(?:\w+:)?(debug|info|notice|warn|error|crit|alert|emerg)\]",  # nginx, Apache
    r"(?:^|\s)(Normal|Warning)(?:\s{2,}|\t)[A-Z]\w+",  # Kubernetes event tables
    r"^[^\n]{0,60}?\[(" + _LEVEL_WORDS + r")\s*\]",  # a bracketed level: gunicorn "[INFO]", log4j "[WARN ]"
    r"^\s*\S{0,40}?\[?\b(" + _LEVEL_WORDS + r")\b\s*\]?(?::|\s|-)",  # gunicorn, uvicorn, JUL, logback...
    r"^[^\n]{0,60}?(?:\]|\s|-)\s*\[?(" + _LEVEL_WORDS + r")\]?(?::|\s+-|\s{2,}|\s+\[|\s+\w[\w.]*\s+[-:])",
)
_LEVEL_RES = tuple(re.compile(p) for p in _LEVEL_PATTERNS)
_LEVEL_GATE = Gate(_LEVEL_PATTERNS)  # one RE2 scan finds the prefixes a first line may hold


def text_level(text: str) -> str | None:
    """The level a logger wrote into the first line (INFO, WARNING, ...), or None."""
    first = text.lstrip("\n")[:200].split("\n", 1)[0]
    for index in _LEVEL_GATE.possible(first):
        match = _LEVEL_RES[index].search(first)
        if match:
            word = match.group(1).upper()
            return _LEVELS.get(word, _LEVELS.get(word.split()[0]))
    return None


# Words that say something went wrong. A line at INFO that says none of them is not a failure.
# RE2: one linear scan for the whole alternation (Python's re tries each word at each position).
_FAILURE_WORD_RE = re2.compile(
    r"(?i)\b(?:fail(?:ed|ure|s|ing)?|errors?|exception|fatal|panic|crash(?:ed|ing)?|refused|denied|forbidden"
    r"|unauthori[sz]ed|timed? ?out|timeout|unable|cannot|can't|couldn't|could not|invalid|missing|not found|no such"
    r"|unavailable|unreachable|exceeded|exhausted|too many|insufficient|rejected|abort(?:ed|ing)?|killed|back-?off"
    r"|unhealthy|traceback|segmentation|out of memory|not allowed|violation|corrupt"
    r"|terminated|retry(?:ing)?|lost|broken|unexpected(?:ly)?|stuck|hung|degraded|overloaded|dropped|disconnected"
    r"|reset|unhandled|uncaught|slow)\b"
)


def has_failure_word(text: str) -> bool:
    return _FAILURE_WORD_RE.search(text) is not None


# ------------------------------------------------------------------ the stages


# Words of an authentication or authorisation refusal, in any runtime's message (the verb or the
# noun: "authentication failed", PAM's "authentication failure"): weak (the refusal may be the
# caller's fault), but they say what failed.
_AUTH_PHRASE_RE = re.compile(
    r"(?i)\bpermission denied\b|\binvalid_grant\b|\bauthori[sz]ation fail(?:ed|ures?)\b"
    r"|\bauthentication fail(?:ed|ures?)\b|\bnot authenticated\b"
    r"|\btoken is (?:not yet valid|expired|invalid)\b|\blifetime validation failed\b"
)


def _phrase_cue(text: str) -> Cue | None:
    match = _AUTH_PHRASE_RE.search(text)
    if match:
        return Cue(Category.AUTH, "cue:phrase:auth", True, match.group(0))
    return None


# The error line gcloud prints when a deploy command fails: what it rejected is the deployment's
# own input (app.yaml, flags, runtime requirements) unless a signature named something else.
_GCLOUD_DEPLOY_ERROR_RE = re.compile(r"\bERROR: \(gcloud\.[\w.-]*deploy\) ")


def _deploy_cue(text: str) -> Cue | None:
    if "(gcloud." in text and _GCLOUD_DEPLOY_ERROR_RE.search(text):
        return Cue(Category.CONFIGURATION, "cue:gcloud-deploy-error", True, "deployment rejected by gcloud")
    return None


def category_cue(text: str) -> Cue | None:
    """The category a non-request line's cues name (before the catch-all signatures), or None."""
    possible = _TEXT_GATE.possible(text)
    cue = (
        (_exception_cue(useful_lines(text)) if _EXCEPTION in possible else None)
        or (_code_cue(text) if _CODE in possible else None)
        or (_phrase_cue(text) if _PHRASE in possible else None)
        or _deploy_cue(text)
    )
    if cue is None:
        return None
    if cue.category in (Category.NETWORK, Category.TIMEOUT) and _DB_CONTEXT_RE.search(text):
        return Cue(Category.DATABASE, cue.matched_by + "+db-context", cue.weak, cue.summary, cue.exception)
    if cue.category is Category.NETWORK and _WEBSOCKET_CONTEXT_RE.search(text):
        return Cue(Category.WEBSOCKET, cue.matched_by + "+websocket-context", cue.weak, cue.summary, cue.exception)
    return cue


# One cheap scan first: most lines that reach the cues quote no code at all.
_ANY_CODE_RE = re.compile(
    r"\b(?:E[A-Z]{2,}[A-Z_]*|[A-Z]+_[A-Z_]+|UNAVAILABLE|ABORTED|UNAUTHENTICATED|SQLSTATE|sqlstate|[45]0\d|429|40[78])\b"
    r"|code ?= ?[A-Z]|\[Errno 1[01]\d\]|\(11[013]: |\(104: "
)


def _code_cue(text: str) -> Cue | None:
    if _ANY_CODE_RE.search(text) is None:
        return None
    match = _ERRNO_RE.search(text)
    if match:
        return Cue(_ERRNO[match.group(1)], f"cue:errno:{match.group(1)}", False, match.group(1))
    match = _GRPC_RE.search(text)
    if match:
        code = match.group(1) or match.group(2)
        category, weak = _GRPC[code]
        return Cue(category, f"cue:grpc:{code}", weak, code)
    match = _GRPC_CAMEL_RE.search(text)
    if match:
        code = _GRPC_CAMEL[match.group(1)]
        category, weak = _GRPC[code]
        return Cue(category, f"cue:grpc:{code}", weak, code)
    match = _SQLSTATE_RE.search(text)
    if match:
        return Cue(Category.DATABASE, f"cue:sqlstate:{match.group(1)[:2]}", False, f"SQLSTATE {match.group(1)}")
    match = _ERRNO_NUMBER_RE.search(text)
    if match:
        return Cue(_ERRNO_NUMBER[match.group(1)], f"cue:errno:{match.group(1)}", False, f"errno {match.group(1)}")
    match = _HTTP_RE.search(text)
    if match:
        status = match.group(1) or match.group(2)
        return Cue(_HTTP_STATUS[status], f"cue:http-status:{status}", True, f"HTTP {status}")
    return None


# What every runtime says when code dereferences nothing or calls what is not there: an
# application bug whatever the exception class (Ruby, PHP, Go, Java, JavaScript, Python). "is not
# defined" in the runtimes' own wording (JavaScript's ReferenceError, Python's NameError), or said of
# a bare identifier (a logged `err.message`: "fetch is not defined", group `bare`); said of anything
# else it is plain English, what configuration notices say of an optional setting.
_APP_BUG_RE = re.compile(
    r"undefined method [`'][^'\n]*' for nil|for nil:NilClass"
    r"|Call to (?:a member function|undefined (?:function|method)) "
    r"|Undefined (?:variable|index|offset|array key|property)\b|on null\b|Cannot invoke \S+ because \S+ is null"
    r"|nil pointer dereference|assignment to entry in nil map|index out of range|\bPANIC: |^panic: "
    r"|Cannot read propert(?:y|ies) of (?:undefined|null)|is not a function\b"
    r"|ReferenceError: \S+ is not defined\b|\bname '[^'\n]+' is not defined\b"
    r"|(?P<bare>(?:^|: )[A-Za-z_$][\w$]* is not defined\b)|'NoneType' object"
    r"|division by zero|Uninitialized string offset",
    re.MULTILINE,
)


def last_resort_cue(text: str, band: Severity, *, declared_quiet: bool = False) -> Cue | None:
    """After every signature: a null/undefined dereference is an application bug; an exception
    class at ERROR is an application error; an informational or advisory line is noise.

    Informational: a logger's level word in the text says DEBUG or INFO (the logger's own
    verdict, even beside a failure word). Advisory: the level word says WARNING, or there is no
    level word and the record declared INFO/DEBUG (``declared_quiet``), and the line names no
    failure word: a warning that says nothing failed ("field X is not used and should be removed")
    is advice. A record at DEFAULT, NOTICE or WARNING severity without a level word stays
    ``unknown``: DEFAULT says nothing (plain stdout), and a WARNING field alone may be a
    degraded-state signal the text does not spell out.
    """
    possible = _TEXT_GATE.possible(text)
    bug = _APP_BUG_RE.search(text) if _APP_BUG in possible else None
    level = text_level(text)
    if bug is not None and bug.group("bare") and (declared_quiet or level in ("DEBUG", "INFO")):
        bug = None  # a bare "X is not defined" its service calls informational: a notice, not a ReferenceError
    if bug is not None:
        phrase = bug.group(0).strip().removeprefix(": ")
        return Cue(Category.APPLICATION, "cue:app-bug", False, "application bug: " + phrase)
    exception = None
    for line in useful_lines(text) if _EXCEPTION in possible else ():
        exception = _EXCEPTION_RE.search(line)
        if exception is not None:
            break
    if exception is not None:
        if level in ("ERROR", "CRITICAL") or (level is None and band is Severity.ERROR):
            name = exception.group(1)
            return Cue(Category.APPLICATION, "cue:exception", False, f"unhandled {name}", name)
        return None
    if level in ("DEBUG", "INFO"):
        return Cue(Category.NOISE, f"cue:level:{level}", True, "informational line: harmless")
    if level == "WARNING" and not (_FAILURE_WORD in possible and has_failure_word(text)):
        return Cue(Category.NOISE, "cue:level:WARNING", True, "advisory warning naming no failure: harmless")
    if level is None and declared_quiet and not (_FAILURE_WORD in possible and has_failure_word(text)):
        return Cue(Category.NOISE, "cue:severity:INFO", True, "informational line: harmless")
    return None


# The whole-text regexes of the stages above, in one RE2 scan (functions/analysis/classify/gate.py); a
# line that can hold none of them skips their Python searches. The exception gate looks for the class
# name alone (_EXCEPTION_RE adds lookarounds RE2 cannot read), the failure words' gate is the same RE2.
_EXCEPTION, _CODE, _PHRASE, _APP_BUG, _FAILURE_WORD = range(5)
_TEXT_GATE = Gate(
    (
        _EXCEPTION_NAME,
        _ANY_CODE_RE.pattern,
        _AUTH_PHRASE_RE.pattern,
        "(?m)" + _APP_BUG_RE.pattern,
        _FAILURE_WORD_RE.pattern,
    )
)
