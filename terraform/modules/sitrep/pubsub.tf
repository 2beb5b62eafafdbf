# The alert bus: Cloud Monitoring publishes every notification (schema 1.2) to
# this topic through a Pub/Sub notification channel; the function consumes it.

resource "google_pubsub_topic" "alerts" {
  #checkov:skip=CKV_GCP_83:Notifications carry policy names and counts, no customer data; Google-managed keys suffice and a CMEK would add a KMS dependency to every project that turns sitrep on.
  project = var.project_id
  name    = "${var.name_prefix}-alerts"
  labels  = local.labels

  # Redelivery is driven by the trigger's retry policy; a day of retention lets
  # an operator replay the last incidents after fixing a broken deployment.
  message_retention_duration = "86400s"

  depends_on = [google_project_service.main]
}

resource "google_monitoring_notification_channel" "pubsub" {
  project      = var.project_id
  display_name = "${var.name_prefix} (${var.environment})"
  description  = "sitrep: Monitoring notifications to ${google_pubsub_topic.alerts.id}"
  type         = "pubsub"
  labels = {
    topic = google_pubsub_topic.alerts.id
  }
  user_labels = local.policy_labels
}

# Creating a pubsub channel does not let Monitoring publish: without this grant
# notifications are silently dropped. The notification service agent is
# created lazily; apis.tf provisions it (google_project_service_identity for
# monitoring.googleapis.com) and waits for it before this grant is made. The
# member is the agent's documented address rather than the identity's output,
# so the grant names the notification agent whatever the identity call returns.
resource "google_pubsub_topic_iam_member" "monitoring_publisher" {
  project = var.project_id
  topic   = google_pubsub_topic.alerts.id
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:service-${data.google_project.main.number}@gcp-sa-monitoring-notification.iam.gserviceaccount.com"

  depends_on = [
    google_monitoring_notification_channel.pubsub,
    time_sleep.service_agents,
  ]
}
