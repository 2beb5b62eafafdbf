"""Pytest fixtures that start a fresh fake per test and stop it afterwards.

Register with ``pytest_plugins = ["tests.fakes.pytest_plugin"]`` in ``tests/conftest.py``
(or ``-p tests.fakes.pytest_plugin``). Each fixture yields a started server with its
default credentials: ``slack.BOT_TOKEN``/``slack.CHANNEL``, ``github.TOKEN``/``github.REPOSITORY``,
project ``test-project`` for Logging and Monitoring.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TypeVar

import pytest

from tests.fakes import FakeHTTPServer
from tests.fakes.cloud_logging import LoggingFake
from tests.fakes.cloud_monitoring import MonitoringFake
from tests.fakes.github import GitHubFake
from tests.fakes.slack import SlackFake

_Fake = TypeVar("_Fake", bound=FakeHTTPServer)


def _serve(fake: _Fake) -> Iterator[_Fake]:
    with fake:
        yield fake
        errors = fake.handler_errors
    if errors:  # a bug in the fake answered 500; do not let it pass as a service error
        pytest.fail(f"{type(fake).__name__} raised while handling requests: {errors}")


@pytest.fixture
def slack_server() -> Iterator[SlackFake]:
    """A started Slack Web API fake (``base_url`` ends with ``/api/``)."""
    yield from _serve(SlackFake())


@pytest.fixture
def github_server() -> Iterator[GitHubFake]:
    """A started GitHub REST fake with repository ``acme/shop`` (pull request #1 seeded)."""
    yield from _serve(GitHubFake())


@pytest.fixture
def logging_server() -> Iterator[LoggingFake]:
    """A started Cloud Logging fake with no entries; add them with ``add_entries``."""
    yield from _serve(LoggingFake())


@pytest.fixture
def monitoring_server() -> Iterator[MonitoringFake]:
    """A started Cloud Monitoring gRPC fake with no series; add them with ``add_series``."""
    with MonitoringFake() as fake:
        yield fake
