# Three identities, each with the least it needs (README "Identities and roles"
# explains every grant):
#   runtime  - the function's own identity: reads logs and metrics, reads its
#              three secrets and, with Slack actions, creates snoozes (Silence
#              1h). Nothing else (it writes logs via stdout, which Cloud Run
#              collects without any role).
#   slack    - the Slack actions function's identity (slack.tf): its signing
#              secret, publish to the alert topic, read metrics.
#   trigger  - the identity Eventarc's push subscription presents to the
#              function: may invoke this one service (a Pub/Sub trigger needs
#              no eventarc.eventReceiver; see README "Identities and roles").
#   build    - the identity Cloud Build uses to build the function image, so
#              that deployment does not depend on the default compute or
#              Cloud Build service accounts (which new projects strip of roles).

resource "google_service_account" "runtime" {
  project      = var.project_id
  account_id   = "${var.name_prefix}-run"
  display_name = "${var.name_prefix} function runtime (${var.environment})"
  description  = "Reads logs and metrics for incidents and the sitrep secrets; nothing else."

  depends_on = [google_project_service.main]
}

resource "google_service_account" "trigger" {
  project      = var.project_id
  account_id   = "${var.name_prefix}-trigger"
  display_name = "${var.name_prefix} Eventarc trigger (${var.environment})"
  description  = "Presents Pub/Sub alert events to the sitrep function."

  depends_on = [google_project_service.main]
}

resource "google_service_account" "build" {
  project      = var.project_id
  account_id   = "${var.name_prefix}-build"
  display_name = "${var.name_prefix} function build (${var.environment})"
  description  = "Builds the sitrep function image with Cloud Build."

  depends_on = [google_project_service.main]
}

# --- runtime ---------------------------------------------------------------

resource "google_project_iam_member" "runtime" {
  for_each = toset(concat(
    [
      "roles/logging.viewer",    # entries.list for the incident window (error logs and Admin Activity audit logs)
      "roles/monitoring.viewer", # timeSeries.list (request counts, log-based metrics)
      "roles/run.viewer",        # run.revisions.get: the deployed revision and the one it replaced (what changed)
    ],
    # Silence 1h from the card: monitoring.snoozes.create. Snooze Editor holds
    # only the snooze permissions (create/get/list/update); Monitoring Editor,
    # the other predefined role with it, could also edit or delete every alert
    # policy, channel and dashboard of the project.
    local.slack_actions_enabled ? ["roles/monitoring.snoozeEditor"] : [],
  ))

  project = var.project_id
  role    = each.value
  member  = google_service_account.runtime.member
}

resource "google_secret_manager_secret_iam_member" "runtime" {
  for_each = google_secret_manager_secret.main

  project   = var.project_id
  secret_id = each.value.secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.runtime.member
}

# New grants take up to a minute to propagate; a revision whose identity cannot
# yet read its secrets fails to start. The function waits here; the triggers
# make the pause run again whenever a grant is added (e.g. when Slack or GitHub
# delivery is turned on and another secret is mounted).
resource "time_sleep" "runtime_iam_propagation" {
  create_duration = "60s"

  triggers = {
    grants = join(",", sort(concat(
      [for grant in google_project_iam_member.runtime : grant.id],
      [for grant in google_secret_manager_secret_iam_member.runtime : grant.id],
    )))
  }
}

# --- trigger ---------------------------------------------------------------
#
# No roles/eventarc.eventReceiver: Google's roles page for Cloud Run functions
# targets says the trigger identity does not need it for direct Pub/Sub events.

# Invoke only this function's Cloud Run service (not every service of the
# project, which a project-level run.invoker would allow).
resource "google_cloud_run_v2_service_iam_member" "trigger_invoker" {
  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.main.service_config[0].service
  role     = "roles/run.invoker"
  member   = google_service_account.trigger.member
}

# The Pub/Sub service agent mints the OIDC token of the trigger identity for
# each push. Google grants it that ability itself in projects whose Pub/Sub
# agent was created after 8 April 2021; older projects need this grant (on this
# one service account only), hence the variable.
resource "google_service_account_iam_member" "pubsub_token_creator" {
  count = var.grant_pubsub_token_creator ? 1 : 0

  service_account_id = google_service_account.trigger.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = "serviceAccount:service-${data.google_project.main.number}@gcp-sa-pubsub.iam.gserviceaccount.com"

  depends_on = [google_pubsub_topic.alerts]
}

# --- build -----------------------------------------------------------------

resource "google_project_iam_member" "build" {
  for_each = toset([
    "roles/logging.logWriter",       # build logs
    "roles/artifactregistry.writer", # push the image to the gcf-artifacts repository (created on first deploy)
  ])

  project = var.project_id
  role    = each.value
  member  = google_service_account.build.member
}

# Cloud Build reads the staged source from the Cloud Functions staging buckets
# (gcf-v2-sources-*, gcf-v2-uploads-*) and caches into them; the condition
# keeps the role off every other bucket of the project.
resource "google_project_iam_member" "build_staging_objects" {
  project = var.project_id
  role    = "roles/storage.objectAdmin"
  member  = google_service_account.build.member

  condition {
    title       = "sitrep-build-gcf-staging-buckets"
    description = "Only the Cloud Functions staging buckets."
    expression  = "resource.name.startsWith(\"projects/_/buckets/gcf-v2-\")"
  }
}

resource "google_storage_bucket_iam_member" "build_source_reader" {
  bucket = google_storage_bucket.source.name
  role   = "roles/storage.objectViewer"
  member = google_service_account.build.member
}

# New grants take up to a minute to propagate; without the pause the first
# build of a fresh project fails with a permission error.
resource "time_sleep" "build_iam_propagation" {
  create_duration = "60s"

  depends_on = [
    google_project_iam_member.build,
    google_project_iam_member.build_staging_objects,
    google_storage_bucket_iam_member.build_source_reader,
  ]
}
