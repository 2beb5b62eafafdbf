"""Classification: real-world phrasings -> category, signature and entities."""

# The tables below quote real log lines verbatim; wrapping them would hide what they are.
# ruff: noqa: E501

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
import re2

from functions.analysis.classify.classifier import (
    HTTP_OK_SIGNATURE,
    MAX_MESSAGE_CHARS,
    UNKNOWN_SIGNATURE,
    Classifier,
    is_failure,
    is_ok,
)
from functions.analysis.classify.signature_files import load_signatures
from functions.core.model import Category, LogRecord, Severity
from functions.entry.wiring import core
from tests.signature_tools import action_for, naive_classify

SIGNATURES = load_signatures()
CLASSIFIER = Classifier(SIGNATURES)


@dataclass(frozen=True)
class Case:
    message: str
    signature: str
    entities: dict[str, str] = field(default_factory=dict)
    status: int | None = None
    severity: str = "ERROR"


def tb(*frames: str, final: str) -> str:
    """A Python traceback with the given frame lines and final exception line."""
    body = "".join(f'  File "{f}", line 10, in handler\n    do_it()\n' for f in frames)
    return f"Traceback (most recent call last):\n{body}{final}"


GUNICORN_IMPORT_CRASH = (
    "Traceback (most recent call last):\n"
    '  File "/usr/local/lib/python3.11/site-packages/gunicorn/arbiter.py", line 609, in spawn_worker\n'
    "    worker.init_process()\n"
    '  File "/usr/local/lib/python3.11/site-packages/gunicorn/util.py", line 371, in import_app\n'
    "    mod = importlib.import_module(module)\n"
    '  File "/usr/local/lib/python3.11/importlib/__init__.py", line 126, in import_module\n'
    "    return _bootstrap._gcd_import(name[level:], package, level)\n"
    '  File "<frozen importlib._bootstrap>", line 241, in _call_with_frames_removed\n'
    '  File "/app/main.py", line 7, in <module>\n'
    "    app = create_app(settings)\n"
    "NameError: name 'settings' is not defined"
)

ASYNCPG_TIMEOUT = (
    "Traceback (most recent call last):\n"
    '  File "/app/db.py", line 12, in connect\n'
    "    conn = await asyncpg.connect(dsn, timeout=15)\n"
    '  File "/usr/local/lib/python3.11/site-packages/asyncpg/connection.py", line 2329, in connect\n'
    "    return await connect_utils._connect(\n"
    '  File "/usr/local/lib/python3.11/asyncio/tasks.py", line 479, in wait_for\n'
    "    raise exceptions.TimeoutError() from exc\n"
    "TimeoutError"
)

# One row per real-world phrasing. Every signature in functions/analysis/classify/signatures.d/ must appear here
# (test_every_signature_has_a_positive_example).
POSITIVES: list[Case] = [
    # noise (specific)
    Case("Sentry SDK not available", "optional-sdk-unavailable", {"module": "Sentry SDK"}, severity="WARNING"),
    Case("sentry_sdk not installed, error reporting disabled", "optional-sdk-unavailable", {"module": "sentry_sdk"}),
    Case("WARNING: OpenTelemetry is not installed; tracing disabled", "optional-sdk-unavailable", {"module": "OpenTelemetry"}),
    Case("Google Cloud Profiler not available: No module named 'googlecloudprofiler'", "optional-sdk-unavailable"),
    Case("uvloop not installed, falling back to the asyncio event loop", "optional-dependency-fallback", {"module": "uvloop"}),
    Case("Optional dependency 'orjson' is not installed; using the standard json module", "optional-dependency-fallback"),
    Case("LOG_LEVEL not set, defaulting to INFO", "setting-defaulted", severity="WARNING"),
    Case("REDIS_URL is not set, using default redis://localhost:6379/0", "setting-defaulted"),
    Case("WARNING: All log messages before absl::InitializeLog() is called are written to STDERR", "grpc-absl-notice"),
    Case("I0000 00:00:1718000000.123456 1 fork_posix.cc:77] Other threads are currently calling into gRPC, skipping fork() handlers", "grpc-absl-notice"),
    Case("Transient error StatusCode.UNAVAILABLE encountered while exporting traces to localhost:4317, retrying in 1s.", "telemetry-export-failed"),
    Case("Failed to export batch code: 503, reason: Service Unavailable", "telemetry-export-failed"),
    # dependency_missing
    Case("ModuleNotFoundError: No module named 'auth_service'", "python-module-not-found", {"module": "auth_service"}),
    Case("ImportError: No module named flask_cors", "python-module-not-found", {"module": "flask_cors"}),
    Case("ImportError: Missing optional dependency 'pyarrow'.  Use pip or conda to install pyarrow.", "python-module-not-found", {"module": "pyarrow"}),
    Case(tb("/app/main.py", final="ModuleNotFoundError: No module named 'auth_service.middleware'"), "python-module-not-found", {"module": "auth_service.middleware"}),
    Case("ImportError: cannot import name 'soft_unicode' from 'markupsafe' (/usr/local/lib/python3.11/site-packages/markupsafe/__init__.py)", "python-cannot-import-name", {"module": "markupsafe"}),
    Case("pkg_resources.DistributionNotFound: The 'google-cloud-storage>=2.0' distribution was not found and is required by the application", "python-distribution-not-found", {"module": "google-cloud-storage>=2.0"}),
    Case("importlib.metadata.PackageNotFoundError: No package metadata was found for functions-framework", "python-distribution-not-found", {"module": "functions-framework"}),
    Case("ImportError: libGL.so.1: cannot open shared object file: No such file or directory", "shared-library-missing", {"module": "libGL.so.1"}),
    Case("/app/server: error while loading shared libraries: libssl.so.1.1: cannot open shared object file: No such file or directory", "shared-library-missing", {"module": "libssl.so.1.1"}),
    Case("Error: Cannot find module 'express'\nRequire stack:\n- /app/index.js", "node-module-not-found", {"module": "express"}),
    Case("Error [ERR_MODULE_NOT_FOUND]: Cannot find package 'dotenv' imported from /app/server.mjs", "node-module-not-found", {"module": "dotenv"}),
    Case('Exception in thread "main" java.lang.NoClassDefFoundError: org/slf4j/LoggerFactory', "java-class-not-found", {"module": "org/slf4j/LoggerFactory"}),
    Case("Error: Could not find or load main class com.example.Application", "java-class-not-found", {"module": "com.example.Application"}),
    Case('exec: "gunicorn": executable file not found in $PATH', "executable-not-found", {"module": "gunicorn"}),
    Case("/bin/sh: 1: uvicorn: not found", "executable-not-found", {"module": "uvicorn"}),
    Case("exec /app/server: no such file or directory", "executable-not-found", {"module": "/app/server"}),
    Case("<internal:/usr/local/lib/ruby/3.2.0/rubygems/core_ext/kernel_require.rb>:85:in `require': cannot load such file -- sinatra (LoadError)", "script-dependency-not-found", {"module": "sinatra"}),
    Case('PHP Fatal error:  Uncaught Error: Class "App\\Kernel" not found in /app/public/index.php:5', "script-dependency-not-found", {"module": "App\\Kernel"}),
    # configuration
    Case("Missing required environment variable: DATABASE_URL", "env-var-missing", {"env_var": "DATABASE_URL"}),
    Case("Environment variable JWT_SECRET is not set", "env-var-missing", {"env_var": "JWT_SECRET"}),
    Case("RuntimeError: DATABASE_URL environment variable is not set", "env-var-missing", {"env_var": "DATABASE_URL"}),
    Case("ValueError: SECRET_KEY must be set", "env-var-missing", {"env_var": "SECRET_KEY"}),
    Case('env: required environment variable "API_TOKEN" is not set', "env-var-missing", {"env_var": "API_TOKEN"}),
    Case("envconfig: required key DATABASE_URL missing value", "env-var-missing", {"env_var": "DATABASE_URL"}),
    Case("django.core.exceptions.ImproperlyConfigured: The SECRET_KEY setting must not be empty.", "env-var-missing", {"env_var": "SECRET_KEY"}),
    Case("Error: Missing environment variables: STRIPE_KEY, STRIPE_SECRET", "env-var-missing", {"env_var": "STRIPE_KEY"}),
    Case(tb("/app/config.py", final="KeyError: 'DATABASE_URL'"), "env-var-keyerror", {"env_var": "DATABASE_URL"}),
    Case("pydantic_core._pydantic_core.ValidationError: 1 validation error for Settings\ndatabase_url\n  Field required [type=missing, input_value={}, input_type=dict]", "settings-validation-failed", {"env_var": "database_url"}),
    Case("spec.template.spec.containers[0].env[2].value_from.secret_key_ref.name: Secret projects/123456789/secrets/slack-bot-token/versions/latest was not found", "secret-not-found", {"env_var": "slack-bot-token"}),
    Case("google.api_core.exceptions.NotFound: 404 Secret [projects/123/secrets/db-password] not found or has no versions.", "secret-not-found", {"env_var": "db-password"}),
    Case("SERVICE_ID contained whitespace", "setting-invalid-value", {"env_var": "SERVICE_ID"}, severity="WARNING"),
    Case("SERVICE_ID contained whitespace - stripped to 'netra-backend'", "setting-invalid-value", {"env_var": "SERVICE_ID"}),
    Case("Invalid value for environment variable PORT: 'eighty'", "setting-invalid-value", {"env_var": "PORT"}),
    Case("ALLOWED_ORIGINS is not a valid JSON list", "setting-invalid-value", {"env_var": "ALLOWED_ORIGINS"}),
    Case("google.api_core.exceptions.InvalidArgument: 400 Invalid project ID 'my project'", "setting-invalid-value"),
    Case("FileNotFoundError: [Errno 2] No such file or directory: '/secrets/service-account.json'", "config-file-missing", {"path": "/secrets/service-account.json"}),
    Case("Error: ENOENT: no such file or directory, open '/app/config/production.json'", "config-file-missing", {"path": "/app/config/production.json"}),
    Case('java.lang.IllegalArgumentException: Could not resolve placeholder \'DB_PASSWORD\' in value "${DB_PASSWORD}"', "config-placeholder-unresolved", {"env_var": "DB_PASSWORD"}),
    Case("google.api_core.exceptions.NotFound: 404 Resource not found (resource=orders-topic).", "gcp-resource-not-found"),
    Case("google.api_core.exceptions.NotFound: 404 GET https://storage.googleapis.com/storage/v1/b/acme-uploads?projection=noAcl: The specified bucket does not exist.", "gcp-resource-not-found"),
    Case("django.core.exceptions.ImproperlyConfigured: Requested setting INSTALLED_APPS, but settings are not configured.", "improperly-configured", {"exception": "django.core.exceptions.ImproperlyConfigured"}),
    # tls
    Case("ssl.SSLCertVerificationError: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: certificate has expired (_ssl.c:1006)", "tls-certificate-expired"),
    Case("Error: certificate has expired\n    at TLSSocket.onConnectSecure (node:_tls_wrap:1674:34)", "tls-certificate-expired"),
    Case('Get "https://billing.internal.example.com/v1/invoices": x509: certificate has expired or is not yet valid: current time 2025-12-02T00:04:17Z is after 2025-12-02T00:00:00Z', "tls-certificate-expired", {"host": "billing.internal.example.com"}),
    Case('Post "https://api.partner.io:8443/v2/charge": tls: failed to verify certificate: x509: certificate has expired or is not yet valid: current time 2026-01-03T10:00:00Z is after 2026-01-01T00:00:00Z', "tls-certificate-expired", {"host": "api.partner.io", "port": "8443"}),
    Case("2025/12/02 00:04:17 http: proxy error: tls: failed to verify certificate: x509: certificate has expired or is not yet valid: current time 2025-12-02T00:04:17Z is after 2025-12-02T00:00:00Z", "tls-certificate-expired"),
    Case('ledger.v1.Ledger/Post (ledger.internal.example.com:443): rpc error: code = Unavailable desc = connection error: desc = "transport: authentication handshake failed: tls: failed to verify certificate: x509: certificate has expired or is not yet valid"', "tls-certificate-expired", {"host": "ledger.internal.example.com", "port": "443"}),
    Case("requests.exceptions.SSLError: HTTPSConnectionPool(host='hooks.vendor.com', port=443): Max retries exceeded with url: /v1 (Caused by SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: certificate has expired (_ssl.c:1006)')))", "tls-certificate-expired", {"host": "hooks.vendor.com", "port": "443"}),
    Case("javax.net.ssl.SSLHandshakeException: PKIX path validation failed: java.security.cert.CertPathValidatorException: validity check failed", "tls-certificate-expired"),
    Case("System.Security.Authentication.AuthenticationException: The remote certificate is invalid because of errors in the certificate chain: NotTimeValid", "tls-certificate-expired"),
    Case("Error: self-signed certificate in certificate chain", "tls-self-signed-certificate"),
    Case("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self signed certificate in certificate chain (_ssl.c:1129)", "tls-self-signed-certificate"),
    Case("ssl.SSLCertVerificationError: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: Hostname mismatch, certificate is not valid for 'api.internal.example.com'. (_ssl.c:1006)", "tls-hostname-mismatch", {"host": "api.internal.example.com"}),
    Case("x509: certificate is valid for *.run.app, not api.example.com", "tls-hostname-mismatch", {"host": "api.example.com"}),
    Case("Error [ERR_TLS_CERT_ALTNAME_INVALID]: Hostname/IP does not match certificate's altnames: Host: api.example.com. is not in the cert's altnames: DNS:*.example.org", "tls-hostname-mismatch", {"host": "api.example.com"}),
    Case("requests.exceptions.SSLError: HTTPSConnectionPool(host='payments.example.com', port=443): Max retries exceeded with url: /v1/charge (Caused by SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local issuer certificate (_ssl.c:1006)')))", "tls-certificate-verify-failed", {"host": "payments.example.com", "port": "443"}),
    Case('Get "https://api.example.com/v1/items": tls: failed to verify certificate: x509: certificate signed by unknown authority', "tls-certificate-verify-failed", {"host": "api.example.com"}),
    Case("javax.net.ssl.SSLHandshakeException: PKIX path building failed: sun.security.provider.certpath.SunCertPathBuilderException: unable to find valid certification path to requested target", "tls-certificate-verify-failed"),
    Case("ssl.SSLError: [SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)", "tls-handshake-failed", {"exception": "WRONG_VERSION_NUMBER"}),
    Case("remote error: tls: handshake failure", "tls-handshake-failed"),
    Case("Error: write EPROTO 139872:error:0A00010B:SSL routines:ssl3_get_record:wrong version number", "tls-handshake-failed"),
    # database
    Case('psycopg2.OperationalError: connection to server on socket "/cloudsql/my-proj:us-central1:main-db/.s.PGSQL.5432" failed: No such file or directory\n\tIs the server running locally and accepting connections on that socket?', "cloudsql-socket-connect-failed", {"host": "my-proj:us-central1:main-db", "port": "5432"}),
    Case("dial unix /cloudsql/acme:us-east1:orders/.s.PGSQL.5432: connect: no such file or directory", "cloudsql-socket-connect-failed", {"host": "acme:us-east1:orders"}),
    Case("Mysql2::Error::ConnectionError: Can't connect to local MySQL server through socket '/cloudsql/acme:us-east1:orders' (2)", "cloudsql-socket-connect-failed", {"host": "acme:us-east1:orders"}),
    Case('Cloud SQL connection failed. Please see https://cloud.google.com/sql/docs/mysql/connect-run for additional details: ensure that the account has access to "my-proj:us-central1:main-db"', "cloudsql-connection-failed"),
    Case('failed to connect to instance: Dial error: failed to dial (connection name = "my-proj:us-central1:main-db"): dial tcp 10.20.0.3:3307: i/o timeout', "cloudsql-connection-failed", {"host": "my-proj:us-central1:main-db"}),
    Case("sqlalchemy.exc.TimeoutError: QueuePool limit of size 5 overflow 10 reached, connection timed out, timeout 30.00 (Background on this error at: https://sqlalche.me/e/20/3o7r)", "db-pool-exhausted", {"timeout_s": "30"}),
    Case("HikariPool-1 - Connection is not available, request timed out after 30000ms.", "db-pool-exhausted", {"timeout_s": "30"}),
    Case("Timed out fetching a new connection from the connection pool. More info: http://pris.ly/d/connection-pool", "db-pool-exhausted"),
    Case("java.sql.SQLTransientConnectionException: HikariPool-1 - Connection is not available, request timed out after 30000ms (total=0, active=0, idle=0, waiting=12).", "db-pool-exhausted", {"timeout_s": "30"}),
    Case("org.springframework.transaction.CannotCreateTransactionException: Could not open JPA EntityManager for transaction\n\tat org.springframework.orm.jpa.JpaTransactionManager.doBegin(JpaTransactionManager.java:466)\nCaused by: org.hibernate.exception.JDBCConnectionException: Unable to acquire JDBC Connection [HikariPool-1 - Connection is not available, request timed out after 30000ms (total=10, active=10, idle=0, waiting=38).] [n/a]", "db-pool-exhausted", {"timeout_s": "30"}),
    Case("org.apache.tomcat.jdbc.pool.PoolExhaustedException: [http-nio-8080-exec-7] Timeout: Pool empty. Unable to fetch a connection in 30 seconds, none available[size:100; busy:100; idle:0; lastwait:30000].", "db-pool-exhausted", {"timeout_s": "30"}),
    Case("java.sql.SQLException: An attempt by a client to checkout a Connection has timed out.", "db-pool-exhausted"),
    Case("KnexTimeoutError: Knex: Timeout acquiring a connection. The pool is probably full. Are you missing a .transacting(trx) call?", "db-pool-exhausted"),
    Case("System.InvalidOperationException: Timeout expired.  The timeout period elapsed prior to obtaining a connection from the pool.  This may have occurred because all pooled connections were in use and max pool size was reached.", "db-pool-exhausted"),
    Case("SequelizeConnectionAcquireTimeoutError: Operation timeout", "db-pool-exhausted"),
    Case("Npgsql.NpgsqlException (0x80004005): The connection pool has been exhausted, either raise 'Max Pool Size' (currently 20) or 'Timeout' (currently 15 seconds) in your connection string.", "db-pool-exhausted", {"timeout_s": "15"}),
    Case("MySqlConnector.MySqlException (0x80004005): Connect Timeout expired. All pooled connections are in use.", "db-pool-exhausted"),
    Case("ActiveRecord::ConnectionTimeoutError (could not obtain a connection from the pool within 5.000 seconds (waited 5.001 seconds); all pooled connections were in use):", "db-pool-exhausted", {"timeout_s": "5"}),
    Case("psycopg_pool.PoolTimeout: couldn't get a connection after 30.00 sec", "db-pool-exhausted", {"timeout_s": "30"}),
    Case("redis: connection pool exhausted", "db-pool-exhausted"),
    Case("SQL Error: 0, SQLState: 08001", "db-sqlstate-connection-error", severity="WARNING"),
    Case("SQLSTATE[08006] [7] could not send SSL negotiation packet", "db-sqlstate-connection-error"),
    Case("failed to connect to `host=10.0.0.3 user=app database=orders`: dial error (dial tcp 10.0.0.3:5432: connect: connection timed out)", "db-endpoint-unreachable", {"host": "10.0.0.3", "port": "5432"}),
    Case('psycopg2.OperationalError: connection to server at "10.20.0.3", port 5432 failed: FATAL:  sorry, too many clients already', "db-too-many-connections"),
    Case("pymysql.err.OperationalError: (1040, 'Too many connections')", "db-too-many-connections"),
    Case("FATAL:  remaining connection slots are reserved for non-replication superuser connections", "db-too-many-connections"),
    Case('ActiveRecord::ConnectionNotEstablished (connection to server on socket "/cloudsql/acme:europe-west1:shop-pg/.s.PGSQL.5432" failed: FATAL:  sorry, too many clients already', "db-too-many-connections", {"host": "acme:europe-west1:shop-pg", "port": "5432"}),
    Case("failed to connect to `host=10.20.0.3 user=app database=orders`: server error (FATAL: remaining connection slots are reserved for non-replication superuser connections (SQLSTATE 53300))", "db-too-many-connections"),
    Case("Npgsql.PostgresException (0x80004005): 53300: sorry, too many clients already", "db-too-many-connections"),
    Case("org.postgresql.util.PSQLException: FATAL: sorry, too many clients already", "db-too-many-connections"),
    Case("SQLSTATE[HY000] [1040] Too many connections", "db-too-many-connections"),
    Case("[2025-11-20 10:36:55] production.ERROR: SQLSTATE[HY000] [2002] Connection timed out (Connection: mysql, SQL: select * from `sessions` where `id` = 1 limit 1)", "php-mysql-connect-failed"),
    Case("SQLSTATE[HY000] [2002] Connection refused (Connection: mysql, Host: 10.24.0.5, Port: 3306, Database: portal, SQL: select * from `users`)", "php-mysql-connect-failed", {"host": "10.24.0.5", "port": "3306"}),
    Case("[previous exception] [object] (PDOException(code: 2002): SQLSTATE[HY000] [2002] Connection timed out at /var/www/html/vendor/laravel/framework/src/Illuminate/Database/Connectors/Connector.php:66)", "php-mysql-connect-failed"),
    Case("PHP Warning:  mysqli::real_connect(): (HY000/2002): Connection refused in /srv/app/db.php on line 12", "php-mysql-connect-failed"),
    Case("#0 /srv/app/vendor/doctrine/dbal/src/Driver/PDO/MySQL/Driver.php(28): PDO->__construct('mysql:host=db.internal;port=3307;dbname=shop', 'shop', Object(SensitiveParameterValue), Array)\nDoctrine\\DBAL\\Exception\\ConnectionException: SQLSTATE[HY000] [2002] Connection refused", "php-mysql-connect-failed", {"host": "db.internal", "port": "3307"}),
    Case('psycopg2.OperationalError: connection to server at "10.20.0.3", port 5432 failed: FATAL:  password authentication failed for user "app"', "db-authentication-failed"),
    Case("pymysql.err.OperationalError: (1045, \"Access denied for user 'app'@'10.8.0.2' (using password: YES)\")", "db-authentication-failed"),
    Case("WRONGPASS invalid username-password pair or user is disabled.", "db-authentication-failed"),
    Case('FATAL:  database "orders" does not exist', "db-database-missing"),
    Case("(1049, \"Unknown database 'orders'\")", "db-database-missing"),
    Case('psycopg2.errors.UndefinedTable: relation "users" does not exist\nLINE 1: SELECT * FROM users\n                      ^', "db-schema-missing"),
    Case("sqlite3.OperationalError: no such table: users", "db-schema-missing"),
    Case("Database connection timeout after 15s", "db-connection-timeout", {"timeout_s": "15"}),
    Case("Connection to database timed out after 30 seconds", "db-connection-timeout", {"timeout_s": "30"}),
    Case("DB connection timeout (15000ms) while initialising auth service", "db-connection-timeout", {"timeout_s": "15"}),
    Case('psycopg2.OperationalError: connection to server at "10.20.0.3", port 5432 failed: timeout expired', "db-connection-timeout", {"host": "10.20.0.3", "port": "5432"}),
    Case("Error: timeout exceeded when trying to connect\n    at /app/node_modules/pg-pool/index.js:45:11", "db-connection-timeout"),
    Case(ASYNCPG_TIMEOUT, "db-connection-timeout"),
    Case("Database connection timeout after 15.0 seconds (host=10.12.0.3 port=5432 db=netra_auth attempt=3/3)", "db-connection-timeout", {"timeout_s": "15", "host": "10.12.0.3", "port": "5432"}),
    Case("asyncpg: timed out after 15.0 seconds connecting to 10.12.0.3:5432 (database=netra_auth)", "db-connection-timeout", {"timeout_s": "15", "host": "10.12.0.3", "port": "5432"}),
    Case("sqlalchemy.exc.TimeoutError: (sqlalchemy.dialects.postgresql.asyncpg.Error) <class 'asyncio.exceptions.TimeoutError'>: connecting to 10.12.0.3:5432 timed out after 15.0 seconds", "db-connection-timeout", {"timeout_s": "15", "host": "10.12.0.3", "port": "5432"}),
    Case("failed to connect to `host=10.20.0.3 user=app database=app`: dial error (dial tcp 10.20.0.3:5432: connect: connection refused)", "db-endpoint-unreachable", {"host": "10.20.0.3", "port": "5432"}),
    Case("Error: connect ECONNREFUSED 127.0.0.1:5432\n    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1555:16)", "db-endpoint-unreachable", {"host": "127.0.0.1", "port": "5432"}),
    Case("ConnectionRefusedError: [Errno 111] Connect call failed ('10.20.0.3', 5432)", "db-endpoint-unreachable", {"host": "10.20.0.3", "port": "5432"}),
    Case('psycopg2.OperationalError: connection to server at "10.20.0.3", port 5432 failed: Connection refused\n\tIs the server running on that host and accepting TCP/IP connections?', "db-endpoint-unreachable", {"host": "10.20.0.3", "port": "5432"}),
    Case("pymysql.err.OperationalError: (2003, \"Can't connect to MySQL server on 'db.internal' ([Errno 111] Connection refused)\")", "db-endpoint-unreachable", {"host": "db.internal"}),
    Case("redis.exceptions.ConnectionError: Error 111 connecting to 10.0.0.4:6379. Connection refused.", "db-endpoint-unreachable", {"host": "10.0.0.4", "port": "6379"}),
    Case("redis.exceptions.ConnectionError: Error -2 connecting to redis:6379. Name or service not known.", "db-endpoint-unreachable", {"host": "redis", "port": "6379"}),
    Case("org.postgresql.util.PSQLException: Connection to localhost:5432 refused. Check that the hostname and port are correct and that the postmaster is accepting TCP/IP connections.", "db-endpoint-unreachable", {"host": "localhost", "port": "5432"}),
    Case('sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) could not translate host name "db" to address: Name or service not known', "db-endpoint-unreachable", {"host": "db"}),
    Case("redis.exceptions.TimeoutError: Timeout reading from socket", "redis-unavailable", {"exception": "TimeoutError"}),
    Case("[ioredis] Unhandled error event: Error: connect ETIMEDOUT", "redis-unavailable"),
    Case('failed to load cart c_123: MaxRetriesPerRequestError: Reached the max retries per request limit (which is 20). Refer to "maxRetriesPerRequest" option for details.', "redis-unavailable", {"exception": "MaxRetriesPerRequestError"}),
    Case("redis.clients.jedis.exceptions.JedisConnectionException: Could not get a resource from the pool", "redis-unavailable", {"exception": "JedisConnectionException"}),
    Case("org.springframework.data.redis.RedisConnectionFailureException: Unable to connect to Redis; nested exception is io.lettuce.core.RedisConnectionException: Unable to connect to cache.internal:6379", "redis-unavailable", {"host": "cache.internal", "port": "6379"}),
    Case("Error: Stream isn't writeable and enableOfflineQueue options is false", "redis-unavailable"),
    Case("redis: connection pool timeout", "redis-unavailable"),
    Case("MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk.", "redis-unavailable"),
    Case("pymongo.errors.ServerSelectionTimeoutError: cluster0-shard-00-00.abcde.mongodb.net:27017: timed out, Timeout: 30s", "mongodb-unavailable", {"exception": "ServerSelectionTimeoutError"}),
    Case("MongooseServerSelectionError: Server selection timed out after 30000 ms", "mongodb-unavailable", {"timeout_s": "30"}),
    Case("psycopg2.OperationalError: server closed the connection unexpectedly\n\tThis probably means the server terminated abnormally\n\tbefore or while processing the request.", "db-connection-dropped"),
    Case("pymysql.err.OperationalError: (2013, 'Lost connection to MySQL server during query')", "db-connection-dropped"),
    Case("asyncpg.exceptions.ConnectionDoesNotExistError: connection was closed in the middle of operation", "db-connection-dropped"),
    Case("FATAL:  terminating connection due to administrator command", "db-connection-dropped"),
    Case("psycopg2.errors.DeadlockDetected: deadlock detected\nDETAIL:  Process 123 waits for ShareLock on transaction 456", "db-deadlock"),
    Case("pymysql.err.OperationalError: (1213, 'Deadlock found when trying to get lock; try restarting transaction')", "db-deadlock"),
    Case("(1205, 'Lock wait timeout exceeded; try restarting transaction')", "db-deadlock"),
    Case("SQL Error: 0, SQLState: 40001", "db-deadlock", severity="WARNING"),
    Case("psycopg2.errors.QueryCanceled: canceling statement due to statement timeout", "db-statement-timeout"),
    Case("Failed to initialize database: connection pool could not be created", "database-unavailable"),
    Case("Could not connect to the database at db.prod.internal:5432, giving up", "database-unavailable", {"host": "db.prod.internal", "port": "5432"}),
    Case("Database initialization failed after 3 attempts", "database-unavailable"),
    Case("PrismaClientInitializationError: Can't reach database server at `10.0.0.3`:`5432`", "database-unavailable"),
    Case("HikariPool-1 - Exception during pool initialization.", "database-unavailable"),
    Case("django.db.utils.OperationalError: SSL connection has been closed unexpectedly", "db-driver-error", {"exception": "django.db.utils.OperationalError"}),
    Case("sqlalchemy.exc.InterfaceError: (pg8000.exceptions.InterfaceError) network error", "db-driver-error", {"exception": "sqlalchemy.exc.InterfaceError"}),
    # websocket
    Case("websockets.exceptions.InvalidStatusCode: server rejected WebSocket connection: HTTP 403", "websocket-handshake-failed", {"status": "403", "exception": "InvalidStatusCode"}),
    Case("Error: Unexpected server response: 502", "websocket-handshake-failed", {"status": "502"}),
    Case("WebSocket connection to 'wss://api.example.com/ws' failed: Error during WebSocket handshake: Unexpected response code: 503", "websocket-handshake-failed", {"status": "503"}),
    Case("websocket: the client is not using the websocket protocol: 'upgrade' token not found in 'Connection' header", "websocket-handshake-failed"),
    Case("WebSocket upgrade failed for /ws/chat: missing auth token", "websocket-handshake-failed"),
    Case("websockets.exceptions.ConnectionClosedOK: received 1000 (OK); then sent 1000 (OK)", "websocket-normal-close", severity="INFO"),
    Case("starlette.websockets.WebSocketDisconnect(code=1001, reason='')", "websocket-normal-close"),
    Case("websockets.exceptions.ConnectionClosedError: no close frame received or sent", "websocket-closed-abnormally", {"exception": "ConnectionClosedError"}),
    Case("websocket: close 1006 (abnormal closure): unexpected EOF", "websocket-closed-abnormally", {"status": "1006"}),
    Case("WebSocket connection closed with code 1011 (internal error)", "websocket-closed-abnormally", {"status": "1011"}),
    Case("Error: WebSocket is not open: readyState 3 (CLOSED)", "websocket-closed-abnormally"),
    Case("WebSocket connection error: [Errno 104] Connection reset by peer", "websocket-error"),
    Case("Error in websocket handler for session 42: 'NoneType' object has no attribute 'send'", "websocket-error"),
    # auth
    Case("google.api_core.exceptions.PermissionDenied: 403 Permission 'secretmanager.versions.access' denied for resource 'projects/p/secrets/s/versions/latest' (or it may not exist).", "gcp-permission-denied", {"exception": "PermissionDenied", "permission": "secretmanager.versions.access", "resource": "projects/p/secrets/s/versions/latest"}),
    Case("google.api_core.exceptions.Forbidden: 403 POST https://storage.googleapis.com/upload/storage/v1/b/bkt/o: sa@p.iam.gserviceaccount.com does not have storage.objects.create access to the Google Cloud Storage object.", "gcp-permission-denied", {"exception": "Forbidden", "member": "sa@p.iam.gserviceaccount.com", "permission": "storage.objects.create", "resource": "bkt"}),
    Case("com.google.cloud.storage.StorageException: 123456-compute@developer.gserviceaccount.com does not have storage.objects.get access to the Google Cloud Storage object. Permission 'storage.objects.get' denied on resource (or it may not exist).", "gcp-permission-denied", {"member": "123456-compute@developer.gserviceaccount.com", "permission": "storage.objects.get"}),
    Case("AccessDeniedException: 403 exporter@acme.iam.gserviceaccount.com does not have storage.objects.list access to acme-exports.", "gcp-permission-denied", {"member": "exporter@acme.iam.gserviceaccount.com", "permission": "storage.objects.list", "resource": "acme-exports"}),
    Case("Error: 7 PERMISSION_DENIED: Permission 'pubsub.topics.publish' denied on resource 'projects/acme/topics/orders' (or it may not exist).", "gcp-permission-denied", {"permission": "pubsub.topics.publish", "resource": "projects/acme/topics/orders"}),
    Case("google.api_core.exceptions.Forbidden: 403 POST https://bigquery.googleapis.com/bigquery/v2/projects/acme/jobs?prettyPrint=false: Access Denied: Project acme: User does not have bigquery.jobs.create permission in project acme.", "gcp-permission-denied", {"exception": "Forbidden", "permission": "bigquery.jobs.create", "resource": "acme"}),
    Case('<_InactiveRpcError of RPC that terminated with:\n\tstatus = StatusCode.PERMISSION_DENIED\n\tdetails = "The caller does not have permission"', "gcp-permission-denied"),
    Case("google.auth.exceptions.DefaultCredentialsError: Your default credentials were not found. To set up Application Default Credentials, see https://cloud.google.com/docs/authentication/external/set-up-adc for more information.", "gcp-credentials-missing"),
    Case("Error: Could not load the default credentials. Browse to https://cloud.google.com/docs/authentication/getting-started for more information.", "gcp-credentials-missing"),
    Case("google.auth.exceptions.TransportError: Failed to retrieve http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/?recursive=true from the Google Compute Engine metadata service.", "gcp-credentials-missing"),
    Case("The request was not authenticated. Either allow unauthenticated invocations or set the proper Authorization header. Read more at https://cloud.google.com/run/docs/securing/authenticating", "cloud-run-request-unauthorized", {"status": "401"}, status=401, severity="WARNING"),
    Case("The request was not authorized to invoke this service. Read more at https://cloud.google.com/run/docs/securing/authenticating", "cloud-run-request-unauthorized", {"status": "403"}, status=403),
    Case("jwt.exceptions.ExpiredSignatureError: Signature has expired", "token-expired", {"exception": "ExpiredSignatureError"}),
    Case("TokenExpiredError: jwt expired", "token-expired", {"exception": "TokenExpiredError"}),
    Case("google.auth.exceptions.RefreshError: ('invalid_grant: Token has been expired or revoked.', {'error': 'invalid_grant'})", "token-expired"),
    Case("Auth failed: JWT token has expired for user 123", "token-expired"),
    Case("jwt.exceptions.InvalidSignatureError: Signature verification failed", "token-invalid", {"exception": "InvalidSignatureError"}),
    Case("JsonWebTokenError: invalid signature", "token-invalid", {"exception": "JsonWebTokenError"}),
    Case("JWT validation failed: audience mismatch", "token-invalid"),
    Case("requests.exceptions.HTTPError: 401 Client Error: Unauthorized for url: https://api.partner.com/v2/orders", "auth-unauthenticated", {"status": "401", "host": "api.partner.com"}),
    Case("AxiosError: Request failed with status code 401\n    at settle (/app/node_modules/axios/lib/core/settle.js:19:12)", "auth-unauthenticated", {"status": "401"}),
    Case("StatusCode.UNAUTHENTICATED: Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.", "auth-unauthenticated"),
    Case("403 Client Error: Forbidden for url: https://api.github.com/repos/acme/app/issues", "auth-unauthenticated", {"status": "403", "host": "api.github.com"}),
    # resource_exhaustion
    Case("Memory limit of 512 MiB exceeded with 514 MiB used. Consider increasing the memory limit, see https://cloud.google.com/run/docs/configuring/memory-limits", "memory-limit-exceeded", {"memory_limit": "512 MiB"}),
    Case("Memory limit of 2 GiB exceeded with 2051 MiB used. Consider increasing the memory limit, see https://cloud.google.com/functions/docs/configuring/memory", "memory-limit-exceeded", {"memory_limit": "2 GiB"}),
    Case("The request failed because the container instance was found to be using too much memory and was terminated.", "instance-oom-killed", status=503),
    Case("[2024-05-01 10:00:00 +0000] [1] [ERROR] Worker (pid:12) was sent SIGKILL! Perhaps out of memory?", "instance-oom-killed"),
    Case("Error: memory limit exceeded. Function invocation was interrupted.", "instance-oom-killed"),
    Case("Exceeded hard memory limit of 256 MB with 262 MB after servicing 14 requests total. Consider setting a larger instance class in app.yaml.", "instance-oom-killed", {"memory_limit": "256 MB"}),
    Case("FATAL ERROR: Ineffective mark-compacts near heap limit Allocation failed - JavaScript heap out of memory", "runtime-out-of-memory"),
    Case("FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory", "runtime-out-of-memory"),
    Case("java.lang.OutOfMemoryError: Java heap space", "runtime-out-of-memory", {"exception": "java.lang.OutOfMemoryError"}),
    Case(tb("/app/report.py", final="MemoryError"), "runtime-out-of-memory", {"exception": "MemoryError"}),
    Case("fatal error: runtime: out of memory", "runtime-out-of-memory"),
    Case("google.api_core.exceptions.ResourceExhausted: 429 Quota exceeded for quota metric 'Requests' and limit 'Requests per minute' of service 'aiplatform.googleapis.com'", "quota-exceeded", {"exception": "ResourceExhausted"}),
    Case("<HttpError 403 when requesting https://sheets.googleapis.com/v4/spreadsheets returned \"Quota exceeded\". Details: \"[{'reason': 'userRateLimitExceeded'}]\">", "quota-exceeded"),
    Case("com.google.api.gax.rpc.ResourceExhaustedException: io.grpc.StatusRuntimeException: RESOURCE_EXHAUSTED: Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute' of service 'firestore.googleapis.com' for consumer 'project_number:990314552087'.", "quota-exceeded", {"host": "firestore.googleapis.com"}),
    Case("google.api_core.exceptions.ResourceExhausted: 429 Resource has been exhausted (e.g. check quota).", "quota-exceeded", {"exception": "ResourceExhausted"}),
    Case("Quota exceeded for aiplatform.googleapis.com/generate_content_requests_per_minute_per_project_per_base_model with base model: gemini-1.5-pro.", "quota-exceeded", {"host": "aiplatform.googleapis.com"}),
    Case("com.google.cloud.bigquery.BigQueryException: Exceeded rate limits: too many table update operations for this table. For more information, see https://cloud.google.com/bigquery/docs/troubleshoot-quotas", "quota-exceeded"),
    Case("429 Client Error: Too Many Requests for url: https://api.openai.com/v1/chat/completions", "rate-limited", {"status": "429", "host": "api.openai.com"}),
    Case("openai.RateLimitError: Error code: 429 - {'error': {'message': 'Rate limit reached for gpt-4o'}}", "rate-limited"),
    Case("The request was aborted because there was no available instance. Additional troubleshooting documentation can be found at: https://cloud.google.com/run/docs/troubleshooting#abort-request", "no-available-instance", {"status": "429"}, status=429, severity="WARNING"),
    Case("OSError: [Errno 24] Too many open files", "too-many-open-files"),
    Case("Error: EMFILE: too many open files, open '/app/data.json'", "too-many-open-files"),
    Case("OSError: [Errno 28] No space left on device", "disk-full"),
    Case("Error: ENOSPC: no space left on device, write", "disk-full"),
    Case("RuntimeError: can't start new thread", "threads-exhausted"),
    Case("Response size was too large. Please consider reducing response size.", "request-size-limit"),
    Case("PayloadTooLargeError: request entity too large", "request-size-limit"),
    # container_startup
    Case("Container called exit(3).", "container-exit-nonzero", {"exit_code": "3"}, severity="WARNING"),
    Case("Container called exit(1).", "container-exit-nonzero", {"exit_code": "1"}),
    Case("Container called exit(0).", "container-exit-zero", severity="WARNING"),
    Case("Container terminated on signal 9.", "container-terminated-signal", {"signal": "9"}),
    Case("The user-provided container failed to start and listen on the port defined provided by the PORT=8080 environment variable within the allocated timeout.", "port-not-listening", {"port": "8080"}),
    Case("ERROR: (gcloud.run.deploy) Revision 'api-00042-xyz' is not ready and cannot serve traffic. The user-provided container failed to start and listen on the port defined provided by the PORT=8080 environment variable.", "port-not-listening", {"port": "8080"}),
    Case("Cloud Run error: Container failed to start. Failed to start and then listen on the port defined by the PORT environment variable.", "port-not-listening"),
    Case('Default STARTUP TCP probe failed 1 time consecutively for container "worker" on port 8080. The instance was not started.', "startup-probe-failed", {"port": "8080"}),
    Case('Default STARTUP HTTP probe failed 200 times consecutively for container "api-1" on port 8080 path "/healthz".', "startup-probe-failed", {"port": "8080"}),
    Case("Connection failed with status DEADLINE_EXCEEDED.", "startup-probe-failed"),
    Case('LIVENESS HTTP probe failed 3 times consecutively for container "api-1" on port 8080 path "/healthz". The instance has been shut down.', "liveness-probe-failed", {"port": "8080"}),
    Case("The request failed because the instance could not start successfully.", "instance-failed-to-start", {"status": "500"}, status=500),
    Case("The request failed because the instance failed the readiness check", "readiness-check-failed", status=503),
    Case("Ready condition status changed to False for Revision netra-backend-staging-00742-b95 with message: Container failed to start", "revision-not-ready", {"revision": "netra-backend-staging-00742-b95"}),
    Case("Revision 'api-00042-xyz' is not ready and cannot serve traffic.", "revision-not-ready", {"revision": "api-00042-xyz"}),
    Case("Revision 'api-00043-abc' is not ready and cannot serve traffic. Image 'us-docker.pkg.dev/my-proj/app/api:v42' not found.", "image-pull-failed"),
    Case("Google Cloud Run Service Agent service-123@serverless-robot-prod.iam.gserviceaccount.com must have permission to read the image, us-docker.pkg.dev/p/r/img:tag.", "image-pull-failed"),
    Case("exec /usr/local/bin/docker-entrypoint.sh: exec format error", "entrypoint-exec-failed"),
    Case("terminated: Application failed to start: failed to load /app/start.sh: exec format error", "entrypoint-exec-failed"),
    Case("[2024-05-01 10:00:00 +0000] [8] [ERROR] Exception in worker process", "app-boot-failed"),
    Case('Error loading ASGI app. Could not import module "main".', "app-boot-failed", {"module": "main"}),
    Case("[2024-05-01 10:00:01 +0000] [1] [INFO] Reason: Worker failed to boot.", "app-boot-failed"),
    Case("[2024-05-01 10:00:00 +0000] [1] [ERROR] Worker (pid:12) exited with code 3", "app-boot-failed", {"exit_code": "3"}),
    Case("Error: listen EADDRINUSE: address already in use :::8080", "port-in-use", {"port": "8080"}),
    Case("OSError: [Errno 98] Address already in use", "port-in-use"),
    Case("Error: listen EACCES: permission denied 0.0.0.0:80", "port-in-use", {"port": "80"}),
    Case("The request failed because either the HTTP response was malformed or connection to the instance had an error. Additional troubleshooting documentation can be found at: https://cloud.google.com/run/docs/troubleshooting#malformed-response-or-connection-error", "instance-connection-error", status=503),
    Case("panic: runtime error: invalid memory address or nil pointer dereference\n[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x4a3b2c]\n\ngoroutine 1 [running]:\nmain.main()\n\t/app/main.go:12 +0x1c", "go-runtime-panic", {"exception": "invalid memory address or nil pointer dereference"}),
    Case("panic: listener closed unexpectedly\n\ngoroutine 1 [running]:\nmain.main()", "go-panic", {"exception": "listener closed unexpectedly"}),
    Case("Fatal Python error: Segmentation fault\n\nCurrent thread 0x00007f (most recent call first):", "native-crash", {"exception": "Segmentation fault"}),
    Case("Segmentation fault (core dumped)", "native-crash"),
    Case("npm ERR! code ELIFECYCLE\nnpm ERR! errno 137\nnpm ERR! cart@3.4.0 start: `node src/index.js`\nnpm ERR! Exit status 137", "npm-script-failed", {"exit_code": "137"}),
    Case("npm error path /app\nnpm error command failed\nnpm error signal SIGKILL\nnpm error command sh -c node dist/server.js", "npm-script-failed", {"signal": "SIGKILL"}),
    Case("error Command failed with exit code 1.", "npm-script-failed", {"exit_code": "1"}),
    Case("FATAL ERROR: v8::ToLocalChecked Empty MaybeLocal", "native-crash", {"exception": "v8::ToLocalChecked Empty MaybeLocal"}),
    Case("<--- Last few GCs --->", "runtime-crash-report"),
    Case("<--- JS stacktrace --->", "runtime-crash-report"),
    Case("----- Native stack trace -----", "runtime-crash-report"),
    Case(" 1: 0xb8a6e1 node::OOMErrorHandler(char const*, v8::OOMDetails const&) [node]", "runtime-crash-report"),
    Case("[1:0x5d0a2c0]   184213 ms: Mark-Compact 1012.3 (1043.1) -> 1008.9 (1043.9) MB, 1203.11 / 0.00 ms  (average mu = 0.121, current mu = 0.034) allocation failure; scavenge might not succeed", "runtime-crash-report"),
    Case(GUNICORN_IMPORT_CRASH, "startup-import-crash", {"exception": "NameError"}),
    Case('Traceback (most recent call last):\n  File "/layers/google.python.pip/pip/bin/functions-framework", line 8, in <module>\n    sys.exit(_cli())\nValueError: invalid literal for int() with base 10: \'abc\'', "startup-import-crash", {"exception": "ValueError"}),
    # network
    Case("GET /v1/invoices 502 Bad Gateway", "access-log-server-error", {"status": "502"}),
    Case("GET /api/cart 503 12.408 ms - 44", "access-log-server-error", {"status": "503"}),
    Case('10.8.0.4 - - [02/Dec/2025:00:04:17 +0000] "POST /checkout HTTP/1.1" 502 157 "-" "Mozilla/5.0"', "access-log-server-error", {"status": "502"}),
    Case('169.254.1.1:39840 - "GET /api/orders HTTP/1.1" 500 Internal Server Error', "access-log-server-error", {"status": "500"}),
    Case('INFO:     169.254.1.1:51220 - "POST /v1/charges HTTP/1.1" 502 Bad Gateway', "access-log-server-error", {"status": "502"}, severity="INFO"),
    Case('INFO:     169.254.1.1:51220 - "GET /v1/me HTTP/1.1" 401 Unauthorized', "access-log-unauthorized", {"status": "401"}, severity="INFO"),
    Case('10.8.0.4 - - [02/Dec/2025:00:04:17 +0000] "DELETE /admin/users/7 HTTP/1.1" 403 157 "-" "curl/8.5.0"', "access-log-unauthorized", {"status": "403"}),
    Case('GET /.git/config 404 0.812 ms - 139', "access-log-client-error", {"status": "404"}, severity="INFO"),
    Case('WARNING:  10.0.0.9:40112 - "POST /v1/orders HTTP/1.1" 422 Unprocessable Entity', "access-log-client-error", {"status": "422"}, severity="WARNING"),
    Case('POST /v1/search 429 2.104 ms - 61', "access-log-rate-limited", {"status": "429"}, severity="INFO"),
    Case("VPC connector projects/netra-staging/locations/us-central1/connectors/staging-connector is not ready", "vpc-connector-error"),
    Case("Serverless VPC Access connector is not in a ready state; requests to private IPs will fail", "vpc-connector-error"),
    Case("socket.gaierror: [Errno -2] Name or service not known", "dns-resolution-failed"),
    Case("requests.exceptions.ConnectionError: HTTPSConnectionPool(host='auth.staging.internal', port=443): Max retries exceeded with url: /verify (Caused by NameResolutionError(\"<urllib3.connection.HTTPSConnection object at 0x7f>: Failed to resolve 'auth.staging.internal' ([Errno -3] Temporary failure in name resolution)\"))", "dns-resolution-failed", {"host": "auth.staging.internal", "port": "443"}),
    Case("Error: getaddrinfo ENOTFOUND api.example.com", "dns-resolution-failed", {"host": "api.example.com"}),
    Case("dial tcp: lookup auth-service on 169.254.169.254:53: no such host", "dns-resolution-failed", {"host": "auth-service"}),
    Case("requests.exceptions.ConnectionError: HTTPConnectionPool(host='localhost', port=8081): Max retries exceeded with url: /internal (Caused by NewConnectionError('<urllib3.connection.HTTPConnection object at 0x7f>: Failed to establish a new connection: [Errno 111] Connection refused'))", "connection-refused", {"host": "localhost", "port": "8081"}),
    Case("Error: connect ECONNREFUSED 10.8.0.5:8080", "connection-refused", {"host": "10.8.0.5", "port": "8080"}),
    Case("dial tcp 10.8.0.7:9000: connect: connection refused", "connection-refused", {"host": "10.8.0.7", "port": "9000"}),
    Case("upstream connect error or disconnect/reset before headers. reset reason: connection failure", "upstream-connect-error"),
    Case("requests.exceptions.HTTPError: 502 Server Error: Bad Gateway for url: https://auth-service-abc-uc.a.run.app/verify", "upstream-connect-error", {"status": "502", "host": "auth-service-abc-uc.a.run.app"}),
    Case("requests.exceptions.HTTPError: 500 Server Error: Internal Server Error for url: https://auth-service-xyz-uc.a.run.app/api/verify", "upstream-server-error", {"status": "500", "host": "auth-service-xyz-uc.a.run.app"}),
    Case("AxiosError: Request failed with status code 503", "upstream-server-error", {"status": "503"}),
    Case("HTTPSConnectionPool(host='api.partner.com', port=443): Read timed out. (read timeout=10)", "upstream-timeout", {"host": "api.partner.com", "port": "443", "timeout_s": "10"}),
    Case('Get "https://api.partner.com/v1/rates": context deadline exceeded (Client.Timeout exceeded while awaiting headers)', "upstream-timeout", {"host": "api.partner.com"}),
    Case("httpx.ReadTimeout: The read operation timed out", "upstream-timeout", {"exception": "httpx.ReadTimeout"}),
    Case("Error: connect ETIMEDOUT 34.120.1.2:443", "upstream-timeout", {"host": "34.120.1.2", "port": "443"}),
    Case("ConnectionResetError: [Errno 104] Connection reset by peer", "connection-reset"),
    Case("Error: read ECONNRESET while calling https://billing.internal.example.com/v1/invoices", "connection-reset", {"host": "billing.internal.example.com"}),
    Case("Error: socket hang up\n    at connResetException (node:internal/errors:720:14)", "connection-reset"),
    Case("OSError: [Errno 101] Network is unreachable", "network-unreachable"),
    Case("Error: 14 UNAVAILABLE: No connection established", "grpc-unavailable"),
    Case("google.api_core.exceptions.ServiceUnavailable: 503 failed to connect to all addresses", "grpc-unavailable"),
    # timeout
    Case("The request has been terminated because it has reached the maximum request timeout. To change this limit, see https://cloud.google.com/run/docs/configuring/request-timeout", "request-timeout", {"status": "504"}, status=504),
    Case("Function execution took 60002 ms, finished with status: 'timeout'", "function-execution-timeout", {"timeout_s": "60"}),
    Case("[2024-05-01 10:00:00 +0000] [1] [CRITICAL] WORKER TIMEOUT (pid:8)", "worker-timeout", severity="CRITICAL"),
    Case("google.api_core.exceptions.DeadlineExceeded: 504 Deadline Exceeded", "deadline-exceeded", {"exception": "DeadlineExceeded"}),
    Case("rpc error: code = DeadlineExceeded desc = context deadline exceeded", "deadline-exceeded"),
    Case("upstream request timeout", "gateway-timeout", status=504),
    Case("<html><head><title>504 Gateway Time-out</title></head></html>", "gateway-timeout"),
    Case(tb("/app/jobs.py", final="asyncio.exceptions.TimeoutError"), "operation-timeout", {"exception": "asyncio.exceptions.TimeoutError"}),
    Case("Task timed out after 30 seconds", "operation-timeout", {"timeout_s": "30"}),
    # application
    Case("(node:1) UnhandledPromiseRejectionWarning: Error: boom", "node-unhandled-rejection"),
    Case("[UnhandledPromiseRejection: This error originated either by throwing inside of an async function without a catch block, or by rejecting a promise which was not handled with .catch().]", "node-unhandled-rejection"),
    Case("TypeError: Cannot read properties of undefined (reading 'map')\n    at renderList (/app/src/list.js:10:18)\n    at processTicksAndRejections (node:internal/process/task_queues:95:5)", "stack-trace-exception", {"exception": "TypeError"}),
    Case('Exception in thread "main" java.lang.IllegalStateException: boom\n\tat com.example.App.main(App.java:10)', "stack-trace-exception", {"exception": "java.lang.IllegalStateException"}),
    Case(tb("/app/handlers.py", final="KeyError: 'user_id'"), "python-traceback", {"exception": "KeyError"}),
    Case(tb("/app/x.py", final="ZeroDivisionError: division by zero") + "\n\nDuring handling of the above exception, another exception occurred:\n\n" + tb("/app/y.py", final="RuntimeError: report failed"), "python-traceback", {"exception": "RuntimeError"}),
    Case(tb("/app/q.py", final="sqlalchemy.exc.IntegrityError: (psycopg2.errors.UniqueViolation) duplicate key value violates unique constraint \"users_email_key\"") + "\nDETAIL:  Key (email)=(a@b.c) already exists.\nHINT:  none", "python-traceback", {"exception": "sqlalchemy.exc.IntegrityError"}),
    Case("Exception in ASGI application", "web-framework-error"),
    Case("Exception on /api/orders [POST]", "web-framework-error"),
    Case("Function execution took 123 ms, finished with status: 'crash'", "function-crashed"),
    Case("Error: function terminated. Recommended action: inspect logs for termination reason.", "function-crashed"),
    Case("http: panic serving 10.0.0.1:41234: runtime error: index out of range [5] with length 3", "go-recovered-panic", {"exception": "runtime error: index out of range [5] with length 3"}),
    Case("Truncated response body. Usually implies that the request timed out or the application exited before the response was finished.", "truncated-response", severity="WARNING"),
    # noise (generic)
    Case("/app/main.py:12: DeprecationWarning: datetime.datetime.utcnow() is deprecated and scheduled for removal in a future version.", "deprecation-warning", {"exception": "DeprecationWarning"}, severity="WARNING"),
    Case("(node:1) [DEP0005] DeprecationWarning: Buffer() is deprecated due to security and usability issues.", "deprecation-warning"),
    Case("npm WARN deprecated inflight@1.0.6: This module is not supported, and leaks memory.", "deprecation-warning"),
    Case("(Use `node --trace-deprecation ...` to show where the warning was created)", "deprecation-warning"),
    Case("(Use `node --trace-warnings ...` to show where the warning was created)", "deprecation-warning"),
    Case("npm warn config production Use `--omit=dev` instead.", "package-manager-notice"),
    Case("npm notice New major version of npm available! 10.9.0 -> 11.6.2", "package-manager-notice"),
    Case('warning " > react-dom@18.3.1" has unmet peer dependency "react@^18.3.1".', "package-manager-notice"),
    Case("HHH000104: firstResult/maxResults specified with collection fetch; applying in memory!", "framework-advisory-warning", severity="WARNING"),
    Case("HHH90003004: firstResult/maxResults specified with collection fetch; applying in memory", "framework-advisory-warning", severity="WARNING"),
    Case("HHH90000025: PostgreSQLDialect does not need to be specified explicitly using 'hibernate.dialect' (remove the property setting and it will be selected by default)", "framework-advisory-warning", severity="WARNING"),
    Case("spring.jpa.open-in-view is enabled by default. Therefore, database queries may be performed during view rendering. Explicitly configure spring.jpa.open-in-view to disable this warning", "framework-advisory-warning", severity="WARNING"),
    Case("/usr/local/lib/python3.11/site-packages/urllib3/connectionpool.py:1100: InsecureRequestWarning: Unverified HTTPS request is being made to host 'x'.", "runtime-warning", {"exception": "InsecureRequestWarning"}),
    Case("RuntimeWarning: coroutine 'send_email' was never awaited", "runtime-warning", {"exception": "RuntimeWarning"}),
    # HTTP status only (request logs)
    Case("", "http-gateway-timeout", {"status": "504"}, status=504),
    Case("", "http-too-many-requests", {"status": "429"}, status=429),
    Case("", "http-unauthorized", {"status": "401"}, status=401),
    Case("POST /api/login 403", "http-unauthorized", {"status": "403"}, status=403),
    Case("", "http-server-error", {"status": "503"}, status=503),
    Case("GET https://backend.example.com/health", "http-server-error", {"status": "500"}, status=500),
    Case("", "http-client-error", {"status": "405"}, status=405),
    Case("", "http-client-error", {"status": "404"}, status=404, severity="WARNING"),
    # severity-gated fallback
    Case("ValueError: invalid literal for int() with base 10: 'abc'", "error-exception-line", {"exception": "ValueError"}),
    Case("payments.client.PaymentDeclinedException: card declined", "error-exception-line", {"exception": "payments.client.PaymentDeclinedException"}),
    Case("Error: something broke while rendering the invoice", "error-exception-line", {"exception": "Error"}),
    Case("TypeError [ERR_INVALID_ARG_TYPE]: The \"path\" argument must be of type string. Received undefined", "error-exception-line", {"exception": "TypeError"}),
    Case("Error [ERR_HTTP_HEADERS_SENT]: Cannot set headers after they are sent to the client", "error-exception-line", {"exception": "Error"}),
    # classes added with the stack split (issue 10): phrasings written for these tests
    Case("AH00558: httpd: Could not reliably determine the server's fully qualified domain name, using 10.8.0.5. Set the 'ServerName' directive globally to suppress this message", "apache-servername-notice", severity="WARNING"),
    Case("This request caused a new process to be started for your application, and thus caused your application code to be loaded for the first time.", "app-engine-loading-request", severity="INFO"),
    Case('2024/03/02 10:11:12 New connection for "acme-prod:europe-west1:orders-db"', "cloud-sql-proxy-notice", severity="INFO"),
    Case("Warning  FailedScheduling  12s  default-scheduler  0/3 nodes are available: 3 Insufficient memory.", "cluster-capacity-exhausted", severity="WARNING"),
    Case("fatal: failed to load configuration: yaml: line 3: mapping values are not allowed in this context", "config-load-failed"),
    Case('Warning  BackOff  2m (x40 over 12m)  kubelet  Back-off restarting failed container api in pod api-7d9f', "container-crash-loop", severity="WARNING"),
    Case("System.ArgumentException: Format of the initialization string does not conform to specification starting at index 0.", "db-connection-string-invalid"),
    Case(" * Debug mode: off\nWARNING: This is a development server. Do not use it in a production deployment. Use a production WSGI server instead.", "development-server-warning", severity="WARNING"),
    Case("ArgumentError: Missing `secret_key_base` for 'production' environment, set this string with `rails credentials:edit`", "framework-secret-key-missing", {"env_var": "secret_key_base"}),
    Case("Function execution took 87 ms, finished with status code: 204", "function-execution-ok", severity="DEBUG"),
    Case("7 PERMISSION_DENIED: Cloud Pub/Sub API has not been used in project 123456789 before or it is disabled.", "gcp-api-disabled"),
    Case('rpc error: code = Unavailable desc = failed to dial "orders:50051": context deadline exceeded', "go-dial-deadline"),
    Case('main.go:7:2: cannot find package "github.com/acme/lib" in any of:', "go-package-missing", {"module": "github.com/acme/lib"}),
    Case("UserWarning: Your application has authenticated using end user credentials from Google Cloud SDK without a quota project.", "google-auth-quota-project-warning", severity="WARNING"),
    Case("file_cache is only supported with oauth2client<4.0.0", "googleapiclient-file-cache-warning", severity="WARNING"),
    Case("Container Sandbox: Unsupported syscall setsockopt(0x3,0x1,0xd,0x3e8,0x8,0x0).", "gvisor-unsupported-syscall", severity="WARNING"),
    Case("WARN:oejw.WebAppContext:main: Failed startup of context o.e.j.w.WebAppContext@1b2c3d4{/,file:///srv/app/,UNAVAILABLE}", "jvm-app-start-failed"),
    Case("Normal   Pulling    20s   kubelet   Pulling image \"europe-docker.pkg.dev/acme/api:1.4\"", "kubernetes-normal-event", severity="INFO"),
    Case('Warning  Unhealthy  5s (x3 over 25s)  kubelet  Liveness probe failed: Get "http://10.4.1.9:8080/healthz": context deadline exceeded', "kubernetes-probe-failed", severity="WARNING"),
    Case('2024/05/01 10:00:00 [error] 29#29: *8812 upstream timed out (110: Operation timed out) while reading response header from upstream, client: 10.0.0.2, server: _, request: "GET /report HTTP/1.1"', "proxy-upstream-timeout"),
    Case('I, [2024-05-01T10:00:00.000000 #1]  INFO -- : Started POST "/orders" for 10.1.2.3 at 2024-05-01 10:00:00 +0000', "rails-request-started", severity="INFO"),
    Case("PHP Fatal error:  Maximum execution time of 60 seconds exceeded in /srv/app/Report.php on line 88", "script-execution-timeout", {"timeout_s": "60"}),
    Case("[2024-05-01 10:00:00 +0000] [1] [INFO] Starting gunicorn 22.0.0", "server-startup-banner", severity="INFO"),
    Case("[01-May-2024 10:00:00] WARNING: [pool www] server reached pm.max_children setting (5), consider raising it", "worker-pool-exhausted", severity="WARNING"),
    # classes added for the real-message corpus (issue 10 point 1): phrasings written for these tests
    Case("fatal error: concurrent map writes\n\ngoroutine 42 [running]:\nmain.(*cache).put(...)", "go-runtime-panic", {"exception": "concurrent map writes"}, severity="CRITICAL"),
    Case("panic: runtime error: index out of range [3] with length 3\n\ngoroutine 7 [running]:\nmain.pick(...)", "go-runtime-panic", {"exception": "index out of range [3] with length 3"}),
    Case('Error loading ASGI app. Import string "api.main" must be in format "<module>:<attribute>".', "server-app-spec-invalid", {"module": "api.main"}),
    Case('Error loading ASGI app. Attribute "application" not found in module "service.asgi".', "server-app-spec-invalid", {"module": "service.asgi"}),
    Case("[2024-05-01 10:00:00 +0000] [9] [ERROR] Failed to find attribute 'app' in 'wsgi'.", "server-app-spec-invalid", {"module": "wsgi"}),
    Case("Failed to parse 'create_app(' as an attribute name or function call.", "server-app-spec-invalid"),
    Case("org.springframework.beans.factory.BeanCreationException: Error creating bean with name 'kafkaConsumerConfig': Instantiation of bean failed; nested exception is java.lang.IllegalArgumentException: bootstrap.servers must not be empty", "spring-configuration-bean-invalid", {"exception": "IllegalArgumentException"}),
    Case("Failed to instantiate [com.acme.billing.StripeProperties]: Constructor threw exception; nested exception is java.lang.IllegalStateException: stripe.api-base must be an https URL", "spring-configuration-bean-invalid", {"exception": "IllegalStateException"}),
    Case("Cloning into 'vendor/protos'...", "source-fetch-progress"),
    Case("remote: Counting objects: 100% (412/412), done.", "source-fetch-progress"),
    Case("Receiving objects:  57% (1203/2110), 4.10 MiB | 8.20 MiB/s", "source-fetch-progress"),
    Case("Resolving deltas: 100% (880/880), done.", "source-fetch-progress"),
    Case("Fetching gem metadata from https://rubygems.org/.........", "source-fetch-progress"),
    Case("Collecting google-cloud-storage==2.16.0", "source-fetch-progress"),
    Case("  Downloading grpcio-1.62.1-cp311-cp311-manylinux_2_17_x86_64.whl (5.6 MB)", "source-fetch-progress"),
    Case("Overriding of current MeterProvider is not allowed", "telemetry-sdk-notice", severity="WARNING"),
    Case("Attempting to instrument while already instrumented", "telemetry-sdk-notice", severity="WARNING"),
    Case("Connection pool is full, discarding connection: bigquery.googleapis.com. Connection pool size: 10", "http-pool-full-notice", {"host": "bigquery.googleapis.com"}, severity="WARNING"),
    Case("No XML encryptor configured. Key {6b2e1c1a-4f0e-4d7e-9a51-0c3f1d2e8b77} may be persisted to storage in unencrypted form.", "aspnet-data-protection-notice", severity="WARNING"),
    Case("Storing keys in a directory '/root/.aspnet/DataProtection-Keys' that may not be persisted outside of the container. Protected data will be unavailable when container is destroyed.", "aspnet-data-protection-notice", severity="WARNING"),
    Case("Task export-8kd2p-task3 failed with message: The container exited with an error.", "job-execution-failed"),
    Case("ERROR: (gcloud.run.jobs.execute) The execution failed.", "job-execution-failed"),
    Case("Execution report-9x7vq has failed to complete, 2/5 tasks were a success.", "job-execution-failed"),
    Case("Missing session signing secret; a random one will be generated and sessions will not survive restarts", "fallback-notice", severity="WARNING"),
    Case("REDIS_URL is unreachable from this region, the worker will use the local queue instead", "fallback-notice", severity="WARNING"),
    Case("PHP Fatal error:  Uncaught exception 'PaymentGatewayException' with message 'card rejected' in /srv/app/Pay.php:41", "node-unhandled-rejection"),
    # new phrasings of existing classes
    Case("System.ArgumentNullException: Value cannot be null. (Parameter 'connectionString')\n   at Npgsql.NpgsqlConnection..ctor(String connectionString)", "db-connection-string-invalid"),
    Case('2024/05/01 10:00:00 [error] 31#31: *120 upstream timed out (110: Unknown error) while connecting to upstream, client: 10.0.0.2, server: _, request: "POST /api HTTP/1.1"', "proxy-upstream-timeout"),
    Case("Error: Function timed out.\n    at Timeout._onTimeout (/workspace/node_modules/@google-cloud/functions-framework/build/src/function_wrappers.js:98:23)", "function-execution-timeout"),
    Case("functions: Your function timed out after ~540s.", "function-execution-timeout", {"timeout_s": "540"}, severity="WARNING"),
    Case("Error: function terminated. Recommended action: inspect logs for termination reason. Function cannot be initialized. Error: function failed to load.", "app-boot-failed"),
    Case('PHP Fatal error:  Uncaught RuntimeException: Failed to listen on "tcp://0.0.0.0:9000": Address family not supported by protocol', "port-in-use", {"port": "9000"}),
    Case("listen tcp :443: bind: permission denied", "port-in-use", {"port": "443"}),
    Case("System.IO.IOException: Failed to bind to address http://[::]:8080: address already in use.", "port-in-use", {"port": "8080"}),
    Case("TimeoutError: ResourceRequest timed out\n    at ResourceRequest._fireTimeout (/app/node_modules/generic-pool/lib/ResourceRequest.js:62:17)", "db-pool-exhausted"),
    Case("ERROR: (gcloud.run.deploy) FAILED_PRECONDITION: max instances for this region would exceed the project's limit; try requesting an increase in quota at https://cloud.google.com/run/quotas", "quota-exceeded"),
    Case("Error: The file at /secrets/sa.json does not exist, or it is not a file. ENOENT: no such file or directory, lstat '/secrets'", "gcp-credentials-missing"),
    Case("google: error getting credentials using GOOGLE_APPLICATION_CREDENTIALS environment variable: open /var/run/key.json: no such file or directory", "gcp-credentials-missing"),
    Case('failed to connect to instance: Refresh error: failed to get instance metadata (connection name = "orders-db"): googleapi: Error 403: boss::NOT_AUTHORIZED', "cloudsql-connection-failed", {"host": "orders-db"}),
    Case('Get "https://sqladmin.googleapis.com/sql/v1beta4/projects/acme/instances/db/connectSettings": x509: certificate signed by unknown authority', "cloudsql-connection-failed"),
    Case("websocket: request origin not allowed by Upgrader.CheckOrigin", "websocket-handshake-failed"),
    Case("W, [2024-05-01T10:00:00.000000 #1]  WARN -- : DEPRECATION WARNING: Using legacy connection handling is deprecated and will be removed in Rails 7.2", "deprecation-warning", severity="WARNING"),
]

BY_ID = {sig.id: sig for sig in SIGNATURES}


def _case_id(case: Case) -> str:
    return f"{case.signature}:{case.message[:40]!r}"


@pytest.mark.parametrize("case", POSITIVES, ids=_case_id)
def test_real_phrasing_is_classified(case: Case) -> None:
    finding = CLASSIFIER.classify_message(case.message, http_status=case.status, severity=case.severity)
    assert finding.signature == case.signature, finding
    assert finding.category is BY_ID[case.signature].category
    for name, value in case.entities.items():
        assert finding.entities.get(name) == value, dict(finding.entities)
    assert not re.search(r"\{\w+\}|\[ ", finding.summary), finding.summary  # template fully rendered


@pytest.mark.parametrize("case", POSITIVES, ids=_case_id)
def test_summary_and_action_are_fully_filled(case: Case) -> None:
    """Every example renders its summary/action without a missing-entity marker."""
    finding = CLASSIFIER.classify_message(case.message, http_status=case.status, severity=case.severity)
    sig = BY_ID[finding.signature]
    action = action_for(sig, finding.entities)
    texts = [finding.summary] + ([action.text] if action else [])
    for text in texts:
        assert "<" not in text.replace("<html>", "").replace("<head>", ""), text


def test_every_signature_has_a_positive_example() -> None:
    covered = {case.signature for case in POSITIVES}
    assert sorted(set(BY_ID) - covered) == []


@pytest.mark.parametrize("case", [c for c in POSITIVES if c.message], ids=_case_id)
def test_python_re_and_re2_agree_on_every_example(case: Case) -> None:
    """The classifier uses Python re, Cloud Logging uses RE2: same verdict on each pattern."""
    options = re2.Options()
    options.log_errors = False
    for sig in SIGNATURES:
        if sig.pattern is None:
            continue
        python = sig.regex.search(case.message) is not None  # type: ignore[union-attr]
        cloud = re2.compile(sig.pattern, options).search(case.message) is not None
        assert python == cloud, sig.id


@pytest.mark.parametrize("case", [c for c in POSITIVES if c.message and c.status is None], ids=_case_id)
def test_set_prefilter_matches_the_naive_loop(case: Case) -> None:
    finding = CLASSIFIER.classify_message(case.message, severity="INFO")
    expected, entities = naive_classify(SIGNATURES, case.message)
    assert finding.signature == expected
    assert dict(finding.entities) == entities


NEGATIVES = [
    "GET /healthz 200 OK",
    "Listening on http://0.0.0.0:8080",
    "[2024-05-01 10:00:00 +0000] [1] [INFO] Booting worker with pid: 8",
    'Default STARTUP TCP probe succeeded after 1 attempt for container "worker" on port 8080.',
    "Connected to database at 10.0.0.3:5432 (pool size 5, timeout=30s)",
    "Starting new HTTPS connection (1): api.partner.com:443",
    "Successfully connected to Redis",
    "User 42 logged in",
    "Token refreshed successfully",
    "Request completed in 15ms with status 200",
    "Retrying request in 5 seconds",
    "Cache miss for key user:123",
    "Application startup complete.",
    "Uvicorn running on http://0.0.0.0:8080 (Press CTRL+C to quit)",
    "Shutting down gracefully",
    "Processed 1500 records in 2.3s",
    "Scheduled job sync_orders finished",
    "WebSocket connection accepted for session abc123",
    "JWT verified for user 42",
]


# Near misses of the connection-limit, pool, PHP-connect, Cloud SQL socket and IAM rules: the phrase
# each rule keys on, in a line that belongs to another class (or to none).
NEAR_MISSES = [
    # (message, severity, the signature it must not get, the category it belongs to)
    ("Thread pool exhausted, rejecting task", "ERROR", "db-pool-exhausted", Category.RESOURCE_EXHAUSTION),
    ("Connection pool is full, discarding connection: storage.googleapis.com. Connection pool size: 10", "WARNING", "db-pool-exhausted", Category.NOISE),
    ('connection to server on socket "/cloudsql/acme:europe-west1:shop-pg/.s.PGSQL.5432" failed: FATAL:  password authentication failed for user "shop"', "ERROR", "cloudsql-socket-connect-failed", Category.DATABASE),
    ("Using Cloud SQL instance connection name acme:us-east1:orders via unix socket /cloudsql/acme:us-east1:orders/.s.PGSQL.5432", "INFO", "cloudsql-socket-connect-failed", Category.NOISE),
    ("SQLSTATE[HY000] [1045] Access denied for user 'app'@'10.8.0.3' (using password: YES)", "ERROR", "php-mysql-connect-failed", Category.DATABASE),
    ("SQLSTATE[HY000]: General error: 2006 MySQL server has gone away", "ERROR", "php-mysql-connect-failed", Category.DATABASE),
    ("Too many open files in system", "ERROR", "db-too-many-connections", Category.RESOURCE_EXHAUSTION),
    ("google.api_core.exceptions.NotFound: 404 GET https://storage.googleapis.com/storage/v1/b/acme-exports?projection=noAcl: The specified bucket does not exist.", "ERROR", "gcp-permission-denied", Category.CONFIGURATION),
]


@pytest.mark.parametrize(("message", "severity", "not_signature", "category"), NEAR_MISSES)
def test_near_misses_go_to_their_own_class(message: str, severity: str, not_signature: str, category: Category) -> None:
    finding = CLASSIFIER.classify_message(message, severity=severity)
    assert finding.signature != not_signature
    assert finding.category is category, finding


@pytest.mark.parametrize("message", NEGATIVES)
def test_ordinary_info_lines_are_not_failures(message: str) -> None:
    """Application chatter stays unknown; a server's own start-up notice is named noise."""
    finding = CLASSIFIER.classify_message(message, severity="INFO")
    assert not is_failure(finding)
    assert finding.severity is Severity.INFO
    if finding.category is Category.NOISE:
        assert finding.summary.endswith("harmless")
    else:
        assert (finding.category, finding.signature) == (Category.UNKNOWN, UNKNOWN_SIGNATURE)


@pytest.mark.parametrize(
    "message",
    [
        "Sentry SDK not available",
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
        "/app/main.py:3: DeprecationWarning: pkg_resources is deprecated as an API",
        "uvloop not installed, falling back to asyncio",
    ],
)
def test_noise_is_recognised_and_is_not_a_failure(message: str) -> None:
    finding = CLASSIFIER.classify_message(message, severity="WARNING")
    assert finding.category is Category.NOISE
    assert not is_failure(finding)
    assert BY_ID[finding.signature].causes == ()


@pytest.mark.parametrize(
    ("message", "category"),
    [
        (tb("/app/main.py", "/app/ws.py", final="ModuleNotFoundError: No module named 'auth_service'"), Category.DEPENDENCY_MISSING),
        (ASYNCPG_TIMEOUT, Category.DATABASE),
        (tb("/app/db.py", final='sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) connection to server at "10.0.0.3", port 5432 failed: Connection timed out'), Category.DATABASE),
        (tb("/app/api.py", final="KeyError: 'user'"), Category.APPLICATION),
        (GUNICORN_IMPORT_CRASH, Category.CONTAINER_STARTUP),
        (tb("/app/api.py", final="requests.exceptions.ConnectionError: HTTPSConnectionPool(host='x.internal', port=443): Max retries exceeded (Caused by NameResolutionError('Failed to resolve'))"), Category.NETWORK),
    ],
)
def test_tracebacks_classify_by_their_most_specific_line(message: str, category: Category) -> None:
    assert CLASSIFIER.classify_message(message).category is category


@pytest.mark.parametrize("status", [200, 201, 204, 301, 302, 304])
def test_successful_requests_are_ok_and_not_failures(status: int) -> None:
    finding = CLASSIFIER.classify_message("", http_status=status, severity="INFO")
    assert finding.signature == HTTP_OK_SIGNATURE
    assert is_ok(finding)
    assert not is_failure(finding)
    assert finding.category is Category.UNKNOWN
    assert finding.entities == {"status": str(status)}


def test_failure_text_beats_the_status_code() -> None:
    finding = CLASSIFIER.classify_message(
        "The request failed because the instance could not start successfully.", http_status=500
    )
    assert finding.signature == "instance-failed-to-start"
    assert finding.entities["status"] == "500"
    assert is_failure(finding) and not is_ok(finding)


@pytest.mark.parametrize(
    ("severity", "signature", "category"),
    [
        ("ERROR", "error-exception-line", Category.APPLICATION),
        ("CRITICAL", "error-exception-line", Category.APPLICATION),
        ("WARNING", UNKNOWN_SIGNATURE, Category.UNKNOWN),
        ("INFO", UNKNOWN_SIGNATURE, Category.UNKNOWN),
        ("", UNKNOWN_SIGNATURE, Category.UNKNOWN),
    ],
)
def test_exception_lines_are_application_only_at_error_severity(
    severity: str, signature: str, category: Category
) -> None:
    finding = CLASSIFIER.classify_message("ValueError: bad input", severity=severity)
    assert (finding.signature, finding.category) == (signature, category)


@pytest.mark.parametrize(
    ("severity", "expected"),
    [("EMERGENCY", Severity.ERROR), ("ERROR", Severity.ERROR), ("WARNING", Severity.WARNING),
     ("NOTICE", Severity.INFO), ("DEFAULT", Severity.INFO), ("bogus", Severity.INFO)],
)
def test_unknown_findings_take_the_record_severity(severity: str, expected: Severity) -> None:
    finding = CLASSIFIER.classify_message("something unusual happened", severity=severity)
    assert finding.signature == UNKNOWN_SIGNATURE
    assert finding.severity is expected


def test_classify_uses_the_whole_record() -> None:
    record = LogRecord(
        timestamp=datetime(2025, 9, 16, 1, 42, 17, tzinfo=UTC),
        severity="WARNING",
        message="Container called exit(3).",
        service="netra-backend-staging",
        revision="netra-backend-staging-00742-b95",
    )
    finding = core().classifier.classify(record)
    assert (finding.category, finding.signature) == (Category.CONTAINER_STARTUP, "container-exit-nonzero")
    assert (finding.service, finding.revision) == (record.service, record.revision)
    assert finding.summary == "container exited with code 3"
    assert [CLASSIFIER.classify(r) for r in (record, record)][1] == finding


SEED_LINES = [
    ("No module named 'auth_service'", Category.DEPENDENCY_MISSING, {"module": "auth_service"}),
    ("Container called exit(3).", Category.CONTAINER_STARTUP, {"exit_code": "3"}),
    ("The request failed because the instance could not start successfully.", Category.CONTAINER_STARTUP, {}),
    ("Sentry SDK not available", Category.NOISE, {}),
    ("SERVICE_ID contained whitespace", Category.CONFIGURATION, {"env_var": "SERVICE_ID"}),
    ("Database connection timeout after 15s", Category.DATABASE, {"timeout_s": "15"}),
    ("WebSocket middleware setup failed: No module named 'auth_service'", Category.DEPENDENCY_MISSING, {"module": "auth_service"}),
]


@pytest.mark.parametrize(("message", "category", "entities"), SEED_LINES)
def test_seed_report_lines(message: str, category: Category, entities: dict[str, str]) -> None:
    finding = CLASSIFIER.classify_message(message, severity="ERROR")
    assert finding.category is category
    assert {k: finding.entities.get(k) for k in entities} == entities


@pytest.mark.parametrize(
    "message",
    [
        "Error: read ECONNRESET while calling https://svc:s3cr3t@billing.internal.example.com/v1/invoices",
        "requests.exceptions.HTTPError: 401 Client Error: Unauthorized for url: https://s3cr3t@api.partner.com/v2/orders",
        'Get "https://user:s3cr3t@api.partner.com/v1/rates": context deadline exceeded (Client.Timeout exceeded while awaiting headers)',
    ],
)
def test_url_credentials_never_become_entities(message: str) -> None:
    finding = CLASSIFIER.classify_message(message)
    assert finding.entities["host"].endswith("example.com") or finding.entities["host"] == "api.partner.com"
    assert not any("s3cr3t" in value for value in finding.entities.values())
    assert "s3cr3t" not in finding.summary


def test_entities_are_read_only_but_json_serialisable() -> None:
    finding = CLASSIFIER.classify_message("No module named 'auth_service'")
    assert json.loads(json.dumps(finding.entities)) == {"module": "auth_service"}
    with pytest.raises(TypeError):
        finding.entities["module"] = "other"  # type: ignore[index]
    assert dict(finding.entities) == {"module": "auth_service"}


def test_verdicts_are_cached_per_distinct_message() -> None:
    classifier = Classifier(SIGNATURES, cache_size=2)
    for _ in range(3):
        classifier.classify_message("Container called exit(1).")
    info = classifier.cache_info()
    assert (info.hits, info.misses, info.maxsize) == (2, 1, 2)
    for n in range(5):
        classifier.classify_message(f"Container called exit({n + 1}).")
    assert classifier.cache_info().currsize == 2


def test_without_the_re2_set_results_are_identical() -> None:
    """If RE2 cannot build the set within its memory budget, every pattern is tried."""
    fallback = Classifier(SIGNATURES, set_max_mem_bytes=1024)
    assert not fallback.uses_set and CLASSIFIER.uses_set
    for case in POSITIVES[::7]:
        got = fallback.classify_message(case.message, http_status=case.status, severity=case.severity)
        want = CLASSIFIER.classify_message(case.message, http_status=case.status, severity=case.severity)
        assert got == want


def test_a_batch_is_classified_as_each_record_would_be() -> None:
    """classify_many scans the batch's texts first; the findings are classify's, record by record."""
    at = datetime(2025, 9, 16, 2, 0, tzinfo=UTC)
    records = [
        LogRecord(at, case.severity, case.message, service="api", http_status=case.status)
        for case in POSITIVES[::3]
    ]
    long_text = "Traceback (most recent call last):\n" + "  frame\n" * 2_000 + "MemoryError"
    records += [
        LogRecord(at, "ERROR", long_text, service="api"),  # longer than a remembered scan
        LogRecord(at, "INFO", "", service="api", http_status=200),
        records[0],
    ]
    for classifier in (Classifier(SIGNATURES), Classifier(SIGNATURES, set_max_mem_bytes=1024)):
        assert classifier.classify_many(records) == [CLASSIFIER.classify(r) for r in records]


def test_huge_messages_are_classified_on_head_and_tail() -> None:
    frames = '  File "/app/x.py", line 1, in f\n    g()\n' * 20_000
    message = "Traceback (most recent call last):\n" + frames + "ModuleNotFoundError: No module named 'late_module'"
    assert len(message) > 10 * MAX_MESSAGE_CHARS
    finding = CLASSIFIER.classify_message(message)
    assert finding.signature == "python-module-not-found"
    assert finding.entities == {"module": "late_module"}


def _loghub_dir() -> Path:
    configured = os.environ.get("SITREP_LOGHUB")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2] / "shared" / "data" / "loghub"


@pytest.mark.slow
def test_set_and_naive_loop_agree_on_loghub() -> None:
    """32k real log lines from 16 systems: the RE2 set never changes a verdict."""
    root = _loghub_dir()
    files = sorted(root.glob("*/*_2k.log"))
    if not files:
        pytest.skip(f"loghub not found at {root}")
    for path in files:
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            finding = CLASSIFIER.classify_message(line, severity="INFO")
            assert finding.signature == naive_classify(SIGNATURES, line)[0], line
