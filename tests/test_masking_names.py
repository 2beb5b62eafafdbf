"""Masking keeps what names a failure (exception classes, error codes, status words) and masks values whole.

The lines are written for these tests in the shapes each runtime logs; none is taken from a corpus.
"""

from __future__ import annotations

import pytest

from functions.analysis.templates.failure_names import is_error_code, names_failure
from functions.analysis.templates.miner import TemplateMiner, mask_message

KEPT = [
    # Python
    (
        "requests.exceptions.ReadTimeout: HTTPSConnectionPool(host='payments.internal.example.com', port=443):"
        " Read timed out. (read timeout=10)",
        "requests.exceptions.ReadTimeout: HTTPSConnectionPool(host=<*>, port=<*>): Read timed out. (read timeout=<*>)",
    ),
    (
        "google.api_core.exceptions.ResourceExhausted: 429 Quota exceeded for quota metric 'Write requests'",
        "google.api_core.exceptions.ResourceExhausted: <*> Quota exceeded for quota metric 'Write requests'",
    ),
    (
        'psycopg2.OperationalError: connection to server at "10.20.0.3", port 5432 failed: Connection refused',
        "psycopg2.OperationalError: connection to server at <*>, port <*> failed: Connection refused",
    ),
    (
        "Task exception was never retrieved: <class 'redis.exceptions.ConnectionError'> after 3 retries",
        "Task exception was never retrieved: <class 'redis.exceptions.ConnectionError'> after <*> retries",
    ),
    (
        "retrying publish after grpc.StatusCode.UNAVAILABLE from pubsub.googleapis.com",
        "retrying publish after grpc.StatusCode.UNAVAILABLE from <*>",
    ),
    # Java
    ("Caused by: java.net.SocketTimeoutException: Read timed out", None),
    ("org.postgresql.util.PSQLException: FATAL: sorry, too many clients already", None),
    (
        'Exception in thread "main" java.lang.OutOfMemoryError: Java heap space',
        "Exception in thread <*> java.lang.OutOfMemoryError: Java heap space",
    ),
    (
        "io.grpc.StatusRuntimeException: DEADLINE_EXCEEDED: deadline exceeded after 9.998s",
        "io.grpc.StatusRuntimeException: DEADLINE_EXCEEDED: deadline exceeded after <*>",
    ),
    ("com.zaxxer.hikari.pool.HikariPool$PoolInitializationException: Failed to initialize pool", None),
    ("SQL Error: 0, SQLState: 08001", "SQL Error: <*>, SQLState: 08001"),
    # Node
    ("Error: connect ECONNREFUSED 10.0.0.7:6379", "Error: connect ECONNREFUSED <*>"),
    (
        "{ errno: -3008, code: 'ENOTFOUND', syscall: 'getaddrinfo', hostname: 'db.internal.example.com' }",
        "{ errno: <*>, code: 'ENOTFOUND', syscall: <*>, hostname: <*> }",
    ),
    (
        "request failed code='ERR_SOCKET_CONNECTION_TIMEOUT' after 30000ms",
        "request failed code='ERR_SOCKET_CONNECTION_TIMEOUT' after <*>",
    ),
    ("getaddrinfo EAI_AGAIN redis-master.cache.svc.cluster.local", "getaddrinfo EAI_AGAIN <*>"),
    # Go
    (
        'rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing:'
        ' dial tcp 10.0.0.9:443: connect: connection refused"',
        'rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing:'
        ' dial tcp <*>: connect: connection refused"',
    ),
    (
        "failed to connect to host=10.0.0.3 user=orders database=orders: server error"
        ' (FATAL: too many connections for role "orders" (SQLSTATE 53300))',
        "failed to connect to host=<*> user=orders database=orders: server error"
        " (FATAL: too many connections for role <*> (SQLSTATE 53300))",
    ),
    # Ruby
    (
        'PG::ConnectionBad: connection to server at "10.0.0.3", port 5432 failed: FATAL: too many clients',
        "PG::ConnectionBad: connection to server at <*>, port <*> failed: FATAL: too many clients",
    ),
    ("Faraday::ConnectionFailed: Failed to open TCP connection", None),
    # PHP
    (
        "PHP Fatal error:  Uncaught Illuminate\\Database\\QueryException: SQLSTATE[HY000] [2002] Connection refused",
        "PHP Fatal error: Uncaught Illuminate\\Database\\QueryException: SQLSTATE[HY000] <*> Connection refused",
    ),
    (
        "PDOException: SQLSTATE[08006] [7] could not connect to server",
        "PDOException: SQLSTATE[08006] <*> could not connect to server",
    ),
    # .NET
    (
        "System.Net.Http.HttpRequestException: Connection refused (payments.internal.example.com:443)",
        "System.Net.Http.HttpRequestException: Connection refused <*>",
    ),
    (
        "Npgsql.NpgsqlException (0x80004005): Exception while reading from stream",
        "Npgsql.NpgsqlException (<*>): Exception while reading from stream",
    ),
    (
        "Microsoft.Data.SqlClient.SqlException (0x80131904): A network-related or instance-specific error occurred",
        "Microsoft.Data.SqlClient.SqlException (<*>): A network-related or instance-specific error occurred",
    ),
    ('Grpc.Core.RpcException: Status(StatusCode="Unavailable", Detail="Error connecting to subchannel.")', None),
]


@pytest.mark.parametrize(("message", "masked"), KEPT)
def test_exception_classes_codes_and_statuses_survive_masking(message: str, masked: str | None) -> None:
    assert mask_message(message) == (masked if masked is not None else message)


@pytest.mark.parametrize(
    ("message", "masked"),
    [
        ("host='db.internal.example.com' refused the connection", "host=<*> refused the connection"),
        ('connect(host="10.0.0.3", port=5432)', "connect(host=<*>, port=<*>)"),
        ("KeyError: 'user_id'", "KeyError: <*>"),
        ('relation "orders" does not exist', "relation <*> does not exist"),
        ('connection to server at "10.0.0.3", port 5432', "connection to server at <*>, port <*>"),
        (
            'upstream returned reason="Service Unavailable" status=503',
            'upstream returned reason="Service Unavailable" status=<*>',
        ),
        ("job failed: owner='10.0.0.3 primary'", "job failed: owner='<*> primary'"),
    ],
)
def test_a_quoted_value_is_masked_whole_with_its_quotes(message: str, masked: str) -> None:
    assert mask_message(message) == masked
    for quote in "'\"":
        assert masked.count(quote) % 2 == 0  # no quote left without its partner


@pytest.mark.parametrize(
    ("message", "masked"),
    [
        ("connecting to db.internal.example.com", "connecting to <*>"),  # a host name
        ("lookup of REDIS.PROD.LOCAL failed", "lookup of <*> failed"),  # a host in capitals
        ("loaded handler app.handlers.v2.orders", "loaded handler <*>"),  # a module path with a number
        ("job myapp.jobs.v2.Report loaded", "job <*> loaded"),  # a class that names no failure
        ("starting google-cloud-logging 3.5.0 on python 3.11.7", "starting google-cloud-logging <*> on python <*>"),
        ("SQL Error: 0, code 08006", "SQL Error: <*>, code <*>"),  # five digits not introduced as a SQLSTATE
    ],
)
def test_hosts_module_paths_and_versions_are_still_masked(message: str, masked: str) -> None:
    assert mask_message(message) == masked


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (
            "requests.exceptions.ReadTimeout: HTTPSConnectionPool(host='a.example.com', port=443): Read timed out.",
            "requests.exceptions.ReadTimeout: HTTPSConnectionPool(host='b.example.com', port=8443): Read timed out.",
        ),
        (
            'psycopg2.OperationalError: connection to server at "10.0.0.3", port 5432 failed',
            'psycopg2.OperationalError: connection to server at "10.0.0.4", port 6432 failed',
        ),
        ("lookup db-1.internal.example.com: no such host", "lookup db-2.internal.example.com: no such host"),
    ],
)
def test_lines_of_one_failure_still_group(first: str, second: str) -> None:
    miner = TemplateMiner()
    first_id = miner.add(first)
    assert miner.resolve(miner.add(second)) == miner.resolve(first_id)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("requests.exceptions.ReadTimeout: Read timed out.", "requests.exceptions.ConnectTimeout: Read timed out."),
        ("pgx: server error (SQLSTATE 53300)", "pgx: server error (SQLSTATE 08006)"),
        ("{ code: 'ECONNREFUSED', syscall: 'connect' }", "{ code: 'ETIMEDOUT', syscall: 'connect' }"),
    ],
)
def test_different_failure_names_stay_apart(first: str, second: str) -> None:
    miner = TemplateMiner()
    assert miner.add(first) != miner.add(second)


def test_a_kept_class_name_is_written_with_its_own_digits_in_the_template() -> None:
    miner = TemplateMiner()
    first = miner.add('psycopg2.OperationalError: connection to server at "10.0.0.3", port 5432 failed')
    assert miner.add('psycopg2.OperationalError: connection to server at "10.0.0.9", port 5432 failed') == first
    assert miner.template(first) == "psycopg2.OperationalError: connection to server at <*>, port <*> failed"


@pytest.mark.parametrize(
    ("core", "closing", "named"),
    [
        ("requests.exceptions.ReadTimeout", ":", True),  # labels an exception line
        ("google.api_core.exceptions.DeadlineExceeded", "", True),  # a status as a client library's class
        ("java.lang.OutOfMemoryError", "", True),  # the runtime's suffix for its failures
        ("grpc._channel._InactiveRpcError", "", True),
        ("com.example.billing.Invoice", "", False),  # a class that names no failure, not labelling a line
        ("db.internal.example.com", ":", False),  # a host before a port or a message
        ("ECONNREFUSED", "", True),
        ("EAI_AGAIN", "", True),
        ("ERR_HTTP_HEADERS_SENT", "", True),
        ("user_id", "", False),
        ("0", ":", False),
    ],
)
def test_names_failure_reads_the_class_of_the_token(core: str, closing: str, named: bool) -> None:
    assert names_failure(core, closing) is named


@pytest.mark.parametrize(
    ("word", "code"),
    [
        ("ETIMEDOUT", True),
        ("DEADLINE_EXCEEDED", True),
        ("DeadlineExceeded", True),
        ("Forbidden", True),
        ("ERROR", False),
    ],
)
def test_error_codes_come_from_closed_vocabularies(word: str, code: bool) -> None:
    assert is_error_code(word) is code


@pytest.mark.parametrize("value", ["", "''", '""', "()", "[]"])
def test_empty_and_punctuation_only_values_name_no_failure(value: str) -> None:
    assert names_failure(value.strip("'\"()[]")) is False
    mask_message(f"failed with reason {value}: retry")  # masking an empty quoted value must not raise
