"""String contracts shared with the world outside the code: one constant or enum each.

`FAILURE_EVENT` is counted by the Terraform module's self-monitoring metric
(terraform/modules/sitrep/selfmon.tf, `jsonPayload.sitrep_event="sitrep_failure"`): renaming it silently
blinds that alert, so a test reads the HCL and checks it against this constant.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

EVENT_FIELD: Final = "sitrep_event"
FAILURE_EVENT: Final = "sitrep_failure"


def failure_fields(**fields: object) -> dict[str, object]:
    """The `extra` of a log line that the self-monitoring alert counts as a sitrep failure."""
    return {**fields, EVENT_FIELD: FAILURE_EVENT}


class Surface(StrEnum):
    """Where an incident is shown, and what a delivery error names as the part that failed."""

    SLACK = "slack"
    GITHUB = "github"


class ResolveMode(StrEnum):
    """What happens to the tracking issue when the incident resolves (SITREP_RESOLVE_MODE)."""

    CLOSE = "close"
    LABEL = "label"


class EvidenceScope(StrEnum):
    """Whose logs and metrics are read (SITREP_EVIDENCE_SCOPE): the whole project, or the alert's services."""

    PROJECT = "project"
    ALERT = "alert"
