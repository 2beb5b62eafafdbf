"""What changed in the project: the revision diff, and the links from changes to the roots they explain.

Pure. `what_changed` turns the audit entries and revision specs of the window into the card's
lines, newest first: a deploy is diffed against the revision it replaced (image, env var names,
secret versions, limits, concurrency, scaling, VPC access, service account, startup probe).
`link_changes` then ties a change to a root cause only when both touch the same thing:

* a configuration root naming an env var  <-> a deploy of that service that removed or changed it;
* a missing module                         <-> a deploy of that service with a new image;
* a container that cannot start            <-> a deploy of that service with a new image or probe;
* memory / resource exhaustion             <-> a deploy of that service that changed its limits;
* database failures                        <-> a Cloud SQL patch, update, restart or failover (of an
                                               instance the service uses, when its spec says which);
* permission denied                        <-> an IAM change that removed a binding (or whose delta
                                               the entry does not carry) on the project, the service
                                               or a secret;
* network failures                         <-> a VPC connector or network change, or a deploy that
                                               changed the service's VPC access.

A change linked to a root must have happened before the root's first error. Nothing else is
linked: no timing-only guesses. The rollback action names the deploy it undoes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from functions.analysis.deploys import rollback_command
from functions.core.model import Action, Category, LogRecord, Priority, RootCause
from functions.core.project_changes import (
    AuditChange,
    ChangeEvidence,
    ChangeKind,
    ProjectChange,
    RevisionSpec,
    WhatChanged,
)
from functions.intake.changes import revision_number

# At most this many revisions are read from the Cloud Run Admin API per update (issue 13).
MAX_REVISION_READS = 2
ENV_LIMIT = 6  # env var names listed per kind before "and N more"


@dataclass(frozen=True)
class SpecDiff:
    """What differs between two revision specs; `details` are the card's phrases."""

    details: tuple[str, ...] = ()
    env_removed: tuple[str, ...] = ()
    env_changed: tuple[str, ...] = ()
    env_added: tuple[str, ...] = ()
    image_changed: bool = False
    limits_changed: bool = False
    network_changed: bool = False
    probe_changed: bool = False


def image_label(image: str) -> str:
    """A short, distinguishing label: the digest's tail ("…ab12") or the image's last path segment."""
    if "@sha256:" in image:
        return "…" + image.rsplit(":", 1)[1][-4:]
    return image.rsplit("/", 1)[-1]


def _names(names: Sequence[str]) -> str:
    shown = ", ".join(names[:ENV_LIMIT])
    return shown + (f" and {len(names) - ENV_LIMIT} more" if len(names) > ENV_LIMIT else "")


def _moved(label: str, before: object, after: object) -> str | None:
    if before == after:
        return None
    old = before if before not in (None, "") else "unset"
    new = after if after not in (None, "") else "unset"
    return f"{label} {old} → {new}"


def diff_specs(old: RevisionSpec, new: RevisionSpec) -> SpecDiff:
    """Everything that differs between the revision that served and the one that replaced it."""
    details: list[str] = []
    image_changed = bool(old.image and new.image and old.image != new.image)
    if image_changed:
        before, after = image_label(old.image), image_label(new.image)
        if before == after:
            before, after = old.image, new.image
        details.append(f"image {before} → {after}")
    old_env, new_env = dict(old.env), dict(new.env)
    old_secret, new_secret = dict(old.secret_refs), dict(new.secret_refs)
    old_all = {**old_env, **old_secret}
    new_all = {**new_env, **new_secret}
    removed = sorted(set(old_all) - set(new_all))
    added = sorted(set(new_all) - set(old_all))
    changed = sorted(
        name
        for name in set(old_all) & set(new_all)
        if old_env.get(name) != new_env.get(name) or old_secret.get(name) != new_secret.get(name)
    )
    env_parts = []
    if changed:
        env_parts.append(f"{_names(changed)} changed")
    if removed:
        env_parts.append(f"{_names(removed)} removed")
    if added:
        env_parts.append(f"{_names(added)} added")
    if env_parts:
        details.append("env " + ", ".join(env_parts))
    for name in changed:
        if name in old_secret and name in new_secret and old_secret[name] != new_secret[name]:
            details.append(f"secret {old_secret[name]} → {new_secret[name]} ({name})")
    limits = [
        _moved("memory", old.memory, new.memory),
        _moved("CPU", old.cpu, new.cpu),
        _moved("concurrency", old.concurrency, new.concurrency),
        _moved("min instances", old.min_instances, new.min_instances),
        _moved("max instances", old.max_instances, new.max_instances),
    ]
    network = [
        _moved("VPC connector", old.vpc_connector, new.vpc_connector),
        _moved("VPC egress", old.vpc_egress, new.vpc_egress),
    ]
    account = _moved("service account", old.service_account, new.service_account)
    probe = _moved("startup probe", old.startup_probe, new.startup_probe)
    sql = _moved("Cloud SQL", ",".join(old.cloudsql_instances), ",".join(new.cloudsql_instances))
    details += [d for d in (*limits, *network, account, probe, sql) if d]
    return SpecDiff(
        details=tuple(details),
        env_removed=tuple(removed),
        env_changed=tuple(changed),
        env_added=tuple(added),
        image_changed=image_changed,
        limits_changed=any(limits),
        network_changed=any(network),
        probe_changed=probe is not None,
    )


def _merge_operations(audit: Iterable[AuditChange]) -> list[AuditChange]:
    """A long-running operation logs a first and a last entry: one change, timed by its first."""
    by_op: dict[str, AuditChange] = {}
    out: list[AuditChange] = []
    for change in sorted(audit, key=lambda c: (c.at is None, c.at.timestamp() if c.at else 0.0)):
        if not change.operation:
            out.append(change)
            continue
        seen = by_op.get(change.operation)
        if seen is None:
            by_op[change.operation] = change
            out.append(change)
            continue
        merged = replace(
            seen,
            revision=seen.revision or change.revision,
            previous_revision=seen.previous_revision or change.previous_revision,
            spec=seen.spec or change.spec,
            generation=seen.generation if seen.generation is not None else change.generation,
            failed=seen.failed or change.failed,
            detail=seen.detail or change.detail,
            actor=seen.actor or change.actor,
        )
        by_op[change.operation] = merged
        out[out.index(seen)] = merged
    return out


def _in_window(change: AuditChange, start: datetime | None, end: datetime | None) -> bool:
    if change.at is None:
        return True
    return (start is None or change.at >= start) and (end is None or change.at <= end)


def _previous_spec(
    change: AuditChange, new: RevisionSpec | None, specs: Mapping[str, RevisionSpec], earlier: Sequence[AuditChange]
) -> RevisionSpec | None:
    """The spec the deploy replaced: the named previous revision, an earlier deploy's, or the newest older one."""
    if change.previous_revision in specs:
        return specs[change.previous_revision]
    for before in reversed(earlier):
        if before.kind is ChangeKind.DEPLOY and before.service == change.service and before.spec is not None:
            return before.spec
    number = revision_number(new.name) if new is not None else (change.generation or -1)
    older = [s for s in specs.values() if s.service == change.service and 0 <= revision_number(s.name) < number]
    return max(older, key=lambda s: revision_number(s.name)) if older else None


def _deploy(change: AuditChange, specs: Mapping[str, RevisionSpec], earlier: Sequence[AuditChange]) -> ProjectChange:
    revision = change.revision
    if not revision and change.generation is not None:
        revision = next(
            (
                name
                for name, s in specs.items()
                if s.service == change.service and revision_number(name) == change.generation
            ),
            "",
        )
    new = specs.get(revision) or change.spec
    old = _previous_spec(change, new, specs, earlier)
    diff = diff_specs(old, new) if old is not None and new is not None else SpecDiff()
    details = diff.details
    if new is not None and old is None and new.image:
        details = (f"image {image_label(new.image)} (the previous revision's spec was not available)",)
    elif new is not None and old is not None and not details:
        details = ("no configuration change (traffic or metadata only)",)
    generation = f"{change.service} (generation {change.generation})" if change.generation else change.service
    subject = revision or generation
    previous = change.previous_revision or (old.name if old is not None and old.name else "")
    return ProjectChange(
        kind=ChangeKind.DEPLOY,
        at=change.at,
        actor=change.actor,
        subject=subject,
        verb="deployed",
        details=details,
        service=change.service,
        revision=revision,
        previous_revision=previous if previous != revision else "",
        env_removed=diff.env_removed,
        env_changed=diff.env_changed,
        env_added=diff.env_added,
        image_changed=diff.image_changed,
    )


_VERBS = {
    ChangeKind.IAM: "IAM policy changed",
    ChangeKind.SECRET: "changed",
    ChangeKind.DATABASE: "changed",
    ChangeKind.NETWORK: "changed",
}


def _other(change: AuditChange) -> ProjectChange:
    subject = {
        ChangeKind.SECRET: f"secret {change.target}",
        ChangeKind.DATABASE: f"Cloud SQL {change.target}",
        ChangeKind.NETWORK: change.target,
    }.get(change.kind, change.target)
    verb = _VERBS[change.kind]
    details = change.detail
    if change.kind in (ChangeKind.SECRET, ChangeKind.DATABASE, ChangeKind.NETWORK) and details:
        verb, details = details[0], details[1:]
    return ProjectChange(
        kind=change.kind,
        at=change.at,
        actor=change.actor,
        subject=subject,
        verb=verb,
        details=details,
        service=change.service,
    )


def what_changed(evidence: ChangeEvidence) -> tuple[ProjectChange, ...]:
    """The window's changes, newest first; failed requests changed nothing and are left out."""
    specs = {s.name: s for s in evidence.revisions if s.name}
    audit = [
        c for c in _merge_operations(evidence.audit) if not c.failed and _in_window(c, evidence.start, evidence.end)
    ]
    lines: list[ProjectChange] = []
    for i, change in enumerate(audit):
        lines.append(_deploy(change, specs, audit[:i]) if change.kind is ChangeKind.DEPLOY else _other(change))
    lines.sort(key=lambda c: (c.at is not None, c.at.timestamp() if c.at else 0.0), reverse=True)
    return tuple(lines)


def revisions_to_read(audit: Sequence[AuditChange], records: Iterable[LogRecord]) -> tuple[str, ...]:
    """Full names of the (at most two) revisions worth reading: the newest deploy's new and previous ones.

    The deploy chosen is the newest of a service that logged failures, else the newest overall.
    Its new revision is the one the entry names, else the service's revision numbered like the
    generation the deploy asked for, as seen in the logs.
    """
    deploys = [c for c in _merge_operations(audit) if c.kind is ChangeKind.DEPLOY and not c.failed and c.location]
    if not deploys:
        return ()
    seen: dict[str, set[str]] = {}
    for record in records:
        if record.service and record.revision:
            seen.setdefault(record.service, set()).add(record.revision)
    failing = [c for c in deploys if c.service in seen] or deploys
    change = failing[-1]
    revision = change.revision or next(
        (r for r in sorted(seen.get(change.service, ())) if revision_number(r) == change.generation), ""
    )
    project = change.resource.split("/")[1] if change.resource.startswith(("projects/", "namespaces/")) else ""
    if not project:
        return ()
    base = f"projects/{project}/locations/{change.location}/services/{change.service}/revisions/"
    names = [base + r for r in (revision, change.previous_revision) if r]
    return tuple(dict.fromkeys(names))[:MAX_REVISION_READS]


# --- linking -------------------------------------------------------------------------------


def _before(change: ProjectChange, cause: RootCause) -> bool:
    """A change explains a root only if it happened before the root's first error."""
    return change.at is None or cause.first_seen is None or change.at <= cause.first_seen


def _same_service(change: ProjectChange, cause: RootCause) -> bool:
    return not cause.service or change.service == cause.service


def _sql_instances(specs: Iterable[RevisionSpec], service: str) -> set[str]:
    return {i.rsplit(":", 1)[-1] for s in specs if s.service == service for i in s.cloudsql_instances}


_WITHDRAWN = ("version disabled", "version destroyed")  # a secret version the service may still point at


def explains(change: ProjectChange, cause: RootCause, specs: Sequence[RevisionSpec] = ()) -> bool:
    """True when the change and the root touch the same thing (see the module docstring)."""
    if not _before(change, cause):
        return False
    category = cause.category
    if change.kind is ChangeKind.DEPLOY:
        if not _same_service(change, cause):
            return False
        touched = {*change.env_removed, *change.env_changed}
        if category is Category.CONFIGURATION:
            return bool(touched & set(cause.entities.get("env_var", ())))
        if category is Category.DEPENDENCY_MISSING:
            return change.image_changed
        if category is Category.CONTAINER_STARTUP:
            return change.image_changed or any(d.startswith("startup probe") for d in change.details)
        if category is Category.RESOURCE_EXHAUSTION:
            return any(d.startswith(("memory ", "CPU ", "concurrency ", "max instances ")) for d in change.details)
        if category is Category.NETWORK:
            return any(d.startswith("VPC ") for d in change.details)
        return False
    if change.kind is ChangeKind.DATABASE:
        if category is not Category.DATABASE:
            return False
        used = _sql_instances(specs, cause.service)
        return not used or change.subject.removeprefix("Cloud SQL ") in used
    if change.kind is ChangeKind.IAM:
        removed = any(d.startswith("removed ") for d in change.details) or not change.details
        return category is Category.AUTH and removed and (not change.service or _same_service(change, cause))
    if change.kind is ChangeKind.NETWORK:
        return category is Category.NETWORK
    if change.kind is ChangeKind.SECRET:
        if category is not Category.CONFIGURATION or not change.verb.startswith(_WITHDRAWN):
            return False
        secret = change.subject.removeprefix("secret ")
        refs = (ref for s in specs if s.service == cause.service for _, ref in s.secret_refs)
        return any(ref.split(":", 1)[0] == secret for ref in refs)
    return False


def change_phrase(change: ProjectChange) -> str:
    """'01:04 backend-00742-b95 deployed by ci@… — image …ab12 → …cd34; env AUTH_URL removed'."""
    when = change.at.strftime("%H:%M") + " " if change.at else ""
    who = f" by {change.actor}" if change.actor else ""
    what = f" — {'; '.join(change.details)}" if change.details else ""
    return f"{when}{change.subject} {change.verb}{who}{what}"


def rollback_text(change: ProjectChange, command: str) -> str:
    """The rollback action, naming the deploy it undoes."""
    why = f" ({change.details[0]})" if change.details else ""
    when = change.at.strftime("%H:%M") + " " if change.at else ""
    who = f" by {change.actor}" if change.actor else ""
    return (
        f"Roll back {change.service} to {change.previous_revision}, undoing the {when}deploy of "
        f"{change.subject}{who}{why}: `{command}`"
    )


@dataclass(frozen=True)
class Linked:
    """Roots with the change they are linked to appended to their why-chain, the changes, the actions."""

    root_causes: tuple[RootCause, ...]
    contributing: tuple[RootCause, ...]
    actions: tuple[Action, ...]
    what_changed: WhatChanged


def link_changes(
    evidence: ChangeEvidence | None,
    root_causes: Sequence[RootCause],
    contributing: Sequence[RootCause],
    actions: Sequence[Action],
    region: str = "",
    now: datetime | None = None,
) -> Linked:
    """Read the window's changes, link them to the roots they explain, name the deploy a rollback undoes.

    A window still open (no end) ends at `now`, the moment the incident is judged at.
    """
    if evidence is None:
        return Linked(tuple(root_causes), tuple(contributing), tuple(actions), WhatChanged())
    if evidence.end is None and now is not None:
        evidence = replace(evidence, end=now)
    changes = list(what_changed(evidence))
    specs = [*evidence.revisions, *(c.spec for c in evidence.audit if c.spec is not None)]
    out_actions = list(actions)
    linked_roots: list[list[RootCause]] = [[], []]
    for group, causes in enumerate((root_causes, contributing)):
        for cause in causes:
            hits = [i for i, change in enumerate(changes) if explains(change, cause, specs)]
            for i in hits:
                label = f"{cause.category.value} in {cause.service}" if cause.service else cause.category.value
                changes[i] = replace(changes[i], linked=(*changes[i].linked, label))
            if hits:
                newest = changes[hits[0]]
                cause = replace(cause, chain=(*cause.chain, f"changed before it: {change_phrase(newest)}"))
                if newest.kind is ChangeKind.DEPLOY and newest.previous_revision and group == 0:
                    cause = replace(
                        cause,
                        revision=cause.revision or newest.revision,
                        previous_revision=cause.previous_revision or newest.previous_revision,
                    )
                    out_actions = _with_rollback(out_actions, cause, newest, region)
            linked_roots[group].append(cause)
    note = ""
    if evidence.error:
        note = f"Changes could not be read: {evidence.error}"
    elif not changes:
        note = "No change found in the window" + _window(evidence) + "."
    return Linked(tuple(linked_roots[0]), tuple(linked_roots[1]), tuple(out_actions), WhatChanged(tuple(changes), note))


def _window(evidence: ChangeEvidence) -> str:
    if evidence.start is None or evidence.end is None:
        return ""
    return f" ({evidence.start.strftime('%H:%M')}–{evidence.end.strftime('%H:%M')} UTC)"


def _with_rollback(actions: list[Action], cause: RootCause, change: ProjectChange, region: str) -> list[Action]:
    """Replace the service's rollback (or add one first) with a text that names the deploy it undoes."""
    command = rollback_command(change.service, change.previous_revision, region)
    text = rollback_text(change, command)
    prefix = f"Roll back {change.service} to "
    kept = [a for a in actions if not a.text.startswith(prefix)]
    return [Action(Priority.P0, text, cause.category, cause.signature), *kept]
