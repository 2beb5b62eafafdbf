"""Admin Activity audit LogEntries in the shapes Cloud Audit Logs writes them (our own fixtures).

`replace_service` follows a recorded Cloud Run v1 ReplaceService entry: the request holds the whole
Knative Service, the response is the service as the request left it (its status still names the
previous revision, its metadata the new generation). The others carry the fields sitrep reads.
"""

from __future__ import annotations

from typing import Any

PROJECT = "test-project"
REGION = "us-central1"
ACTIVITY = f"projects/{PROJECT}/logs/cloudaudit.googleapis.com%2Factivity"


def audit(
    method: str,
    resource_name: str,
    timestamp: str,
    *,
    principal: str = "ci@test-project.iam.gserviceaccount.com",
    service_name: str = "run.googleapis.com",
    resource: dict[str, Any] | None = None,
    **payload: Any,
) -> dict[str, Any]:
    operation = payload.pop("operation", None)
    entry: dict[str, Any] = {
        "logName": ACTIVITY,
        "insertId": f"{abs(hash((method, resource_name, timestamp))):x}"[:12],
        "timestamp": timestamp,
        "receiveTimestamp": timestamp,
        "severity": payload.pop("severity", "NOTICE"),
        "resource": resource or {"type": "audited_resource", "labels": {"project_id": PROJECT}},
        "protoPayload": {
            "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
            "authenticationInfo": {"principalEmail": principal},
            "methodName": method,
            "resourceName": resource_name,
            "serviceName": service_name,
            **payload,
        },
    }
    if operation is not None:
        entry["operation"] = operation
    return entry


def knative_template(
    image: str, env: dict[str, str], *, secrets: dict[str, tuple[str, str]] | None = None, memory: str = "512Mi"
) -> dict[str, Any]:
    variables: list[dict[str, Any]] = [{"name": k, "value": v} for k, v in env.items()]
    variables += [
        {"name": k, "valueFrom": {"secretKeyRef": {"name": s, "key": version}}}
        for k, (s, version) in (secrets or {}).items()
    ]
    return {
        "metadata": {"annotations": {"autoscaling.knative.dev/maxScale": "10"}},
        "spec": {
            "containerConcurrency": 80,
            "containers": [{"image": image, "env": variables, "resources": {"limits": {"memory": memory}}}],
            "serviceAccountName": "backend@test-project.iam.gserviceaccount.com",
        },
    }


def replace_service(
    service: str,
    timestamp: str,
    template: dict[str, Any],
    *,
    generation: int,
    previous: str,
    principal: str = "ci@test-project.iam.gserviceaccount.com",
) -> dict[str, Any]:
    body = {
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Service",
        "metadata": {"name": service, "generation": generation - 1},
        "spec": {"template": template, "traffic": [{"latestRevision": True, "percent": 100}]},
    }
    response = {
        "@type": "type.googleapis.com/google.cloud.run.v1.Service",
        **body,
        "metadata": {"name": service, "generation": generation},
        "status": {
            "latestCreatedRevisionName": previous,
            "latestReadyRevisionName": previous,
            "observedGeneration": generation - 1,
        },
    }
    return audit(
        "google.cloud.run.v1.Services.ReplaceService",
        f"namespaces/{PROJECT}/services/{service}",
        timestamp,
        principal=principal,
        resource={
            "type": "cloud_run_revision",
            "labels": {"service_name": service, "location": REGION, "project_id": PROJECT, "revision_name": ""},
        },
        request={
            "@type": "type.googleapis.com/google.cloud.run.v1.ReplaceServiceRequest",
            "name": f"projects/{PROJECT}/locations/{REGION}/services/{service}",
            "region": REGION,
            "service": body,
        },
        response=response,
    )


def knative_revision(service: str, name: str, template: dict[str, Any]) -> dict[str, Any]:
    """What `gcloud run revisions describe --format=json` prints."""
    return {
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Revision",
        "metadata": {
            "name": name,
            "labels": {"serving.knative.dev/service": service},
            "annotations": template["metadata"]["annotations"],
        },
        "spec": template["spec"],
    }


def sql_restart(
    timestamp: str, *, first: bool, instance: str = "pay-db", principal: str = "dba@example.com"
) -> dict[str, Any]:
    return audit(
        "cloudsql.instances.restart",
        f"projects/{PROJECT}/instances/{instance}",
        timestamp,
        principal=principal,
        service_name="cloudsql.googleapis.com",
        resource={
            "type": "cloudsql_database",
            "labels": {"database_id": f"{PROJECT}:{instance}", "project_id": PROJECT},
        },
        operation={"id": "op-1", "producer": "cloudsql.googleapis.com", "first" if first else "last": True},
    )


def set_iam_policy(resource_name: str, timestamp: str, *, action: str, role: str, member: str) -> dict[str, Any]:
    return audit(
        "SetIamPolicy",
        resource_name,
        timestamp,
        service_name="cloudresourcemanager.googleapis.com",
        serviceData={
            "@type": "type.googleapis.com/google.iam.v1.logging.AuditData",
            "policyDelta": {"bindingDeltas": [{"action": action, "role": role, "member": member}]},
        },
    )


def secret_version(method: str, secret: str, version: str, timestamp: str) -> dict[str, Any]:
    return audit(
        f"google.cloud.secretmanager.v1.SecretManagerService.{method}",
        f"projects/123456/secrets/{secret}/versions/{version}",
        timestamp,
        service_name="secretmanager.googleapis.com",
    )
