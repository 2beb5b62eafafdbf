# Slack actions: the card's buttons (Acknowledge, Silence 1h, Resolve, Refresh)
# and the /sitrep slash command. A second 2nd-gen function from the same source
# zip (entry point slack_actions), created only when Slack delivery is on.
#
# Slack must reach it from the internet, so it accepts unauthenticated
# invocations; every request is authenticated by Slack's signature instead
# (HMAC-SHA256 with the signing secret, at most 5 minutes old), checked before
# anything else is read. How it is made public is slack_public_access:
#   "all_users"            - a Cloud Functions 2nd-gen function and roles/run.invoker
#                            for allUsers on its service. Refused wherever the
#                            domain-restricted sharing organisation policy holds.
#   "invoker_iam_disabled" - the same code deployed from the same source zip as a
#                            Cloud Run function (google_cloud_run_v2_service with
#                            build_config) whose invoker IAM check is disabled:
#                            Google's recommended way to make a public service, and
#                            the one that works under domain-restricted sharing. The
#                            Cloud Functions API cannot set that flag on the service
#                            it manages (hashicorp/terraform-provider-google#23360),
#                            hence a Cloud Run resource. It does no slow work itself: it hands each action to
# the alert topic, where the alert function (one instance, retries) carries it
# out, so its identity can only read its signing secret, publish to that topic
# and read request counts for /sitrep status.

locals {
  slack_image = "${var.region}-docker.pkg.dev/${var.project_id}/${var.name_prefix}-images/${local.slack_function_service}"

  slack_via_cloud_functions = local.slack_actions_enabled && var.slack_public_access == "all_users"
  slack_via_cloud_run       = local.slack_actions_enabled && var.slack_public_access == "invoker_iam_disabled"

  slack_function_environment = merge(
    {
      GOOGLE_CLOUD_PROJECT = var.project_id
      SITREP_ENVIRONMENT   = var.environment
      SITREP_TOPIC         = google_pubsub_topic.alerts.id
      SITREP_SERVICES      = join(",", keys(local.services))
      LOG_EXECUTION_ID     = "true"
    },
    var.extra_environment_variables,
  )
}

resource "google_service_account" "slack" {
  count = local.slack_actions_enabled ? 1 : 0

  project      = var.project_id
  account_id   = "${var.name_prefix}-slack"
  display_name = "${var.name_prefix} Slack actions (${var.environment})"
  description  = "Verifies Slack requests, hands actions to the alert topic, reads request counts for /sitrep status."

  depends_on = [google_project_service.main]
}

resource "google_secret_manager_secret_iam_member" "slack_signing_secret" {
  count = local.slack_actions_enabled ? 1 : 0

  project   = var.project_id
  secret_id = google_secret_manager_secret.main["slack-signing-secret"].secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.slack[0].member
}

resource "google_pubsub_topic_iam_member" "slack_publisher" {
  count = local.slack_actions_enabled ? 1 : 0

  project = var.project_id
  topic   = google_pubsub_topic.alerts.id
  role    = "roles/pubsub.publisher"
  member  = google_service_account.slack[0].member
}

# /sitrep status reads run.googleapis.com/request_count (timeSeries.list).
resource "google_project_iam_member" "slack_metrics_reader" {
  count = local.slack_actions_enabled ? 1 : 0

  project = var.project_id
  role    = "roles/monitoring.viewer"
  member  = google_service_account.slack[0].member
}

# The Slack identity's grants propagate like any IAM change; a revision that
# cannot yet read its signing secret fails to start. Both deployments wait here,
# again whenever a grant is recreated.
resource "time_sleep" "slack_iam_propagation" {
  count = local.slack_actions_enabled ? 1 : 0

  create_duration = "60s"

  triggers = {
    grants = join(",", concat(
      google_secret_manager_secret_iam_member.slack_signing_secret[*].id,
      google_pubsub_topic_iam_member.slack_publisher[*].id,
      google_project_iam_member.slack_metrics_reader[*].id,
    ))
  }
}

resource "google_cloudfunctions2_function" "slack_actions" {
  #checkov:skip=CKV_GCP_124:Slack calls this function from the internet (interactivity and slash commands), so ingress must be ALLOW_ALL; each request is authenticated by Slack's signature before it is read.
  count = local.slack_via_cloud_functions ? 1 : 0

  project     = var.project_id
  location    = var.region
  name        = local.slack_function_name
  description = "sitrep (${var.environment}): Slack card buttons and /sitrep, verified by Slack's signature."
  labels      = local.labels

  build_config {
    runtime         = "python312"
    entry_point     = "slack_actions"
    service_account = google_service_account.build.id

    source {
      storage_source {
        bucket = google_storage_bucket.source.name
        object = google_storage_bucket_object.source.name
      }
    }
  }

  service_config {
    # Slack waits 3 seconds: a warm instance answers in well under one, a cold
    # one may not (set slack_actions_min_instances = 1 to keep one warm).
    # One instance: the memory of accepted request signatures that refuses a
    # replayed click lives in the process (functions/slack_app/replay_guard.py), so every
    # request must reach the same one. Clicks are rare; a second waits briefly.
    min_instance_count               = var.slack_actions_min_instances
    max_instance_count               = 1
    max_instance_request_concurrency = 1
    available_memory                 = "512Mi"
    timeout_seconds                  = 30
    ingress_settings                 = "ALLOW_ALL"
    all_traffic_on_latest_revision   = true
    service_account_email            = google_service_account.slack[0].email
    environment_variables            = local.slack_function_environment

    secret_environment_variables {
      key        = "SLACK_SIGNING_SECRET"
      project_id = var.project_id
      secret     = google_secret_manager_secret.main["slack-signing-secret"].secret_id
      version    = "latest"
    }
  }

  depends_on = [
    google_project_service.main,
    google_secret_manager_secret_iam_member.slack_signing_secret,
    google_pubsub_topic_iam_member.slack_publisher,
    time_sleep.build_iam_propagation,
    time_sleep.slack_iam_propagation,
  ]
}

# Slack calls the function without Google credentials, so anyone may invoke
# this one service; the function answers 401 to any request whose Slack
# signature does not verify, before reading it.
resource "google_cloud_run_v2_service_iam_member" "slack_public_invoker" {
  #checkov:skip=CKV_GCP_102:Slack cannot present Google credentials; every request is authenticated by Slack's HMAC signature (signing secret, 5-minute replay window) before the function reads it.
  count = local.slack_via_cloud_functions ? 1 : 0

  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.slack_actions[0].service_config[0].service
  role     = "roles/run.invoker"
  member   = "allUsers"
}

# --- slack_public_access = "invoker_iam_disabled" ------------------------------

# Where Cloud Build pushes the Cloud Run function's image (build_config.image_uri).
resource "google_artifact_registry_repository" "slack" {
  #checkov:skip=CKV_GCP_84:Holds only the image built from this repository's public source; a CMEK would add a KMS dependency to every project that turns sitrep on.
  count = local.slack_via_cloud_run ? 1 : 0

  project       = var.project_id
  location      = var.region
  repository_id = "${var.name_prefix}-images"
  description   = "sitrep (${var.environment}): image of the Slack actions function."
  format        = "DOCKER"
  labels        = local.labels

  depends_on = [google_project_service.main]
}

resource "google_cloud_run_v2_service" "slack_actions" {
  count = local.slack_via_cloud_run ? 1 : 0

  project     = var.project_id
  location    = var.region
  name        = local.slack_function_service
  description = "sitrep (${var.environment}): Slack card buttons and /sitrep, verified by Slack's signature."
  labels      = local.labels

  # Public without any IAM member: callers are not checked by Cloud Run at all,
  # and the Slack signature check in code is the authentication.
  ingress              = "INGRESS_TRAFFIC_ALL"
  invoker_iam_disabled = true
  deletion_protection  = false

  # Cloud Run builds the function from the same zip as the alert function.
  build_config {
    source_location          = "gs://${google_storage_bucket.source.name}/${google_storage_bucket_object.source.name}"
    function_target          = "slack_actions"
    image_uri                = local.slack_image
    base_image               = "${var.region}-docker.pkg.dev/serverless-runtimes/google-22/runtimes/python312"
    enable_automatic_updates = true
    service_account          = google_service_account.build.id
  }

  template {
    service_account                  = google_service_account.slack[0].email
    timeout                          = "30s"
    max_instance_request_concurrency = 1

    scaling {
      min_instance_count = var.slack_actions_min_instances
      max_instance_count = 3
    }

    containers {
      image = local.slack_image

      resources {
        limits = {
          cpu    = "1"
          memory = "512Mi"
        }
      }

      dynamic "env" {
        for_each = local.slack_function_environment
        content {
          name  = env.key
          value = env.value
        }
      }

      env {
        name = "SLACK_SIGNING_SECRET"
        value_source {
          secret_key_ref {
            secret  = google_secret_manager_secret.main["slack-signing-secret"].secret_id
            version = "latest"
          }
        }
      }
    }
  }

  lifecycle {
    # Cloud Run deploys the image it built (a digest of image_uri); a new
    # source object (new md5 name) is what triggers the next build.
    ignore_changes = [template[0].containers[0].image]
  }

  depends_on = [
    google_project_service.main,
    google_project_iam_member.build,
    google_storage_bucket_iam_member.build_source_reader,
    google_artifact_registry_repository.slack,
    time_sleep.build_iam_propagation,
    time_sleep.slack_iam_propagation,
  ]
}
