"""Grouping: which environment an alert's incident belongs to (docs/ARCHITECTURE.md)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from functions.card.incident import incident_key, with_group_environment
from functions.core.model import Alert, AlertState, ConditionKind, Severity

BASE = Alert(
    incident_id="0.a",
    state=AlertState.OPEN,
    policy_name="p",
    condition_name="c",
    condition_kind=ConditionKind.THRESHOLD,
    project_id="shop-prod",
    started_at=None,
    ended_at=None,
    severity=Severity.ERROR,
    environment="shop-prod",
)


@pytest.mark.parametrize(
    ("labels", "groups", "default", "expected"),
    [
        ({"env": "staging"}, ("env", "environment"), "", "shop-prod/staging"),
        ({"environment": "prod"}, ("env", "environment"), "", "shop-prod/prod"),
        ({"tier": "gold"}, ("tier",), "", "shop-prod/gold"),  # SITREP_GROUP_LABEL=tier
        ({}, ("env", "environment"), "", "shop-prod/shop-prod"),  # no label: the project
        ({}, ("env", "environment"), "production", "shop-prod/production"),  # SITREP_ENVIRONMENT
        ({"env": "staging"}, ("env",), "production", "shop-prod/staging"),  # a label wins over the default
    ],
)
def test_alerts_group_by_label_then_deployment_environment_then_project(
    labels: dict[str, str], groups: tuple[str, ...], default: str, expected: str
) -> None:
    alert = replace(BASE, policy_labels=labels)
    assert incident_key(with_group_environment(alert, groups, default)) == expected
