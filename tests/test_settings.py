"""Settings: one validated object; secrets never print; the README documents every variable with its default."""

from __future__ import annotations

from pathlib import Path

import pytest

from functions.core.errors import ConfigError
from functions.core.secret import Secret
from functions.entry.settings import DOCUMENTED, Settings

ROOT = Path(__file__).resolve().parent.parent


def test_defaults_need_no_environment() -> None:
    settings = Settings.from_env({})
    assert not settings.slack_enabled and not settings.github_enabled
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.github_api_url == "https://api.github.com"
    assert settings.log_pages == 3 and settings.health.failing_5xx_ratio == 0.5


def test_secrets_never_show_in_repr_or_str() -> None:
    settings = Settings.from_env({"SLACK_BOT_TOKEN": "xoxb-123-456-abc", "GITHUB_TOKEN": "ghp_" + "a" * 36})
    assert "xoxb" not in repr(settings) and "ghp_" not in repr(settings)
    assert str(settings.slack_bot_token) == "<secret>"
    assert settings.slack_bot_token.reveal() == "xoxb-123-456-abc"


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"GITHUB_REPOSITORY": "just-a-name"}, "GITHUB_REPOSITORY"),
        ({"SLACK_CHANNEL": "#incidents"}, "SLACK_CHANNEL"),
        ({"SITREP_LOG_PAGES": "many"}, "SITREP_LOG_PAGES"),
        ({"SITREP_LOG_PAGE_SIZE": "5000"}, "SITREP_LOG_PAGE_SIZE"),
        ({"SITREP_FAILING_5XX_RATIO": "1.5"}, "SITREP_FAILING_5XX_RATIO"),
        ({"SITREP_RESOLVE_MODE": "delete"}, "SITREP_RESOLVE_MODE"),
        ({"SITREP_EVIDENCE_SCOPE": "world"}, "SITREP_EVIDENCE_SCOPE"),
        ({"SLACK_API_URL": "slack.com/api"}, "SLACK_API_URL"),
        ({"SITREP_METRIC_PREFIX": "Sitrep/Prod"}, "SITREP_METRIC_PREFIX"),
    ],
)
def test_invalid_values_name_the_variable(env: dict[str, str], names: str) -> None:
    with pytest.raises(ConfigError, match=names):
        Settings.from_env(env)


def test_slack_api_url_gets_its_trailing_slash() -> None:
    assert Settings.from_env({"SLACK_API_URL": "http://127.0.0.1:9/api"}).slack_api_url == "http://127.0.0.1:9/api/"


def test_secret_equality_without_disclosure() -> None:
    assert Secret("a") == Secret("a") and Secret("a") != Secret("b")
    assert not Secret("")


def test_readme_documents_every_setting_with_its_default() -> None:
    readme = (ROOT / "README.md").read_text()
    for name, (default, _meaning) in DOCUMENTED.items():
        row = next((line for line in readme.splitlines() if line.startswith(f"| `{name}` |")), None)
        assert row is not None, f"README lacks a settings row for {name}"
        assert (f"`{default}`" if default else "(unset)") in row, f"README default of {name} differs"
