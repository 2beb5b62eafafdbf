"""`replay` delivers exactly like the function when Slack / GitHub settings are present."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from functions.entry.replay import load_replay, run_replay
from functions.entry.settings import Settings
from tests.fakes import github as gh
from tests.fakes import slack as sl
from tests.fakes.github import GitHubFake
from tests.fakes.slack import SlackFake

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "staging-outage"


def settings_for(slack: SlackFake, github: GitHubFake, tmp_path: Path) -> Settings:
    return Settings.from_env(
        {
            "SLACK_BOT_TOKEN": sl.BOT_TOKEN,
            "SLACK_CHANNEL": sl.CHANNEL,
            "SLACK_API_URL": slack.base_url,
            "GITHUB_TOKEN": gh.TOKEN,
            "GITHUB_REPOSITORY": gh.REPOSITORY,
            "GITHUB_API_URL": github.url,
            "SITREP_GITHUB_WRITE_INTERVAL_SECONDS": "0",
            "SITREP_LEDGER": str(tmp_path / "ledger.json"),
        }
    )


def test_replay_posts_once_then_resolves_in_place(slack_server: SlackFake, github_server: GitHubFake,
                                                  tmp_path: Path) -> None:
    settings = settings_for(slack_server, github_server, tmp_path)
    first = run_replay(load_replay(EXAMPLE), settings)
    assert "slack: posted" in first.delivery_log and "github: created" in first.delivery_log
    again = run_replay(load_replay(EXAMPLE), settings)
    assert again.delivery_log[0].endswith("duplicate")
    assert again.card.root_causes  # the card is still printed, from a fresh analysis

    closed = tmp_path / "closed"
    shutil.copytree(EXAMPLE, closed)
    alert = json.loads((closed / "alert.json").read_text())
    alert["incident"]["state"] = "closed"
    alert["incident"]["ended_at"] = alert["incident"]["started_at"] + 1800
    (closed / "alert.json").write_text(json.dumps(alert))
    resolved = run_replay(load_replay(closed), settings)
    assert resolved.delivery_log[0].endswith("resolved")
    [card] = slack_server.messages(sl.CHANNEL)[:1]
    assert "RESOLVED" in json.dumps(slack_server.message(sl.CHANNEL, card["ts"])["blocks"])
    [issue] = [i for i in github_server.issues() if i["number"] != 1]
    assert issue["state"] == "closed"


def test_replay_without_github_keeps_a_file_ledger(slack_server: SlackFake, tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.json"
    settings = Settings.from_env({"SLACK_BOT_TOKEN": sl.BOT_TOKEN, "SLACK_CHANNEL": sl.CHANNEL,
                                  "SLACK_API_URL": slack_server.base_url, "SITREP_LEDGER": str(ledger)})
    run_replay(load_replay(EXAMPLE), settings)
    run_replay(load_replay(EXAMPLE), settings)
    assert len(slack_server.messages(sl.CHANNEL)) == 1
    assert "netra-staging/staging" in json.loads(ledger.read_text())["entries"]
