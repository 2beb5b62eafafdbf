# The tick: Cloud Scheduler publishes {"sitrep_tick": {}} to the alert topic
# every few minutes; the function then revisits the active incidents
# (reconciles them with the Alerts API, resolves quiet log-match incidents,
# refreshes what changed materially, and writes nothing when nothing did).
#
# Identity: a Pub/Sub target has no service-account setting; Cloud Scheduler
# publishes as its service agent, service-N@gcp-sa-cloudscheduler. It gets
# roles/pubsub.publisher on this one topic and nothing else (README
# "Identities and roles").

resource "google_cloud_scheduler_job" "tick" {
  count = var.tick_schedule == "" ? 0 : 1

  project     = var.project_id
  region      = var.region
  name        = "${var.name_prefix}-tick"
  description = "sitrep: revisit the active incidents (${var.environment})"
  schedule    = var.tick_schedule
  time_zone   = "Etc/UTC"

  # A missed tick is not retried: the next one does the same work.
  retry_config {
    retry_count = 0
  }

  pubsub_target {
    topic_name = google_pubsub_topic.alerts.id
    data       = base64encode(jsonencode({ sitrep_tick = {} }))
  }

  depends_on = [google_pubsub_topic_iam_member.scheduler_publisher]
}

resource "google_pubsub_topic_iam_member" "scheduler_publisher" {
  count = var.tick_schedule == "" ? 0 : 1

  project = var.project_id
  topic   = google_pubsub_topic.alerts.id
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:service-${data.google_project.main.number}@gcp-sa-cloudscheduler.iam.gserviceaccount.com"

  depends_on = [time_sleep.service_agents]
}
