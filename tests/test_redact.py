"""Secret redaction: every secret in the corpus disappears, ordinary log lines stay as they are.

tests/corpus/secrets.jsonl: one realistic log excerpt per line (tracebacks, jsonPayload
dumps, URLs, connection strings, header and env dumps, gRPC metadata, Go/Node/Java
errors) with fake secrets in their real formats; "secrets" lists the substrings that
must disappear, "kinds" the markers that must replace them.
tests/corpus/ordinary.txt: Cloud Run and application log lines full of ids, hashes,
timestamps, revision names and near misses ("token expired", "password: YES",
pageToken=...), none of which may change.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from functions.redaction.redact import REDACTION_KINDS, is_secret_key, marker, redact, redact_mapping

CORPUS = Path(__file__).parent / "corpus"
SECRETS: list[dict[str, Any]] = [
    json.loads(line) for line in (CORPUS / "secrets.jsonl").read_text(encoding="utf-8").splitlines() if line
]
ORDINARY: list[str] = [line for line in (CORPUS / "ordinary.txt").read_text(encoding="utf-8").splitlines() if line]
MARKER_RE = re.compile(r"\[REDACTED:([a-z_]+)\]")


def test_the_corpora_are_large_enough_and_cover_every_kind() -> None:
    assert len(SECRETS) >= 150
    assert len(ORDINARY) >= 300
    covered = {kind for entry in SECRETS for kind in entry["kinds"]}
    assert covered == set(REDACTION_KINDS)


@pytest.mark.parametrize("entry", SECRETS, ids=lambda e: e["line"][:60])
def test_every_annotated_secret_disappears_behind_its_marker(entry: dict[str, Any]) -> None:
    redacted = redact(entry["line"])
    survivors = [secret for secret in entry["secrets"] if secret in redacted]
    assert survivors == [], redacted
    for kind in entry["kinds"]:
        assert marker(kind) in redacted, redacted


def test_no_ordinary_line_is_changed() -> None:
    changed = [(line, redact(line)) for line in ORDINARY if redact(line) != line]
    assert changed == [], "\n".join(f"{a}\n  -> {b}" for a, b in changed)


@pytest.mark.parametrize("text", [e["line"] for e in SECRETS] + ORDINARY[:50])
def test_redaction_is_idempotent_on_the_corpora(text: str) -> None:
    once = redact(text)
    assert redact(once) == once


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # URL passwords: user and host stay
        ("postgresql://app:s3cret@10.12.0.3:5432/netra",
         "postgresql://app:[REDACTED:url_password]@10.12.0.3:5432/netra"),
        ("redis://:R3d1sPw@10.0.0.5:6379/0", "redis://:[REDACTED:url_password]@10.0.0.5:6379/0"),
        ("postgresql://app:p@ss@db:5432/x", "postgresql://app:[REDACTED:url_password]@db:5432/x"),
        ("dsn=shop:s3cr3t@tcp(10.0.0.3:3306)/shop", "dsn=shop:[REDACTED:url_password]@tcp(10.0.0.3:3306)/shop"),
        # key = value in its many spellings
        ("password=hunter2 user=app", "password=[REDACTED:password_pair] user=app"),
        ('{"password": "correct horse"}', '{"password": "[REDACTED:password_pair]"}'),
        ('{\\"password\\": \\"hunter2\\"}', '{\\"password\\": \\"[REDACTED:password_pair]\\"}'),
        ("--password hunter2", "--password [REDACTED:password_pair]"),
        ("config={ password: 'pw1', host: 'db' }", "config={ password: '[REDACTED:password_pair]', host: 'db' }"),
        ("Settings(db_password=Xy9pw12)", "Settings(db_password=[REDACTED:password_pair])"),
        ("pwd=Tr0ub4dor&3x&user=admin", "pwd=[REDACTED:password_pair]&user=admin"),
        ("[('x-api-key', 'k3yK3yK3yK3y99')]", "[('x-api-key', '[REDACTED:password_pair]')]"),
        ("AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
         "AWS_SECRET_ACCESS_KEY=[REDACTED:aws_secret_key]"),
        # headers
        ("Authorization: Basic YWRtaW46aHVudGVyMg==", "Authorization: Basic [REDACTED:basic_auth]"),
        ("Set-Cookie: sid=abc123XYZ; Path=/; HttpOnly", "Set-Cookie: sid=[REDACTED:cookie]; Path=/; HttpOnly"),
        ("https://hooks.slack.com/services/T0AAAAAAA/B0BBBBBBBB/cccccccccccccccccccccccc",
         "https://hooks.slack.com/services/[REDACTED:slack_webhook]"),
        ("mail to bob@example.com failed", "mail to [REDACTED:email] failed"),
        # lower-casing that changes the length (U+0130) takes the case-insensitive path
        ("İstanbul password=hunter2", "İstanbul password=[REDACTED:password_pair]"),
    ],
)  # fmt: skip
def test_redaction_cuts_the_secret_and_keeps_its_context(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("curl -u deploy:Tr0ub4dor3 https://r.example/v2", "curl -u deploy:[REDACTED:cli_password] https://r.example/v2"),
        ("mysql -uroot -pS3cretPw -e 'select 1'", "mysql -uroot -p[REDACTED:cli_password] -e 'select 1'"),
        ("db.internal:5432:netra:app:S3cret", "db.internal:5432:netra:app:[REDACTED:cli_password]"),
        ("postgresql://app:pa#ss w0rd@db:5432/x", "postgresql://app:[REDACTED:url_password]@db:5432/x"),
        ("GET /cart;jsessionid=93685798B37957842E2E21098D259675?item=42",
         "GET /cart;jsessionid=[REDACTED:session]?item=42"),
        ('{"name":"DB_PASSWORD","value":"hunter2"}', '{"name":"DB_PASSWORD","value":"[REDACTED:password_pair]"}'),
        ('{"password":{"value":"hunter2"}}', '{"password":{"value":"[REDACTED:password_pair]"}}'),
        ('"set-cookie":["sid=abcDEF123; Path=/"]', '"set-cookie":["sid=[REDACTED:cookie]; Path=/"]'),
        ("GET /reset/MTI0/p07jfz-9fd2179837de27b9a615c1a5ec6cc16d/ 400",
         "GET /reset/MTI0/[REDACTED:url_token]/ 400"),
        # a line of a PEM body (64) or an OpenSSH key (70) logged alone; a hex digest of the same length is kept
        ("LXicaBAg8WY1jzIRlNQb0prFmbh7+wy5yq1XoY1BaIMcAxYmfsB4HbQLXjjlAFbV", "[REDACTED:private_key]"),
        ("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
         "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"),
        # lower-case-only tokens: random letters go, words run together stay
        ("token=wsavjkgtwlwkkzgpwkaozzsjtqlhrhtt", "token=[REDACTED:password_pair]"),
        ("token=internalservererrorhappened", "token=internalservererrorhappened"),
    ],
)  # fmt: skip
def test_more_shapes_lose_the_secret_and_keep_their_context(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "trace=projects/netra-staging/traces/28aa953fa1f2991be95301717a3e65bc spanId=5024fe1f77957d35",
        "request 4c7d1a2e-8f3b-4c21-9a5e-1b2c3d4e5f60 on netra-backend-staging-00742-b95",
        "image@sha256:3f1c2a9b8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a",
        "commit 9fceb02d0ae598e95dc970b74767f19372d61af8 deployed at 2025-09-16T01:42:17.868096Z",
        "Access denied for user 'app'@'10.0.0.3' (using password: YES)",
        'FATAL:  password authentication failed for user "netra_app"',
        "token expired for session 4c7d1a2e-8f3b-4c21-9a5e-1b2c3d4e5f60; refreshing",
        "pageToken=CiAKGjBpNDd2Nmp2Zml2cXRi pageSize=1000",
        "prompt_tokens=1532 completion_tokens=211 max_tokens=4096",
        "password=*** api_key=None token=<redacted> DB_PASSWORD=${DB_PASSWORD}",
        "secret: projects/123456789012/secrets/db-password/versions/latest",
        "PWD=/workspace GOOGLE_APPLICATION_CREDENTIALS=/var/secrets/google/key.json",
        "principal netra-backend@netra-staging.iam.gserviceaccount.com lacks run.services.get",
        "Cloning into 'src' from git@github.com:netra-systems/netra-apex.git",
        "member serviceAccount:sitrep@netra-staging.iam.gserviceaccount.com role roles/logging.viewer",
        "image api:v1.42.0@sha256:3f1c2a9b8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a",
        'WWW-Authenticate: Bearer realm="netra", error="invalid_token"',
        "Authorization: Bearer [REDACTED:jwt]",
    ],
)
def test_ordinary_information_is_left_alone(text: str) -> None:
    assert redact(text) == text


def test_redact_mapping_hides_secret_keys_and_never_mutates_its_input() -> None:
    payload: dict[str, object] = {
        "user": "netra_app",
        "password": "hunter2",
        "headers": {"Authorization": "Bearer abcDEF123456ghiJKL", "x-request-id": "req-42"},
        "attempts": [1, "https://app:s3cret@db.internal/x"],
        "nextPageToken": "CiAKGjBpNDd2Nmp2Zml2cXRi",
    }
    snapshot = json.loads(json.dumps(payload))
    assert redact_mapping(payload) == {
        "user": "netra_app",
        "password": marker("password_pair"),
        "headers": {"Authorization": "Bearer [REDACTED:bearer]", "x-request-id": "req-42"},
        "attempts": [1, "https://app:[REDACTED:url_password]@db.internal/x"],
        "nextPageToken": "CiAKGjBpNDd2Nmp2Zml2cXRi",
    }
    assert payload == snapshot


@pytest.mark.parametrize(
    ("key", "secret"),
    [
        ("password", True), ("DB_PASSWORD", True), ("clientSecret", True), ("x-api-key", True),
        ("private_key_id", True), ("X-Goog-Signature", True), ("pageToken", False),
        ("nextPageToken", False), ("token_type", False), ("cache_key", False), ("bypass", False),
    ],
)  # fmt: skip
def test_is_secret_key_reads_the_last_word_of_the_key(key: str, secret: bool) -> None:
    assert is_secret_key(key) is secret


# Fragments that make random text look like the places secrets hide.
FRAGMENTS = [
    "password=", "pwd: ", '"token": "', "'", '"', "\\", "\\\"", " ", "\n", "=", ":", ",", ";", "&", "@", "://",
    "Bearer ", "Basic ", "Authorization: ", "Set-Cookie: ", "--secret ", "eyJhbGciOi", ".", "xoxb-1-2-",
    "AKIA", "ghp_", "-----BEGIN PRIVATE KEY-----", "-----END PRIVATE KEY-----", "[REDACTED:email]",
    "[REDACTED:", "]", "user", "abcDEF123", "YWRtaW46cHc=", "example.com", "(", ")", "{", "}", "İ",
]  # fmt: skip
texts = st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=6), max_size=40).map("".join)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts)
def test_redact_never_raises_is_idempotent_and_grows_boundedly(text: str) -> None:
    once = redact(text)
    assert redact(once) == once
    # the shortest secret ("pwd=x") grows by one marker at most: a constant factor
    assert len(once) <= 6 * len(text) + 32
    assert {kind for kind in MARKER_RE.findall(once)} <= set(REDACTION_KINDS) | set(MARKER_RE.findall(text))


HUGE = 100_000
PATHOLOGICAL = [
    "a" * HUGE,
    "password=" * (HUGE // 9),
    "eyJ" + "a" * (HUGE // 2) + "." + "b" * (HUGE // 2),
    "-----BEGIN PRIVATE KEY-----" + "A" * HUGE,
    "x@" * (HUGE // 2),
    "https://" + "a:" * (HUGE // 2) + "@",
    ("token: " + "a" * 59 + " ") * (HUGE // 67),
    '"password": "' + "\\\\" * (HUGE // 2),
    "Cookie: " + "a=b;" * (HUGE // 4),
    ("a." * 32 + "@") * (HUGE // 65),
    "Authorization: " + "Bearer " * (HUGE // 7),
    ("x" * 60 + "password=") * (HUGE // 69),
    "'" + "', '" * (HUGE // 4),
    # the shapes of functions.redaction.shapes
    "aB3+" * (HUGE // 4),
    "MIIEvQIBA" + "aB3/" * (HUGE // 4),
    "Private-Lines: 9\n" + ("aB3+" * 16 + "\n") * (HUGE // 65),
    "curl" + " -u a:" * (HUGE // 6),
    "redis-cli" + " -a" * (HUGE // 3),
    "a:1:b:c:" * (HUGE // 8),
    "postgresql://u:" + "a@" * (HUGE // 2),
    ("postgresql://u:" + "x " * 60) * (HUGE // 135),
    "&session=" + "a" * HUGE,
    "/reset/" + "abc/" * (HUGE // 4),
    '{"name":"DB_PASSWORD","value":"' + "a" * HUGE,
    '{"password":{"value":"' * (HUGE // 21),
    "name: X\n value: " * (HUGE // 16),
    '"set-cookie":[' + '"a=b",' * (HUGE // 6),
    "[REDACTED:aws_access_key] " * (HUGE // 26),
    "MT" + "a" * 25 + "." + "b" * 6 + "." + ("c" * 30 + ".") * (HUGE // 31),
    ".webhook.office.com/webhookb2/" + "a@/" * (HUGE // 3),
]


@pytest.mark.parametrize("text", PATHOLOGICAL, ids=lambda t: repr(t[:24]))
def test_huge_adversarial_lines_finish(text: str) -> None:
    once = redact(text)
    assert redact(once) == once
