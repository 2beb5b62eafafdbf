# Alert policies that page sitrep through the Pub/Sub channel. All are
# metric-threshold policies: only those send a CLOSED notification (log-match
# policies never do), and CLOSED is what resolves the incident card.
#
# Missing data counts as "not violating" (EVALUATION_MISSING_DATA_INACTIVE):
# log-based counters write no points while nothing matches, so this is what
# closes an incident once the errors stop.
#
# Thresholds: a metric-threshold condition accepts only COMPARISON_GT and
# COMPARISON_LT, and a 60 s ALIGN_DELTA count is a whole number. "N per minute"
# (threshold_per_minute in signatures.yaml, error_threshold_per_minute) means
# AT LEAST N, so the condition is "count > N - 1": with N = 1 a single failed
# start fires. A fractional N rounds up first (at least 0.5 a minute is at
# least 1 in a one-minute window).

locals {
  # Lowercase, [a-z0-9_-], at most 63 characters: the user label value rules.
  signature_label = { for id, s in local.signatures : id => substr(replace(lower(id), "/[^a-z0-9_-]/", "_"), 0, 63) }

  # action is "P0: text" or {priority, text} depending on the exporter version.
  signature_action = { for id, s in local.signatures : id => try("${s.action.priority}: ${s.action.text}", tostring(s.action), "see the runbook") }

  ratio_5xx_percent = format("%.1f", var.ratio_5xx_threshold * 100)

  # threshold_value for "at least N" with COMPARISON_GT (see the top of this file).
  signature_threshold_value = { for id, s in local.signatures : id => ceil(s.threshold_per_minute) - 1 }

  # One policy per signature, or (consolidate_signature_alerts) one policy whose
  # single PromQL condition covers them all: each signature keeps its own
  # threshold, the results are grouped by the `service` label, so one incident
  # opens per failing service, and alerting is billed for one condition instead
  # of one per signature (README "What it costs").
  per_signature_policies = var.consolidate_signature_alerts ? {} : local.signatures
  signature_promql = join("\nor\n", [
    for id, s in local.signatures :
    "sum by (service) (increase({\"logging.googleapis.com/user/${local.signature_metric_names[id]}\", monitored_resource=\"cloud_run_revision\"}[1m])) > ${local.signature_threshold_value[id]}"
  ])
  signature_severities        = distinct([for s in local.signatures : s.severity])
  consolidated_severity       = contains(local.signature_severities, "CRITICAL") ? "CRITICAL" : contains(local.signature_severities, "ERROR") ? "ERROR" : "WARNING"
  consolidated_signature_list = join("\n", [for id, s in local.signatures : "- `${id}` (${s.category}): at least ${ceil(s.threshold_per_minute)} a minute"])

  runbook_links = {
    for anchor in distinct(concat(keys(local.signatures), ["error-spike", "5xx-ratio", "uptime", "self"])) :
    anchor => var.runbook_url == "" ? [] : [{ display_name = "Runbook", url = "${var.runbook_url}#${anchor}" }]
  }
}

resource "google_monitoring_alert_policy" "signature" {
  for_each = local.per_signature_policies

  project      = var.project_id
  display_name = "${var.name_prefix} ${var.environment}: ${each.key}"
  combiner     = "OR"
  severity     = each.value.severity
  user_labels = merge(local.policy_labels, {
    sitrep    = "signature"
    signature = local.signature_label[each.key]
    category  = each.value.category
  })
  notification_channels = [google_monitoring_notification_channel.pubsub.id]

  conditions {
    display_name = "${each.key}: at least ${ceil(each.value.threshold_per_minute)}/min"

    condition_threshold {
      filter                  = "metric.type=\"logging.googleapis.com/user/${google_logging_metric.signature[each.key].name}\" AND resource.type=\"cloud_run_revision\""
      comparison              = "COMPARISON_GT"
      threshold_value         = local.signature_threshold_value[each.key]
      duration                = "0s"
      evaluation_missing_data = "EVALUATION_MISSING_DATA_INACTIVE"

      aggregations {
        alignment_period     = "60s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["metric.label.service"]
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
    subject   = "${each.value.severity} ${each.key} on $${metric.label.service} (${var.environment})"
    content   = <<-EOT
      **${each.value.summary}** (${each.value.category})

      ${substr(each.value.description, 0, 4000)}

      Action: ${local.signature_action[each.key]}

      Fires when at least ${ceil(each.value.threshold_per_minute)} matching log entries in one minute
      come from one Cloud Run service. sitrep posts the full report to Slack and
      the tracking issue.
    EOT

    links {
      display_name = "Logs for this service"
      url          = "${local.logs_link_prefix}$${metric.label.service}${local.logs_link_suffix}"
    }

    dynamic "links" {
      for_each = local.runbook_links[each.key]
      content {
        display_name = links.value.display_name
        url          = links.value.url
      }
    }
  }

  lifecycle {
    precondition {
      condition     = contains(["CRITICAL", "ERROR", "WARNING"], each.value.severity)
      error_message = "Signature ${each.key}: severity must be CRITICAL, ERROR or WARNING."
    }
  }

  depends_on = [time_sleep.metric_propagation]
}

# consolidate_signature_alerts: every signature in one condition. PromQL is the
# condition type that can read several metrics and compare each with its own
# threshold; it is written "> N - 1" like the threshold conditions, which also
# keeps a count that increase() estimates a little low (0.97 for one entry)
# on the right side of the line. Metric validation is
# off because a log-based metric that has never matched has no time series
# yet, and validation would refuse the policy on the first apply.
resource "google_monitoring_alert_policy" "signatures" {
  count = var.consolidate_signature_alerts ? 1 : 0

  project      = var.project_id
  display_name = "${var.name_prefix} ${var.environment}: failure signatures"
  combiner     = "OR"
  severity     = local.consolidated_severity
  user_labels = merge(local.policy_labels, {
    sitrep = "signatures"
  })
  notification_channels = [google_monitoring_notification_channel.pubsub.id]

  conditions {
    display_name = "any failure signature at its threshold, per service"

    condition_prometheus_query_language {
      query                     = local.signature_promql
      duration                  = "0s"
      evaluation_interval       = "60s"
      disable_metric_validation = true
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
    subject   = "Failure signature on $${metric.label.service} (${var.environment})"
    content   = substr("A Cloud Run service logged one of sitrep's failure signatures at least as often as its threshold (entries in one minute). sitrep posts the classified report to Slack and the tracking issue.\n\n${local.consolidated_signature_list}", 0, 8000)

    links {
      display_name = "Logs for this service"
      url          = "${local.logs_link_prefix}$${metric.label.service}${local.logs_link_suffix}"
    }
  }

  depends_on = [time_sleep.metric_propagation]
}

# Per watched service: at least error_threshold_per_minute ERROR entries in a minute.
resource "google_monitoring_alert_policy" "error_spike" {
  for_each = local.services

  project      = var.project_id
  display_name = "${var.name_prefix} ${var.environment}: ${each.key} error spike"
  combiner     = "OR"
  severity     = "ERROR"
  user_labels = merge(local.policy_labels, {
    sitrep  = "error_spike"
    service = each.key
  })
  notification_channels = [google_monitoring_notification_channel.pubsub.id]

  conditions {
    display_name = "${each.key} errors: at least ${each.value.error_threshold_per_minute}/min"

    condition_threshold {
      filter                  = "metric.type=\"logging.googleapis.com/user/${google_logging_metric.service_errors[0].name}\" AND resource.type=\"cloud_run_revision\" AND metric.label.service=\"${each.key}\""
      comparison              = "COMPARISON_GT"
      threshold_value         = each.value.error_threshold_per_minute - 1
      duration                = "0s"
      evaluation_missing_data = "EVALUATION_MISSING_DATA_INACTIVE"

      aggregations {
        alignment_period     = "60s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["metric.label.service"]
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
    subject   = "Error spike on ${each.key} (${var.environment})"
    content   = "At least ${each.value.error_threshold_per_minute} log entries in one minute with severity ERROR or higher from Cloud Run service `${each.key}`. sitrep posts the classified report to Slack and the tracking issue."

    links {
      display_name = "Logs for ${each.key}"
      url          = "${local.logs_link_prefix}${each.key}${local.logs_link_suffix}"
    }

    dynamic "links" {
      for_each = local.runbook_links["error-spike"]
      content {
        display_name = links.value.display_name
        url          = links.value.url
      }
    }
  }

  depends_on = [time_sleep.metric_propagation]
}

# Per watched service: share of 5xx responses over a 5-minute window.
resource "google_monitoring_alert_policy" "ratio_5xx" {
  for_each = local.services

  project      = var.project_id
  display_name = "${var.name_prefix} ${var.environment}: ${each.key} 5xx ratio"
  combiner     = "OR"
  severity     = "CRITICAL"
  user_labels = merge(local.policy_labels, {
    sitrep  = "ratio_5xx"
    service = each.key
  })
  notification_channels = [google_monitoring_notification_channel.pubsub.id]

  conditions {
    display_name = "${each.key} 5xx above ${local.ratio_5xx_percent}%"

    condition_threshold {
      filter                  = "metric.type=\"run.googleapis.com/request_count\" AND resource.type=\"cloud_run_revision\" AND resource.label.service_name=\"${each.key}\" AND metric.label.response_code_class=\"5xx\""
      denominator_filter      = "metric.type=\"run.googleapis.com/request_count\" AND resource.type=\"cloud_run_revision\" AND resource.label.service_name=\"${each.key}\""
      comparison              = "COMPARISON_GT"
      threshold_value         = var.ratio_5xx_threshold
      duration                = "0s"
      evaluation_missing_data = "EVALUATION_MISSING_DATA_INACTIVE"

      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["resource.label.service_name"]
      }

      denominator_aggregations {
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
    subject   = "5xx ratio on ${each.key} above ${local.ratio_5xx_percent}% (${var.environment})"
    content   = "More than ${local.ratio_5xx_percent}% of the requests to Cloud Run service `${each.key}` were answered with 5xx over the last 5 minutes. sitrep posts the classified report to Slack and the tracking issue."

    links {
      display_name = "Logs for ${each.key}"
      url          = "${local.logs_link_prefix}${each.key}${local.logs_link_suffix}"
    }

    dynamic "links" {
      for_each = local.runbook_links["5xx-ratio"]
      content {
        display_name = links.value.display_name
        url          = links.value.url
      }
    }
  }
}
