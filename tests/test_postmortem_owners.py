"""The postmortem draft and the owners' mentions, pure: what they hold, and that nothing from logs, alerts or
people can mention, link or format anything in them."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from functions.core.errors import ConfigError
from functions.core.model import AlertState, Category, ConditionKind, IncidentStatus, RootCause, Severity
from functions.entry.settings import Settings
from functions.incidents.lifecycle import LedgerEntry, Member
from functions.incidents.owners import Owners, due_owners, notified_marks, parse_owners
from functions.incidents.postmortem import build_postmortem
from functions.render.owners import render_owners_markdown, render_owners_slack
from functions.render.postmortem import render_postmortem_markdown, render_postmortem_slack
from tests.cardfactory import staging_card
from tests.inert_judges import github_live, slack_live

T0 = datetime(2025, 9, 15, 22, 1, tzinfo=UTC)
HOSTILE = "<!channel> @here [click](https://evil.example) `x` | #12 *bold*"


def resolved_entry(**changes: object) -> LedgerEntry:
    members = (
        Member("0.a", HOSTILE, AlertState.CLOSED, T0, T0 + timedelta(minutes=40), services=("backend",)),
        Member("0.b", "auth 5xx ratio", AlertState.CLOSED, T0 + timedelta(minutes=3), T0 + timedelta(minutes=52),
               severity=Severity.WARNING, condition_kind=ConditionKind.THRESHOLD),
    )
    entry = LedgerEntry(
        key="netra-staging/staging", generation=1, status=IncidentStatus.RESOLVED, opened_at=T0,
        resolved_at=T0 + timedelta(minutes=52), members=members, acknowledged_by=HOSTILE,
        acknowledged_at=T0 + timedelta(minutes=5), silenced_until=T0 + timedelta(minutes=66), silenced_by="bob",
        resolution="every alert of the incident closed", issue_url="https://github.com/acme/shop/issues/7",
        peaks={"backend": 0.93},
    )
    return replace(entry, **changes)  # type: ignore[arg-type]


def test_the_timeline_is_in_order_and_names_the_people() -> None:
    pm = build_postmortem(resolved_entry(), staging_card(resolved=True))
    labels = [e.label for e in pm.timeline]
    assert {"First error logged", "Alert opened", "Alert joined", "Deploy", "Acknowledged", "Alert closed",
            "Resolved"} <= set(labels)
    assert labels[-1] == "Silenced"  # the ledger keeps no time of its own for it: listed last
    assert labels.index("Alert opened") < labels.index("Alert joined") < labels.index("Resolved")
    times = [e.at for e in pm.timeline if e.at is not None]
    assert times == sorted(times)
    assert pm.duration_minutes == 52


def test_impact_keeps_the_peak_ratio_seen_at_any_update() -> None:
    pm = build_postmortem(resolved_entry(), staging_card(resolved=True))
    backend = next(s for s in pm.impact if s.service == "backend")
    assert backend.peak_error_ratio == pytest.approx(0.93)
    assert backend.failed_requests == round(backend.requests * staging_card().health[0].error_ratio)


def test_nothing_from_alerts_or_people_becomes_markup_in_the_draft() -> None:
    card = staging_card(resolved=True)
    hostile_root = RootCause(Category.APPLICATION, "x", "backend", HOSTILE, (HOSTILE,), 3, Severity.ERROR, T0)
    card = replace(card, root_causes=(hostile_root,))
    pm = build_postmortem(resolved_entry(), card)
    markdown = render_postmortem_markdown(pm)
    assert github_live(markdown) == []  # judged by a CommonMark + GFM parser: no mention, reference, link or tag
    assert "evil.example" in markdown  # the text is there, inert
    slack = render_postmortem_slack(pm)
    issue_url = "https://github.com/acme/shop/issues/7"
    assert slack_live(slack, [issue_url]) == []
    assert len(slack["text"].splitlines()) == 3
    assert slack["text"].splitlines()[2] == f"📝 <{issue_url}|postmortem draft> in the tracking issue"


OWNERS = {"backend": {"slack": ["S0OWNERS01", "U0ALICE001"], "github": ["@alice", "acme/sre"]},
          "auth": {"slack": ["S0OWNERS01"]}}


def test_each_owner_is_due_once_whatever_services_they_own() -> None:
    owners = parse_owners(OWNERS)
    due = due_owners(owners, ["backend", "auth"], (), "slack")
    assert due == (("backend", ("S0OWNERS01", "U0ALICE001")),)  # the group owning auth too: once
    assert due_owners(owners, ["backend", "auth"], notified_marks(due, "slack"), "slack") == ()
    assert owners["backend"] == Owners(("S0OWNERS01", "U0ALICE001"), ("alice", "acme/sre"))
    assert owners["backend"].github_users == ("alice",)


def test_mentions_are_built_from_configuration_and_service_names_stay_text() -> None:
    due = (("<!here>", ("S0OWNERS01", "U0ALICE001")),)
    assert render_owners_slack(due)["text"] == "📣 Owners: <!subteam^S0OWNERS01> <@U0ALICE001> (&lt;!here&gt;)"
    assert render_owners_markdown((("@svc", ("acme/sre",)),)).startswith("📣 Owners: @acme/sre (`@svc`)")


@pytest.mark.parametrize(
    "value",
    [
        '{"backend": {"slack": ["<!channel>"]}}',
        '{"backend": {"github": ["not a handle"]}}',
        '{"backend": {"pager": ["x"]}}',
        "[1, 2]",
        "/nonexistent/owners.yaml",
    ],
)
def test_a_bad_owners_setting_is_refused_naming_it(value: str) -> None:
    with pytest.raises(ConfigError, match="SITREP_OWNERS"):
        Settings.from_env({"SITREP_OWNERS": value})


def test_owners_can_come_from_a_yaml_file(tmp_path: Path) -> None:
    path = tmp_path / "owners.yaml"
    path.write_text("backend:\n  slack: [S0OWNERS01]\n  github: [acme/sre]\n", encoding="utf-8")
    assert Settings.from_env({"SITREP_OWNERS": str(path)}).owners == {"backend": Owners(("S0OWNERS01",),
                                                                                          ("acme/sre",))}
