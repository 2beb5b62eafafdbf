"""Changes in the project, from their wire formats: Admin Activity audit entries and Cloud Run revisions.

Pure. An audit entry is a LogEntry whose `protoPayload` is a `google.cloud.audit.AuditLog` in the log
`projects/P/logs/cloudaudit.googleapis.com%2Factivity`; `audit_change` keeps the ones sitrep can
relate to a failure (Cloud Run deploys and IAM, Secret Manager versions, Cloud SQL instances, VPC
connectors and networks) and drops the rest. `records_and_changes` sits beside `record_from_entry`: it takes
the entries recording a change out of a log stream (they are not application logs to classify) and
lets the others through as LogRecords.

Revisions come in two shapes, and `revision_spec` reads both: the Cloud Run Admin API v2 (JSON of
`run_v2.Revision`, or a v2 `Service.template`) and the v1 Knative shape that `gcloud run revisions
describe --format=json` prints (or a v1 `Service.spec.template`, as a ReplaceService request holds).
Env var values are never read: only names, and for secrets the secret and version they point at.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from functions.core.coerce import as_int, as_mapping, as_text
from functions.core.errors import EvidenceError
from functions.core.model import LogRecord
from functions.core.project_changes import AuditChange, ChangeKind, RevisionSpec
from functions.intake.evidence import iter_log_entries, parse_rfc3339, record_from_entry, short_log_name

ACTIVITY_LOG = "cloudaudit.googleapis.com/activity"  # the Admin Activity audit log, unquoted
AUDIT_LOG_TYPE = "type.googleapis.com/google.cloud.audit.AuditLog"

_RUN_DEPLOY = frozenset({
    "google.cloud.run.v1.Services.ReplaceService",
    "google.cloud.run.v1.Services.CreateService",
    "google.cloud.run.v2.Services.UpdateService",
    "google.cloud.run.v2.Services.CreateService",
})  # fmt: skip
_SECRET_VERBS = {
    "AddSecretVersion": "version added",
    "DisableSecretVersion": "version disabled",
    "EnableSecretVersion": "version enabled",
    "DestroySecretVersion": "version destroyed",
}
_SQL_VERBS = {
    "cloudsql.instances.patch": "patched",
    "cloudsql.instances.update": "updated",
    "cloudsql.instances.restart": "restarted",
    "cloudsql.instances.failover": "failed over",
    "cloudsql.instances.restoreBackup": "restored from a backup",
}
# VPC Access connectors (vpcaccess.googleapis.com) and Compute networking (`v1.compute.firewalls.patch`).
_VPC_METHOD = re.compile(r"\.VpcAccessService\.(Create|Update|Delete)Connector$")
_COMPUTE_NET = re.compile(
    r"^(?:v1|beta|alpha)\.compute\.(networks|subnetworks|firewalls|routes|routers)\."
    r"(insert|delete|patch|update|expandIpCidrRange|switchToCustomMode)$"
)
_REVISION_NUMBER = re.compile(r"-(\d{5})-[a-z0-9]{3}$")
# Env var values are fingerprinted with this key and dropped: the key lives only in this process, so
# a fingerprint compares two revisions read here and says nothing about the value anywhere else.
_FINGERPRINT_KEY = os.urandom(32)


# --- audit entries -----------------------------------------------------------------------


def is_activity_audit(entry: object) -> bool:
    """True for an Admin Activity audit entry: it is evidence of a change, never an application log line."""
    if not isinstance(entry, Mapping):
        return False
    return short_log_name(as_text(entry.get("logName"))).endswith(ACTIVITY_LOG) and bool(
        as_mapping(entry.get("protoPayload"))
    )


def records_and_changes(entries: Iterable[object]) -> Iterator[LogRecord | AuditChange]:
    """Each entry as what it is: a LogRecord, or the AuditChange an Admin Activity audit entry records.

    Other audit entries (a job run, a failed execution's system event) stay log evidence, as before.
    One stream carries both, so a replay reads its export once and the analysis takes the changes
    from the same pass (functions.analysis.pipeline).
    """
    for entry in entries:
        change = audit_change(entry) if is_activity_audit(entry) else None
        yield change if change is not None else record_from_entry(entry)


def iter_evidence(path: Path | str) -> Iterator[LogRecord | AuditChange]:
    """Stream a log export: the C-speed reader (functions.intake.logscan) while it can, the reference after.

    The fast reader stops at the first thing it cannot read exactly as `records_and_changes` would
    (another layout, an odd field, malformed or poison JSON); the reference reader then goes on from
    there, so results and errors never depend on which reader read an entry.
    """
    from functions.intake.logscan import Unsuitable, fast_records  # msgspec: loaded by replays, not at cold start

    done = 0
    try:
        for item in fast_records(path):
            yield item
            done += 1
        return
    except Unsuitable:
        pass
    except OSError:
        pass  # the reader below names the file and the problem
    for index, item in enumerate(records_and_changes(iter_log_entries(path))):
        if index >= done:
            yield item


def audit_changes(entries: Iterable[object]) -> tuple[AuditChange, ...]:
    """Every recognised change among `entries` (an entries:list page of the audit query)."""
    found: list[AuditChange] = []
    for entry in entries:
        if is_activity_audit(entry):
            change = audit_change(entry)
            if change is not None:
                found.append(change)
    return tuple(found)


def audit_change(entry: object) -> AuditChange | None:
    """The change one audit entry records, or None when it is not one sitrep relates to failures."""
    if not isinstance(entry, Mapping):
        return None
    proto = as_mapping(entry.get("protoPayload"))
    method = as_text(proto.get("methodName"))
    if not method:
        return None
    resource = as_text(proto.get("resourceName"))
    labels = as_mapping(as_mapping(entry.get("resource")).get("labels"))
    status = as_mapping(proto.get("status"))
    operation = as_mapping(entry.get("operation"))
    base: dict[str, Any] = {
        "at": parse_rfc3339(entry.get("timestamp")),
        "actor": as_text(as_mapping(proto.get("authenticationInfo")).get("principalEmail")),
        "method": method,
        "resource": resource,
        "failed": bool(as_int(status.get("code"))),
        "operation": as_text(operation.get("id")),
    }
    if method in _RUN_DEPLOY:
        return _run_deploy(proto, labels, base)
    short = method.rsplit(".", 1)[-1]
    if short == "SetIamPolicy":
        return _iam(proto, resource, base)
    if ".SecretManagerService." in method and short in _SECRET_VERBS:
        secret, version = _secret_version(resource)
        detail = f"{_SECRET_VERBS[short]}" + (f" ({version})" if version else "")
        return AuditChange(ChangeKind.SECRET, target=secret, detail=(detail,), **base)
    if method in _SQL_VERBS:
        instance = resource.rsplit("/", 1)[-1] or as_text(labels.get("database_id")).rpartition(":")[2]
        return AuditChange(ChangeKind.DATABASE, target=instance, detail=(_SQL_VERBS[method],), **base)
    vpc, net = _VPC_METHOD.search(method), _COMPUTE_NET.match(method)
    if vpc or net:
        what = f"VPC connector {vpc.group(1).lower()}d" if vpc else f"{net.group(1)} {net.group(2)}" if net else ""
        return AuditChange(ChangeKind.NETWORK, target=resource.rsplit("/", 1)[-1], detail=(what,), **base)
    return None


def _run_deploy(proto: Mapping[str, Any], labels: Mapping[str, Any], base: dict[str, Any]) -> AuditChange:
    """A Cloud Run service update (v1 ReplaceService: Knative Service; v2 UpdateService: v2 Service)."""
    request = as_mapping(proto.get("request"))
    response = as_mapping(proto.get("response"))
    service_body = as_mapping(request.get("service"))
    name = as_text(service_body.get("name")) or as_text(request.get("name")) or as_text(base["resource"])
    service = as_text(labels.get("service_name")) or name.rsplit("/", 1)[-1]
    location = as_text(labels.get("location")) or as_text(request.get("region")) or _location_of(name)
    metadata = as_mapping(service_body.get("metadata"))
    generation = as_int(as_mapping(response.get("metadata")).get("generation")) or as_int(metadata.get("generation"))
    template: Mapping[str, Any] = as_mapping(service_body.get("template"))  # v2
    if not template:
        template = as_mapping(as_mapping(service_body.get("spec")).get("template"))  # v1
    spec = revision_spec(template, service=service) if template else None
    status = as_mapping(response.get("status"))
    created = as_text(status.get("latestCreatedRevisionName")) or _short(as_text(response.get("latestCreatedRevision")))
    ready = as_text(status.get("latestReadyRevisionName")) or _short(as_text(response.get("latestReadyRevision")))
    # The v1 response is the service as the request left it: before the new revision exists its
    # latest revisions are the old ones. Only a revision numbered like the new generation is new.
    revision = created if created and generation is not None and revision_number(created) == generation else ""
    previous = ready if ready and ready != revision else ""
    if generation is None:
        previous = ""
    return AuditChange(
        ChangeKind.DEPLOY,
        target=service,
        service=service,
        location=location,
        generation=generation,
        revision=revision,
        previous_revision=previous,
        spec=spec,
        **base,
    )


def _iam(proto: Mapping[str, Any], resource: str, base: dict[str, Any]) -> AuditChange:
    """SetIamPolicy: the binding deltas when the entry carries them (serviceData.policyDelta)."""
    deltas = as_mapping(as_mapping(proto.get("serviceData")).get("policyDelta")).get("bindingDeltas")
    detail: list[str] = []
    removes = False
    for delta in deltas if isinstance(deltas, list) else ():
        item = as_mapping(delta)
        action, role, member = (as_text(item.get(k)) for k in ("action", "role", "member"))
        if action == "REMOVE":
            removes = True
        if action and role:
            verb, preposition = ("removed", "from") if action == "REMOVE" else ("added", "to")
            detail.append(f"{verb} {role} {preposition} {member}")
    service = resource.rsplit("/", 1)[-1] if "/services/" in resource else ""
    target = _iam_target(resource)
    return AuditChange(
        ChangeKind.IAM, target=target, service=service, detail=tuple(detail), removes_access=removes, **base
    )


def _iam_target(resource: str) -> str:
    parts = resource.split("/")
    if len(parts) == 2 and parts[0] == "projects":
        return f"project {parts[1]}"
    if "/secrets/" in resource:
        return f"secret {resource.split('/secrets/', 1)[1].split('/')[0]}"
    if "/services/" in resource:
        return f"service {parts[-1]}"
    return resource


def _secret_version(resource: str) -> tuple[str, str]:
    """('db-password', 'version 3') from projects/N/secrets/db-password/versions/3."""
    tail = resource.split("/secrets/", 1)[1] if "/secrets/" in resource else resource
    secret, _, rest = tail.partition("/versions/")
    return secret, f"version {rest}" if rest else ""


def _location_of(name: str) -> str:
    parts = name.split("/")
    return parts[parts.index("locations") + 1] if "locations" in parts[:-1] else ""


def _short(name: str) -> str:
    return name.rsplit("/", 1)[-1]


def revision_number(name: str) -> int:
    """00742 of backend-00742-b95; -1 when the name is not a Cloud Run generated one."""
    match = _REVISION_NUMBER.search(name)
    return int(match.group(1)) if match else -1


# --- revisions -----------------------------------------------------------------------------


def revision_spec(body: Mapping[str, Any], *, service: str = "", name: str = "") -> RevisionSpec:
    """A RevisionSpec from a v2 Revision / template or a v1 (Knative) Revision / template."""
    if "containers" in body or "maxInstanceRequestConcurrency" in body or "scaling" in body:
        return _v2_spec(body, service, name)
    return _v1_spec(body, service, name)


def _v2_spec(body: Mapping[str, Any], service: str, name: str) -> RevisionSpec:
    containers = [as_mapping(c) for c in body.get("containers") or () if isinstance(c, Mapping)]
    main = containers[0] if containers else {}
    env, secrets = _env(main, v2=True)
    for volume in body.get("volumes") or ():
        secret = as_mapping(as_mapping(volume).get("secret"))
        if secret:
            versions = ",".join(as_text(as_mapping(i).get("version")) for i in secret.get("items") or ()) or "latest"
            pointer = f"{_short(as_text(secret.get('secret')))}:{versions}"
            secrets.append((as_text(as_mapping(volume).get("name")), pointer))
    limits = as_mapping(as_mapping(main.get("resources")).get("limits"))
    scaling = as_mapping(body.get("scaling"))
    vpc = as_mapping(body.get("vpcAccess"))
    full = as_text(body.get("name")) or name
    sql_volumes = (as_mapping(as_mapping(v).get("cloudSqlInstance")) for v in body.get("volumes") or ())
    sql = [as_text(i) for v in sql_volumes for i in v.get("instances") or ()]
    return RevisionSpec(
        name=_short(full),
        service=_short(as_text(body.get("service"))) or service,
        image=as_text(main.get("image")),
        env=tuple(sorted(env)),
        secret_refs=tuple(sorted(secrets)),
        memory=as_text(limits.get("memory")),
        cpu=as_text(limits.get("cpu")),
        concurrency=as_int(body.get("maxInstanceRequestConcurrency")),
        min_instances=as_int(scaling.get("minInstanceCount")),
        max_instances=as_int(scaling.get("maxInstanceCount")),
        vpc_connector=_short(as_text(vpc.get("connector"))),
        vpc_egress=as_text(vpc.get("egress")),
        service_account=as_text(body.get("serviceAccount")),
        startup_probe=_probe(as_mapping(main.get("startupProbe"))),
        cloudsql_instances=tuple(sorted(sql)),
        created_at=parse_rfc3339(body.get("createTime")),
        creator=as_text(body.get("creator")),
    )


def _v1_spec(body: Mapping[str, Any], service: str, name: str) -> RevisionSpec:
    metadata = as_mapping(body.get("metadata"))
    annotations = as_mapping(metadata.get("annotations"))
    labels = as_mapping(metadata.get("labels"))
    spec = as_mapping(body.get("spec"))
    containers = [as_mapping(c) for c in spec.get("containers") or () if isinstance(c, Mapping)]
    main = containers[0] if containers else {}
    env, secrets = _env(main, v2=False)
    for volume in spec.get("volumes") or ():
        secret = as_mapping(as_mapping(volume).get("secret"))
        if secret:
            versions = ",".join(as_text(as_mapping(i).get("key")) for i in secret.get("items") or ()) or "latest"
            secrets.append((as_text(as_mapping(volume).get("name")), f"{as_text(secret.get('secretName'))}:{versions}"))
    limits = as_mapping(as_mapping(main.get("resources")).get("limits"))
    sql = [s.strip() for s in as_text(annotations.get("run.googleapis.com/cloudsql-instances")).split(",") if s.strip()]
    return RevisionSpec(
        name=as_text(metadata.get("name")) or name,
        service=as_text(labels.get("serving.knative.dev/service")) or service,
        image=as_text(main.get("image")),
        env=tuple(sorted(env)),
        secret_refs=tuple(sorted(secrets)),
        memory=as_text(limits.get("memory")),
        cpu=as_text(limits.get("cpu")),
        concurrency=as_int(spec.get("containerConcurrency")),
        min_instances=as_int(annotations.get("autoscaling.knative.dev/minScale")),
        max_instances=as_int(annotations.get("autoscaling.knative.dev/maxScale")),
        vpc_connector=_short(as_text(annotations.get("run.googleapis.com/vpc-access-connector"))),
        vpc_egress=as_text(annotations.get("run.googleapis.com/vpc-access-egress")),
        service_account=as_text(spec.get("serviceAccountName")),
        startup_probe=_probe(as_mapping(main.get("startupProbe"))),
        cloudsql_instances=tuple(sorted(sql)),
        created_at=parse_rfc3339(metadata.get("creationTimestamp")),
        creator=as_text(annotations.get("serving.knative.dev/creator")),
    )


def _fingerprint(value: object) -> str:
    return hmac.new(_FINGERPRINT_KEY, json.dumps(value, sort_keys=True).encode(), hashlib.sha256).hexdigest()[:16]


def _env(container: Mapping[str, Any], *, v2: bool) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """([(plain env var name, fingerprint)], [(name, "secret:version")]); no value is kept."""
    plain: list[tuple[str, str]] = []
    secrets: list[tuple[str, str]] = []
    for item in container.get("env") or ():
        var = as_mapping(item)
        name = as_text(var.get("name"))
        if not name:
            continue
        if v2:
            ref = as_mapping(as_mapping(var.get("valueSource")).get("secretKeyRef"))
            pointer = f"{_short(as_text(ref.get('secret')))}:{as_text(ref.get('version')) or 'latest'}" if ref else ""
        else:
            ref = as_mapping(as_mapping(var.get("valueFrom")).get("secretKeyRef"))
            pointer = f"{as_text(ref.get('name'))}:{as_text(ref.get('key')) or 'latest'}" if ref else ""
        if pointer:
            secrets.append((name, pointer))
        else:
            plain.append((name, _fingerprint(var.get("value"))))
    return plain, secrets


def _probe(probe: Mapping[str, Any]) -> str:
    """A startup probe in one comparable phrase: kind, target, timing."""
    if not probe:
        return ""
    if "httpGet" in probe:
        http = as_mapping(probe.get("httpGet"))
        kind = f"http {as_text(http.get('path')) or '/'}:{as_int(http.get('port')) or ''}".rstrip(":")
    elif "grpc" in probe:
        kind = "grpc"
    else:
        kind = f"tcp :{as_int(as_mapping(probe.get('tcpSocket')).get('port')) or ''}".rstrip(" :")
    timing = [
        f"{key}={as_int(probe.get(key))}"
        for key in ("initialDelaySeconds", "timeoutSeconds", "periodSeconds", "failureThreshold")
        if as_int(probe.get(key))
    ]
    return " ".join([kind, *timing])


def revisions_from_json(value: object) -> tuple[RevisionSpec, ...]:
    """What `gcloud run revisions describe --format=json` prints: one revision or a list of them."""
    items = value if isinstance(value, list) else [value]
    return tuple(revision_spec(item) for item in items if isinstance(item, Mapping) and item)


def load_revisions(path: Path) -> tuple[RevisionSpec, ...]:
    """Read a replay's revisions.json; raises EvidenceError naming the file when it is not JSON."""
    try:
        value = json.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise EvidenceError(str(path), f"cannot read: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise EvidenceError(str(path), f"line {exc.lineno} col {exc.colno}: {exc.msg}") from None
    return revisions_from_json(value)
