#!/usr/bin/env python3
"""Generate two recorded outages whose cause is a change in the project, with its audit trail.

  examples/deploy-env-removed   a CI deploy of `backend` drops the AUTH_URL env var (and changes
                                SERVICE_ID); every request on the new revision raises
                                KeyError: 'AUTH_URL'. logs.json holds the ReplaceService audit
                                entry (and an unrelated IAM grant on `frontend`); revisions.json is
                                what `gcloud run revisions describe --format=json` prints for the
                                new and the previous revision (the v1 Knative shape).
  examples/cloudsql-restart     a DBA restarts the Cloud SQL instance `pay-db` (a long-running
                                operation: two audit entries); `payments` and `ledger` time out
                                connecting to it for three minutes. An unrelated deploy of `web`
                                earlier in the window touches nothing that fails.

Each directory: alert.json (a Monitoring notification, schema 1.2), logs.json (what `gcloud logging
read --format=json` prints, newest first), README.md; the first also revisions.json. Audit entry
shapes follow Cloud Audit Logs (protoPayload of type google.cloud.audit.AuditLog in the log
cloudaudit.googleapis.com%2Factivity; a Cloud Run v1 ReplaceService entry's response is the service
as the request left it, so its status still names the previous revision). Env var values in
revisions.json are placeholders; sitrep never reads them into a card.

Deterministic: fixed seeds and clock, byte-identical output from run to run. Stdlib only.

    python scripts/make_change_examples.py [--out DIR]   # DIR defaults to examples/
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"


def _ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _insert_id(rng: random.Random) -> str:
    return f"{rng.getrandbits(64):016x}"


def _run_resource(project: str, region: str, service: str, revision: str) -> dict[str, Any]:
    return {
        "type": "cloud_run_revision",
        "labels": {
            "configuration_name": service,
            "location": region,
            "project_id": project,
            "revision_name": revision,
            "service_name": service,
        },
    }


def app_line(
    rng: random.Random, project: str, region: str, service: str, revision: str, at: datetime, severity: str, text: str
) -> dict[str, Any]:
    return {
        "insertId": _insert_id(rng),
        "logName": f"projects/{project}/logs/run.googleapis.com%2Fstderr",
        "receiveTimestamp": _ts(at + timedelta(milliseconds=180)),
        "resource": _run_resource(project, region, service, revision),
        "severity": severity,
        "textPayload": text,
        "timestamp": _ts(at),
    }


def request_line(
    rng: random.Random,
    project: str,
    region: str,
    service: str,
    revision: str,
    at: datetime,
    method: str,
    path: str,
    status: int,
    number: int,
) -> dict[str, Any]:
    return {
        "httpRequest": {
            "latency": f"{rng.uniform(0.005, 0.4):.9f}s",
            "protocol": "HTTP/1.1",
            "requestMethod": method,
            "requestUrl": f"https://{service}-{number}.{region}.run.app{path}",
            "status": status,
            "userAgent": USER_AGENT,
        },
        "insertId": _insert_id(rng),
        "logName": f"projects/{project}/logs/run.googleapis.com%2Frequests",
        "receiveTimestamp": _ts(at + timedelta(milliseconds=220)),
        "resource": _run_resource(project, region, service, revision),
        "severity": "ERROR" if status >= 500 else "WARNING" if status >= 400 else "INFO",
        "timestamp": _ts(at),
        "trace": f"projects/{project}/traces/{hashlib.sha1(f'{at}{path}'.encode()).hexdigest()[:32]}",
    }


def audit_entry(
    rng: random.Random,
    project: str,
    at: datetime,
    *,
    service_name: str,
    method: str,
    resource_name: str,
    principal: str,
    resource: dict[str, Any],
    request: dict[str, Any] | None = None,
    response: dict[str, Any] | None = None,
    service_data: dict[str, Any] | None = None,
    operation: dict[str, Any] | None = None,
    user_agent: str = "google-cloud-sdk gcloud/502.0.0",
) -> dict[str, Any]:
    """An Admin Activity audit LogEntry (protoPayload: google.cloud.audit.AuditLog)."""
    payload: dict[str, Any] = {
        "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
        "authenticationInfo": {"principalEmail": principal},
        "authorizationInfo": [{"granted": True, "permission": "", "resource": resource_name}],
        "methodName": method,
        "requestMetadata": {
            "callerIp": f"35.187.{rng.randrange(256)}.{rng.randrange(256)}",
            "callerSuppliedUserAgent": user_agent,
        },
        "resourceName": resource_name,
        "serviceName": service_name,
    }
    if request is not None:
        payload["request"] = request
    if response is not None:
        payload["response"] = response
    if service_data is not None:
        payload["serviceData"] = service_data
    entry: dict[str, Any] = {
        "insertId": _insert_id(rng),
        "logName": f"projects/{project}/logs/cloudaudit.googleapis.com%2Factivity",
        "protoPayload": payload,
        "receiveTimestamp": _ts(at + timedelta(milliseconds=400)),
        "resource": resource,
        "severity": "NOTICE",
        "timestamp": _ts(at),
    }
    if operation is not None:
        entry["operation"] = operation
    return entry


def knative_template(
    service: str, image: str, env: list[dict[str, Any]], *, account: str, max_scale: int, revision: str | None = None
) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "annotations": {
            "autoscaling.knative.dev/maxScale": str(max_scale),
            "run.googleapis.com/startup-cpu-boost": "true",
        }
    }
    if revision:
        metadata["name"] = revision
    return {
        "metadata": metadata,
        "spec": {
            "containerConcurrency": 80,
            "containers": [
                {
                    "env": env,
                    "image": image,
                    "ports": [{"containerPort": 8080, "name": "http1"}],
                    "resources": {"limits": {"cpu": "1000m", "memory": "512Mi"}},
                    "startupProbe": {
                        "failureThreshold": 1,
                        "periodSeconds": 240,
                        "tcpSocket": {"port": 8080},
                        "timeoutSeconds": 240,
                    },
                }
            ],
            "serviceAccountName": account,
            "timeoutSeconds": 300,
        },
    }


def replace_service_entry(
    rng: random.Random,
    project: str,
    number: str,
    region: str,
    service: str,
    at: datetime,
    principal: str,
    template: dict[str, Any],
    generation: int,
    previous: str,
) -> dict[str, Any]:
    """google.cloud.run.v1.Services.ReplaceService, as `gcloud run deploy` logs it."""
    metadata = {
        "annotations": {
            "run.googleapis.com/client-name": "gcloud",
            "run.googleapis.com/ingress": "all",
            "serving.knative.dev/creator": principal,
            "serving.knative.dev/lastModifier": principal,
        },
        "generation": generation - 1,
        "name": service,
        "namespace": number,
    }
    body = {
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Service",
        "metadata": metadata,
        "spec": {"template": template, "traffic": [{"latestRevision": True, "percent": 100}]},
    }
    response = {
        "@type": "type.googleapis.com/google.cloud.run.v1.Service",
        **body,
        "metadata": {**metadata, "generation": generation},
        "status": {
            "latestCreatedRevisionName": previous,
            "latestReadyRevisionName": previous,
            "observedGeneration": generation - 1,
            "traffic": [{"latestRevision": True, "percent": 100, "revisionName": previous}],
        },
    }
    return audit_entry(
        rng,
        project,
        at,
        service_name="run.googleapis.com",
        method="google.cloud.run.v1.Services.ReplaceService",
        resource_name=f"namespaces/{project}/services/{service}",
        principal=principal,
        resource={
            "type": "cloud_run_revision",
            "labels": {
                "configuration_name": "",
                "location": region,
                "project_id": project,
                "revision_name": "",
                "service_name": service,
            },
        },
        request={
            "@type": "type.googleapis.com/google.cloud.run.v1.ReplaceServiceRequest",
            "name": f"projects/{project}/locations/{region}/services/{service}",
            "region": region,
            "service": body,
        },
        response=response,
    )


def knative_revision(
    project: str,
    number: str,
    region: str,
    service: str,
    name: str,
    at: datetime,
    template: dict[str, Any],
    creator: str,
    generation: int,
) -> dict[str, Any]:
    """What `gcloud run revisions describe NAME --format=json` prints."""
    annotations = {
        **template["metadata"]["annotations"],
        "serving.knative.dev/creator": creator,
        "run.googleapis.com/operation-id": hashlib.sha1(name.encode()).hexdigest()[:32],
    }
    return {
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Revision",
        "metadata": {
            "annotations": annotations,
            "creationTimestamp": _ts(at),
            "generation": 1,
            "labels": {
                "cloud.googleapis.com/location": region,
                "serving.knative.dev/configuration": service,
                "serving.knative.dev/configurationGeneration": str(generation),
                "serving.knative.dev/route": service,
                "serving.knative.dev/service": service,
            },
            "name": name,
            "namespace": number,
            "selfLink": f"/apis/serving.knative.dev/v1/namespaces/{number}/revisions/{name}",
        },
        "spec": template["spec"],
        "status": {
            "conditions": [{"status": "True", "type": "Ready"}],
            "imageDigest": template["spec"]["containers"][0]["image"],
            "observedGeneration": 1,
        },
    }


def alert(
    project: str,
    number: int,
    region: str,
    service: str,
    policy: str,
    env: str,
    incident: str,
    started: datetime,
    summary: str,
) -> dict[str, Any]:
    condition = f"{service} 5xx ratio > 5% for 5 min"
    query = (
        f'resource.type = "cloud_run_revision" AND resource.labels.service_name = "{service}" AND '
        'metric.type = "run.googleapis.com/request_count"'
    )
    return {
        "incident": {
            "condition": {
                "conditionThreshold": {
                    "comparison": "COMPARISON_GT",
                    "duration": "300s",
                    "filter": query + ' AND metric.labels.response_code_class = "5xx"',
                    "denominatorFilter": query,
                    "thresholdValue": 0.05,
                },
                "displayName": condition,
                "name": f"projects/{project}/alertPolicies/{number}1/conditions/{number}2",
            },
            "condition_name": condition,
            "documentation": {
                "content": f"The share of `{service}` requests answered with 5xx is above 5%.",
                "mime_type": "text/markdown",
                "subject": f"[ALERT] {policy}",
            },
            "ended_at": None,
            "incident_id": incident,
            "metadata": {"system_labels": {}, "user_labels": {}},
            "metric": {"displayName": "Request Count", "labels": {}, "type": "run.googleapis.com/request_count"},
            "observed_value": "0.930",
            "policy_name": policy,
            "policy_user_labels": {"env": env},
            "resource": {
                "labels": {"location": region, "project_id": project, "service_name": service},
                "type": "cloud_run_revision",
            },
            "resource_display_name": service,
            "resource_type_display_name": "Cloud Run Revision",
            "scoping_project_id": project,
            "scoping_project_number": number,
            "severity": "Critical",
            "started_at": int(started.timestamp()),
            "state": "open",
            "summary": summary,
            "threshold_value": "0.05",
            "url": f"https://console.cloud.google.com/monitoring/alerting/incidents/{incident}?project={project}",
        },
        "version": "1.2",
    }


def _traceback(path: str, line: int, var: str) -> str:
    return (
        "Traceback (most recent call last):\n"
        '  File "/usr/local/lib/python3.12/site-packages/flask/app.py", line 1511, in wsgi_app\n'
        "    response = self.full_dispatch_request()\n"
        f'  File "/app/api/{path}.py", line {line}, in handler\n'
        f'    auth_url = os.environ["{var}"]\n'
        '  File "<frozen os>", line 714, in __getitem__\n'
        f"KeyError: '{var}'"
    )


def deploy_env_removed(out: Path) -> None:
    rng = random.Random(13_01)
    project, number, region = "acme-shop-stg", "481516234200", "europe-west1"
    deployer = "ci-deployer@acme-shop-stg.iam.gserviceaccount.com"
    old_rev, new_rev = "backend-00741-x7q", "backend-00742-b95"
    old_image = "europe-west1-docker.pkg.dev/acme-shop-stg/apps/backend@sha256:9f1c0d3b7e55aa12"
    new_image = "europe-west1-docker.pkg.dev/acme-shop-stg/apps/backend@sha256:4be871c20d9fcd34"
    account = f"backend@{project}.iam.gserviceaccount.com"
    old_env = [
        {"name": "SERVICE_ID", "value": "backend"},
        {"name": "AUTH_URL", "value": "https://auth.internal.example"},
        {"name": "LOG_LEVEL", "value": "info"},
        {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"key": "3", "name": "backend-db-password"}}},
    ]
    new_env = [
        {"name": "SERVICE_ID", "value": "backend "},
        {"name": "LOG_LEVEL", "value": "info"},
        {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"key": "3", "name": "backend-db-password"}}},
    ]
    old_tpl = knative_template("backend", old_image, old_env, account=account, max_scale=20, revision=None)
    new_tpl = knative_template("backend", new_image, new_env, account=account, max_scale=20, revision=None)
    t0 = datetime(2025, 12, 2, 0, 40, tzinfo=UTC)
    deploy_at = datetime(2025, 12, 2, 1, 4, 12, 381_000, tzinfo=UTC)
    serving = deploy_at + timedelta(seconds=48)
    end = datetime(2025, 12, 2, 1, 16, tzinfo=UTC)
    entries: list[dict[str, Any]] = []
    paths = ["/api/orders", "/api/cart", "/api/session", "/api/products"]
    moment = t0
    while moment < end:
        moment += timedelta(seconds=rng.uniform(2.0, 6.0))
        path = rng.choice(paths)
        if moment < serving:
            entries.append(
                request_line(rng, project, region, "backend", old_rev, moment, "GET", path, 200, 481516234200)
            )
        else:
            entries.append(
                app_line(
                    rng,
                    project,
                    region,
                    "backend",
                    new_rev,
                    moment - timedelta(milliseconds=40),
                    "ERROR",
                    _traceback(path.rsplit("/", 1)[1], rng.choice((41, 58, 73)), "AUTH_URL"),
                )
            )
            entries.append(
                request_line(rng, project, region, "backend", new_rev, moment, "GET", path, 500, 481516234200)
            )
        if rng.random() < 0.5:
            entries.append(
                request_line(
                    rng,
                    project,
                    region,
                    "frontend",
                    "frontend-00318-kd2",
                    moment + timedelta(milliseconds=rng.randrange(900)),
                    "GET",
                    "/",
                    200,
                    481516234200,
                )
            )
    entries.append(
        replace_service_entry(rng, project, number, region, "backend", deploy_at, deployer, new_tpl, 742, old_rev)
    )
    grant_at = datetime(2025, 12, 2, 0, 52, 3, 120_000, tzinfo=UTC)
    entries.append(
        audit_entry(
            rng,
            project,
            grant_at,
            service_name="run.googleapis.com",
            method="google.cloud.run.v1.Services.SetIamPolicy",
            resource_name=f"projects/{project}/locations/{region}/services/frontend",
            principal=deployer,
            resource={
                "type": "cloud_run_revision",
                "labels": {
                    "configuration_name": "",
                    "location": region,
                    "project_id": project,
                    "revision_name": "",
                    "service_name": "frontend",
                },
            },
            request={
                "@type": "type.googleapis.com/google.iam.v1.SetIamPolicyRequest",
                "policy": {"bindings": [{"members": ["allUsers"], "role": "roles/run.invoker"}]},
                "resource": f"projects/{project}/locations/{region}/services/frontend",
            },
            service_data={
                "@type": "type.googleapis.com/google.iam.v1.logging.AuditData",
                "policyDelta": {
                    "bindingDeltas": [{"action": "ADD", "member": "allUsers", "role": "roles/run.invoker"}]
                },
            },
        )
    )
    entries.sort(key=lambda e: e["timestamp"], reverse=True)
    revisions = [
        knative_revision(
            project, number, region, "backend", new_rev, serving - timedelta(seconds=30), new_tpl, deployer, 742
        ),
        knative_revision(
            project,
            number,
            region,
            "backend",
            old_rev,
            datetime(2025, 11, 28, 16, 2, tzinfo=UTC),
            old_tpl,
            deployer,
            741,
        ),
    ]
    notification = alert(
        project,
        int(number),
        region,
        "backend",
        "staging 5xx ratio - backend",
        "staging",
        "0.q8d2m4k7w1x3",
        datetime(2025, 12, 2, 1, 9, tzinfo=UTC),
        "Request Count for backend is above the threshold of 0.050 with a value of 0.930.",
    )
    readme = f"""# deploy-env-removed: a CI deploy of `backend` drops AUTH_URL; every request on the new revision fails

Generated by `scripts/make_change_examples.py` (deterministic). Project `{project}` (`{region}`, env `staging`),
2025-12-02 00:40–01:16 UTC.

## What happened

- **00:52** `{deployer}` grants `roles/run.invoker` to `allUsers` on `frontend` (SetIamPolicy, an ADD):
  unrelated, nothing fails because of it.
- **01:04** `{deployer}` deploys `backend` (`gcloud run deploy`: a v1 `ReplaceService` audit entry, generation
  742). The new revision `{new_rev}` runs a new image (`…cd34`, was `…aa12`), no longer sets `AUTH_URL`, and
  sets `SERVICE_ID` to another value (a trailing space). The audit entry's response still names the previous
  revision `{old_rev}` as latest (the service as the request left it).
- From **01:05** every request on `{new_rev}` raises `KeyError: 'AUTH_URL'` and answers 500.
- `revisions.json` is `gcloud run revisions describe` of both revisions (the v1 Knative shape); env var
  values there are placeholders and never reach the card.

## What a good analysis concludes

- root: `configuration` in `backend` — setting `AUTH_URL` missing (KeyError), linked to the 01:04 deploy of
  `{new_rev}` by `{deployer}` that removed `AUTH_URL` (and changed `SERVICE_ID`).
- What changed: that deploy (image …aa12 → …cd34; env SERVICE_ID changed, AUTH_URL removed), and the IAM grant
  on frontend, which is linked to nothing.
- P0: roll back `backend` to `{old_rev}`, naming the deploy the rollback undoes.
"""
    _write(out / "deploy-env-removed", notification, entries, readme, revisions)


def _psycopg_timeout(host: str) -> str:
    return (
        "sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) connection to server at "
        f'"{host}", port 5432 failed: timeout expired\n'
        "(Background on this error at: https://sqlalche.me/e/20/e3q8)"
    )


def cloudsql_restart(out: Path) -> None:
    rng = random.Random(13_02)
    project, number, region = "acme-pay-prd", "770233419804", "us-east1"
    dba = "dana.ortiz@acme-pay.example"
    restart_at = datetime(2025, 12, 3, 14, 20, 5, 118_000, tzinfo=UTC)
    restart_done = datetime(2025, 12, 3, 14, 23, 11, 902_000, tzinfo=UTC)
    t0 = datetime(2025, 12, 3, 13, 50, tzinfo=UTC)
    end = datetime(2025, 12, 3, 14, 30, tzinfo=UTC)
    revs = {"payments": "payments-00212-q4t", "ledger": "ledger-00087-m2c", "web": "web-00530-z8r"}
    entries: list[dict[str, Any]] = []
    moment = t0
    while moment < end:
        moment += timedelta(seconds=rng.uniform(1.5, 4.0))
        service = rng.choice(("payments", "payments", "ledger", "web"))
        down = restart_at + timedelta(seconds=6) <= moment <= restart_done and service != "web"
        path = {"payments": "/v1/charges", "ledger": "/v1/entries", "web": "/checkout"}[service]
        if down:
            entries.append(
                app_line(
                    rng,
                    project,
                    region,
                    service,
                    revs[service],
                    moment - timedelta(milliseconds=40),
                    "ERROR",
                    _psycopg_timeout("10.40.0.5"),
                )
            )
            entries.append(
                request_line(rng, project, region, service, revs[service], moment, "POST", path, 503, 770233419804)
            )
        else:
            entries.append(
                request_line(
                    rng,
                    project,
                    region,
                    service,
                    revs[service],
                    moment,
                    "POST" if service != "web" else "GET",
                    path,
                    200,
                    770233419804,
                )
            )
    sql_resource = {
        "type": "cloudsql_database",
        "labels": {"database_id": f"{project}:pay-db", "project_id": project, "region": region},
    }
    operation_id = "8c1f0a52-4e7d-4a9b-9d63-2f5b7e1c0a44"
    for at, edge in ((restart_at, {"first": True}), (restart_done, {"last": True})):
        entries.append(
            audit_entry(
                rng,
                project,
                at,
                service_name="cloudsql.googleapis.com",
                method="cloudsql.instances.restart",
                resource_name=f"projects/{project}/instances/pay-db",
                principal=dba,
                resource=sql_resource,
                request={
                    "@type": "type.googleapis.com/google.cloud.sql.v1beta4.SqlInstancesRestartRequest",
                    "instance": "pay-db",
                    "project": project,
                },
                operation={"id": operation_id, "producer": "cloudsql.googleapis.com", **edge},
                user_agent="Mozilla/5.0 (console)",
            )
        )
    web_tpl = knative_template(
        "web",
        "us-east1-docker.pkg.dev/acme-pay-prd/apps/web:2025.12.03-1",
        [{"name": "API_BASE", "value": "https://payments.internal.example"}],
        account=f"web@{project}.iam.gserviceaccount.com",
        max_scale=40,
    )
    entries.append(
        replace_service_entry(
            rng,
            project,
            number,
            region,
            "web",
            datetime(2025, 12, 3, 13, 58, 40, 5_000, tzinfo=UTC),
            f"release-bot@{project}.iam.gserviceaccount.com",
            web_tpl,
            530,
            "web-00529-h1d",
        )
    )
    entries.sort(key=lambda e: e["timestamp"], reverse=True)
    notification = alert(
        project,
        int(number),
        region,
        "payments",
        "prod 5xx ratio - payments",
        "prod",
        "0.w3n7c1p9z2k5",
        datetime(2025, 12, 3, 14, 21, tzinfo=UTC),
        "Request Count for payments is above the threshold of 0.050 with a value of 0.880.",
    )
    readme = f"""# cloudsql-restart: a Cloud SQL restart in the window; payments and ledger time out on their database

Generated by `scripts/make_change_examples.py` (deterministic). Project `{project}` (`{region}`, env `prod`),
2025-12-03 13:50–14:30 UTC.

## What happened

- **13:58** `release-bot@{project}.iam.gserviceaccount.com` deploys `web` (a new image); `web` keeps serving fine.
- **14:20** a DBA restarts the Cloud SQL instance `pay-db` from the console (`cloudsql.instances.restart`,
  a long-running operation: a first entry at 14:20:05 and a last one at 14:23:11, one operation id). The DBA's
  address is a person's email: the card shows it redacted.
- 14:20–14:23 `payments` and `ledger` cannot connect: `psycopg2.OperationalError: connection to server at
  "10.40.0.5", port 5432 failed: timeout expired`, and answer 503.

## What a good analysis concludes

- roots: one `database` root (connection timeouts to the same host), named in `payments` and covering
  `ledger` (the same failure, one cause), linked to the 14:20 restart of Cloud SQL `pay-db`.
- What changed: the restart (one line, not two) and the `web` deploy, which is linked to nothing (no previous
  spec was recorded, so its diff is not known).
"""
    _write(out / "cloudsql-restart", notification, entries, readme, None)


def _write(
    directory: Path,
    notification: dict[str, Any],
    entries: list[dict[str, Any]],
    readme: str,
    revisions: list[dict[str, Any]] | None,
) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "alert.json").write_text(json.dumps(notification, indent=2, sort_keys=True) + "\n")
    (directory / "logs.json").write_text(json.dumps(entries, indent=1, sort_keys=True) + "\n")
    if revisions is not None:
        (directory / "revisions.json").write_text(json.dumps(revisions, indent=2, sort_keys=True) + "\n")
    (directory / "README.md").write_text(readme)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "examples", help="where the example directories go")
    args = parser.parse_args()
    deploy_env_removed(args.out)
    cloudsql_restart(args.out)


if __name__ == "__main__":
    main()
