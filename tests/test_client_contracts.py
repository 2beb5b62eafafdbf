"""What the adapters rely on inside the client libraries, pinned so that an upgrade that changes it fails here.

The Cloud Logging adapter reads raw `entries:list` pages through google-cloud-logging's own HTTP
connection (`Client._connection.api_request`): it keeps the library's endpoint, credentials and retries
while counting calls exactly and building no per-entry Logger objects. That connection is not a public
API, so functions/adapters/cloud_logging.py is the only module that touches it, and this test says
precisely which parts of it are used.
"""

from __future__ import annotations

import inspect

from google.auth.credentials import AnonymousCredentials
from google.cloud import logging as gcl

ENDPOINT = "http://127.0.0.1:9"  # never contacted: these tests only build clients


def test_the_logging_client_takes_an_endpoint_override_and_anonymous_credentials() -> None:
    client = gcl.Client(project="p", credentials=AnonymousCredentials(), client_options={"api_endpoint": ENDPOINT})
    assert client.project == "p"
    assert client._connection.build_api_url("/entries:list").startswith(f"{ENDPOINT}/v2/entries:list")


def test_the_logging_connection_posts_a_json_body_with_a_timeout() -> None:
    client = gcl.Client(project="p", credentials=AnonymousCredentials(), client_options={"api_endpoint": ENDPOINT})
    parameters = inspect.signature(client._connection.api_request).parameters
    assert {"method", "path", "data", "timeout"} <= set(parameters)
