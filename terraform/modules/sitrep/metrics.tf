# Log-based counters. Exact counts in the card come from these (DESIGN §4);
# the alert policies in alerts.tf fire on them.

locals {
  # sitrep's own log lines (both functions) never count towards a metric that pages sitrep.
  exclude_self = "NOT ${local.own_services_filter}"

  watched_service_names = [for name in keys(local.services) : "\"${name}\""]

  # Every metric name carries name_prefix, so two instances in one project never
  # share (or fight over) a metric. With the default prefix the signature
  # metrics are sitrep/<id>, the names signatures.json records and the function
  # reads counts from (functions/intake/metrics.py SITREP_METRIC_PREFIX).
  signature_metric_names = { for id, s in local.signatures : id => "${var.name_prefix}/${id}" }
  service_errors_metric  = "${var.name_prefix}_service_errors"
  self_failures_metric   = "${var.name_prefix}_self_failures"
}

# One counter per signature, filter and extractors verbatim from signatures.json.
resource "google_logging_metric" "signature" {
  for_each = local.signatures

  project     = var.project_id
  name        = local.signature_metric_names[each.key]
  description = "sitrep signature ${each.key} (${each.value.category}): ${each.value.description}"
  filter      = "(${each.value.filter}) AND ${local.exclude_self}"

  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "INT64"
    unit         = "1"
    display_name = "${var.name_prefix} ${each.key}"

    # Every descriptor label has an extractor and every extractor a label:
    # both come from the same map.
    dynamic "labels" {
      for_each = each.value.label_extractors
      content {
        key         = labels.key
        value_type  = "STRING"
        description = "Extracted with ${labels.value}"
      }
    }
  }

  label_extractors = each.value.label_extractors

  lifecycle {
    precondition {
      condition     = contains(keys(each.value.label_extractors), "service")
      error_message = "Signature ${each.key}: label_extractors must contain `service`; alert policies group by it."
    }
  }

  depends_on = [google_project_service.main]
}

# Error entries of each watched service, for the per-service error-spike policy.
resource "google_logging_metric" "service_errors" {
  count = length(local.services) > 0 ? 1 : 0

  project     = var.project_id
  name        = local.service_errors_metric
  description = "sitrep: log entries with severity >= ERROR from the watched Cloud Run services."
  filter      = "resource.type=\"cloud_run_revision\" AND severity>=ERROR AND resource.labels.service_name=(${join(" OR ", local.watched_service_names)})"

  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "INT64"
    unit         = "1"
    display_name = "${var.name_prefix} service errors"

    labels {
      key         = "service"
      value_type  = "STRING"
      description = "Cloud Run service name"
    }
  }

  label_extractors = {
    service = "EXTRACT(resource.labels.service_name)"
  }

  depends_on = [google_project_service.main]
}

# A new log-based metric takes a while to become visible to Monitoring; an alert
# policy created right after it fails with 404 "Cannot find metric(s) ... If a
# metric was created recently, it could take up to 10 minutes to become
# available" (the API's own words, quoted in
# hashicorp/terraform-provider-google#11102). So the pause is the ten minutes
# the API names, once per new set of metrics; the function and everything else
# deploy in parallel meanwhile.
resource "time_sleep" "metric_propagation" {
  create_duration = "600s"

  triggers = {
    metrics = join(",", sort(concat(
      [for metric in google_logging_metric.signature : metric.name],
      google_logging_metric.service_errors[*].name,
      [google_logging_metric.self_failures.name],
    )))
  }
}
