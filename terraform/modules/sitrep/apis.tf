# APIs the stack needs. disable_on_destroy = false everywhere: destroying sitrep
# must never switch off an API that other workloads in the project rely on
# (this is also the 7.x default, so the behaviour is the same on both majors).
locals {
  required_apis = toset([
    "artifactregistry.googleapis.com",
    "cloudbuild.googleapis.com",
    "cloudfunctions.googleapis.com",
    "cloudresourcemanager.googleapis.com",
    "cloudscheduler.googleapis.com",
    "eventarc.googleapis.com",
    "iam.googleapis.com",
    "logging.googleapis.com",
    "monitoring.googleapis.com",
    "pubsub.googleapis.com",
    "run.googleapis.com",
    "secretmanager.googleapis.com",
    "storage.googleapis.com",
  ])
}

resource "google_project_service" "main" {
  for_each = local.required_apis

  project                    = var.project_id
  service                    = each.value
  disable_on_destroy         = false
  disable_dependent_services = false
}

# No depends_on on the APIs: a data source that depends on a changing resource
# is read at apply time, so every change to the API set made the project number
# unknown at plan and replaced the uptime checks and the service-agent grants.
# It needs only the Resource Manager API, which README step 2 enables before
# the first apply.
data "google_project" "main" {
  project_id = var.project_id
}

# --- service agents ------------------------------------------------------------
#
# Google creates a service agent lazily, on first use, and grants its role a
# little later. Two of them must exist before this module can rely on them:
#   eventarc   - validates the function's Pub/Sub trigger; a trigger created
#                minutes after the API was enabled fails with "Permission denied
#                while using the Eventarc Service Agent ... it may take a few
#                minutes" (hashicorp/terraform-provider-google#25294).
#   monitoring - the notification agent service-N@gcp-sa-monitoring-notification
#                that publishes to the alert topic (pubsub.tf); it is otherwise
#                created with the first notification channel, and a grant to an
#                agent that does not exist yet fails.
#   cloudscheduler - service-N@gcp-sa-cloudscheduler, which publishes the tick
#                to the alert topic (scheduler.tf).
# google_project_service_identity (GenerateServiceIdentity; google-beta only)
# creates each agent, or returns it when it exists; destroying it is a no-op.
resource "google_project_service_identity" "agent" {
  provider = google-beta
  for_each = toset(["eventarc.googleapis.com", "monitoring.googleapis.com", "cloudscheduler.googleapis.com"])

  project = var.project_id
  service = each.value

  depends_on = [google_project_service.main]
}

# The agents' own role grants propagate like any IAM change. Everything that
# relies on an agent (the Pub/Sub-triggered function, the topic grant) waits
# here. The triggers tie the pause to the Eventarc API enablement and to the
# agents: it runs again only if either is recreated.
resource "time_sleep" "service_agents" {
  create_duration = "120s"

  triggers = {
    eventarc_api   = google_project_service.main["eventarc.googleapis.com"].id
    eventarc_agent = google_project_service_identity.agent["eventarc.googleapis.com"].email
    monitoring     = google_project_service_identity.agent["monitoring.googleapis.com"].email
    scheduler      = google_project_service_identity.agent["cloudscheduler.googleapis.com"].email
  }
}
