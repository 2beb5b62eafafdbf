"""What changed in the project: deploys and configuration changes, as typed values (issue 13).

Not to be confused with `functions.card.changes`, the diff between two delivered cards. These are
the changes made to the project itself, read from Cloud Audit Logs (Admin Activity) and from the
Cloud Run Admin API: `AuditChange` is one audit entry as parsed, `RevisionSpec` one revision's
configuration (env var NAMES only: values are never read), and `ProjectChange` is what the card
shows once the analysis has diffed the revisions and linked the change to the roots it explains.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class ChangeKind(StrEnum):
    """The kinds of change the card reports (values appear in the JSON output)."""

    DEPLOY = "deploy"  # a Cloud Run service created or updated (a new revision, or traffic)
    IAM = "iam"  # SetIamPolicy on the project, a service or a secret
    SECRET = "secret"  # a Secret Manager version added, disabled, enabled or destroyed
    DATABASE = "database"  # a Cloud SQL instance patched, updated, restarted or failed over
    NETWORK = "network"  # a VPC connector, network, subnetwork, route or firewall changed


@dataclass(frozen=True)
class RevisionSpec:
    """One Cloud Run revision's configuration, as far as it explains failures; never a secret's value."""

    name: str
    service: str = ""
    image: str = ""
    # Plain env vars as (name, fingerprint): the fingerprint is a keyed hash made at parse time with a
    # per-process key, so two revisions read by one process can be compared ("SERVICE_ID changed")
    # while the value itself is neither kept nor recoverable; only names ever reach the card.
    env: tuple[tuple[str, str], ...] = ()
    secret_refs: tuple[tuple[str, str], ...] = ()  # (env var or mount, "secret:version")
    memory: str = ""
    cpu: str = ""
    concurrency: int | None = None
    min_instances: int | None = None
    max_instances: int | None = None
    vpc_connector: str = ""
    vpc_egress: str = ""
    service_account: str = ""
    startup_probe: str = ""
    cloudsql_instances: tuple[str, ...] = ()
    created_at: datetime | None = None
    creator: str = ""


@dataclass(frozen=True)
class AuditChange:
    """One Admin Activity audit entry that changed something sitrep can relate to a failure."""

    kind: ChangeKind
    at: datetime | None
    actor: str  # authenticationInfo.principalEmail
    method: str  # protoPayload.methodName
    target: str  # the short name of what changed: service, secret, instance, connector, network
    resource: str = ""  # protoPayload.resourceName, as logged
    service: str = ""  # the Cloud Run service, for deploys and service IAM
    location: str = ""
    generation: int | None = None  # the service generation the deploy asked for (= its revision number)
    revision: str = ""  # the revision the change created, when the entry names it
    previous_revision: str = ""  # the revision serving before the change, when the entry names it
    spec: RevisionSpec | None = None  # the revision template the deploy asked for
    detail: tuple[str, ...] = ()  # what the entry says changed, plain text (redacted on the card)
    removes_access: bool = False  # an IAM change that removed at least one binding
    failed: bool = False  # protoPayload.status carried an error: nothing changed
    operation: str = ""  # the long-running operation id (its first and last entries are one change)


@dataclass(frozen=True)
class ChangeEvidence:
    """The changes read for a window: audit entries that record a change, and revision specs."""

    start: datetime | None = None
    end: datetime | None = None
    audit: tuple[AuditChange, ...] = ()
    revisions: tuple[RevisionSpec, ...] = ()
    error: str = ""


@dataclass(frozen=True)
class ProjectChange:
    """One line of the card's "What changed": when, who, what, the diff, and the roots it explains."""

    kind: ChangeKind
    at: datetime | None
    actor: str
    subject: str  # "backend-00742-b95", "secret db-password", "Cloud SQL orders-db"
    verb: str  # "deployed", "restarted", "IAM policy changed", ...
    details: tuple[str, ...] = ()  # "image …ab12 → …cd34", "env AUTH_URL removed"
    service: str = ""
    revision: str = ""
    previous_revision: str = ""
    env_removed: tuple[str, ...] = ()
    env_changed: tuple[str, ...] = ()
    env_added: tuple[str, ...] = ()
    image_changed: bool = False
    linked: tuple[str, ...] = ()  # the roots it explains, "category in service"


@dataclass(frozen=True)
class WhatChanged:
    """The card's section: the changes newest first, or the sentence that says none were found."""

    changes: tuple[ProjectChange, ...] = ()
    note: str = ""  # "No change found in the window …", or why changes could not be read
