# Optional uptime checks: one per watched service with a health_path, probing
# the service's deterministic URL https://NAME-PROJECT_NUMBER.REGION.run.app.
# The health endpoint must be reachable without authentication.

locals {
  uptime_services = {
    for name, s in local.services : name => s
    if var.enable_uptime_checks && s.health_path != null
  }
}

resource "google_monitoring_uptime_check_config" "service" {
  for_each = local.uptime_services

  project      = var.project_id
  display_name = "${var.name_prefix} ${var.environment}: ${each.key} health"
  timeout      = "10s"
  period       = "60s"
  user_labels  = merge(local.policy_labels, { service = each.key })

  http_check {
    path           = each.value.health_path
    port           = 443
    use_ssl        = true
    validate_ssl   = true
    request_method = "GET"

    accepted_response_status_codes {
      status_class = "STATUS_CLASS_2XX"
    }
  }

  monitored_resource {
    type = "uptime_url"
    labels = {
      project_id = var.project_id
      host       = "${each.key}-${data.google_project.main.number}.${each.value.region}.run.app"
    }
  }
}

resource "google_monitoring_alert_policy" "uptime" {
  for_each = local.uptime_services

  project      = var.project_id
  display_name = "${var.name_prefix} ${var.environment}: ${each.key} health check failing"
  combiner     = "OR"
  severity     = "CRITICAL"
  user_labels = merge(local.policy_labels, {
    sitrep  = "uptime"
    service = each.key
  })
  notification_channels = [google_monitoring_notification_channel.pubsub.id]

  conditions {
    display_name = "${each.key} health check fails from more than one region"

    # check_passed is a BOOL per checker region: count the failing regions
    # and fire when more than one fails, so a single flaky region is ignored.
    condition_threshold {
      filter                  = "metric.type=\"monitoring.googleapis.com/uptime_check/check_passed\" AND resource.type=\"uptime_url\" AND metric.label.check_id=\"${google_monitoring_uptime_check_config.service[each.key].uptime_check_id}\""
      comparison              = "COMPARISON_GT"
      threshold_value         = 1
      duration                = "60s"
      evaluation_missing_data = "EVALUATION_MISSING_DATA_INACTIVE"

      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_NEXT_OLDER"
        cross_series_reducer = "REDUCE_COUNT_FALSE"
        group_by_fields      = ["resource.label.host"]
      }

      trigger {
        count = 1
      }
    }
  }

  alert_strategy {
    auto_close           = local.auto_close
    notification_prompts = ["OPENED", "CLOSED"]

    dynamic "notification_channel_strategy" {
      for_each = var.notification_rate == null ? [] : [var.notification_rate]
      content {
        notification_channel_names = [google_monitoring_notification_channel.pubsub.id]
        renotify_interval          = notification_channel_strategy.value
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    subject   = "${each.key} health check failing (${var.environment})"
    content   = "GET https://${each.key}-${data.google_project.main.number}.${each.value.region}.run.app${each.value.health_path} does not answer 2xx from more than one checker region. sitrep posts the report to Slack and the tracking issue."

    links {
      display_name = "Logs for ${each.key}"
      url          = "${local.logs_link_prefix}${each.key}${local.logs_link_suffix}"
    }

    dynamic "links" {
      for_each = local.runbook_links["uptime"]
      content {
        display_name = links.value.display_name
        url          = links.value.url
      }
    }
  }
}
