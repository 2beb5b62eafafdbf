# sitrep watches itself. Its own failures must not go through the Pub/Sub
# channel (a broken sitrep would be paged about by itself, in a loop), so they
# go to a plain email channel.
#
# Counted: lines the function writes with jsonPayload.sitrep_event =
# "sitrep_failure" (a delivery or analysis that failed), plus any ERROR entry of
# its service, which also catches crashes before the code could log the marker
# (import errors, OOM, startup probe failures).

resource "google_logging_metric" "self_failures" {
  project     = var.project_id
  name        = local.self_failures_metric
  description = "sitrep: failures of the sitrep function itself."
  filter      = "resource.type=\"cloud_run_revision\" AND ${local.own_services_filter} AND (jsonPayload.sitrep_event=\"sitrep_failure\" OR severity>=ERROR)"

  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "INT64"
    unit         = "1"
    display_name = "${var.name_prefix} self failures"
  }

  depends_on = [google_project_service.main]
}

resource "google_monitoring_notification_channel" "email" {
  count = var.alert_email != "" ? 1 : 0

  project      = var.project_id
  display_name = "${var.name_prefix} self-monitoring (${var.environment})"
  type         = "email"
  labels = {
    email_address = var.alert_email
  }
  user_labels = local.policy_labels

  depends_on = [google_project_service.main]
}

resource "google_monitoring_alert_policy" "self" {
  count = var.alert_email != "" ? 1 : 0

  project      = var.project_id
  display_name = "${var.name_prefix} ${var.environment}: sitrep itself is failing"
  combiner     = "OR"
  severity     = "ERROR"
  user_labels = merge(local.policy_labels, {
    sitrep = "self"
  })
  notification_channels = [google_monitoring_notification_channel.email[0].id]

  conditions {
    display_name = "sitrep failures in the last 5 minutes"

    condition_threshold {
      filter                  = "metric.type=\"logging.googleapis.com/user/${google_logging_metric.self_failures.name}\" AND resource.type=\"cloud_run_revision\""
      comparison              = "COMPARISON_GT"
      threshold_value         = 0
      duration                = "0s"
      evaluation_missing_data = "EVALUATION_MISSING_DATA_INACTIVE"

      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["resource.label.service_name"]
      }

      trigger {
        count = 1
      }
    }
  }

  alert_strategy {
    auto_close           = local.auto_close
    notification_prompts = ["OPENED", "CLOSED"]
  }

  documentation {
    mime_type = "text/markdown"
    subject   = "sitrep (${var.environment}) is failing: incidents may not reach Slack or GitHub"
    content   = <<-EOT
      The sitrep function `${local.function_name}` in ${var.project_id} logged failures
      (`jsonPayload.sitrep_event="sitrep_failure"` or severity ERROR).
      Alerts may be piling up unprocessed on the `${google_pubsub_topic.alerts.name}` topic;
      Pub/Sub redelivers them for up to 24 hours once the function is healthy again.
      Check that the secrets have versions, the Slack bot is in the channel and the
      GitHub token has not expired.
    EOT

    links {
      display_name = "sitrep logs"
      url          = "${local.logs_link_prefix}${local.function_service}${local.logs_link_suffix}"
    }

    dynamic "links" {
      for_each = local.runbook_links["self"]
      content {
        display_name = links.value.display_name
        url          = links.value.url
      }
    }
  }

  depends_on = [time_sleep.metric_propagation]
}
