# The sitrep function: 2nd gen, Python, triggered by the alert topic with
# retries, at most one instance so that updates to the ledger (the tracking
# issue) are serialised.

locals {
  # Only what the function needs at runtime: no tests, no benchmarks, no
  # caches. A set is sorted, so the archive (and its md5) is reproducible.
  source_files = setunion(
    fileset(local.source_dir, "main.py"),
    fileset(local.source_dir, "requirements.txt"),
    fileset(local.source_dir, "functions/**/*.{py,yaml,yml,json}"),
  )

  function_environment = merge(
    {
      GOOGLE_CLOUD_PROJECT = var.project_id
      SITREP_ENVIRONMENT   = var.environment
      SITREP_REGION        = var.region
      SITREP_METRIC_PREFIX = var.name_prefix
      SITREP_TOPIC         = google_pubsub_topic.alerts.id
      SITREP_SERVICES      = join(",", keys(local.services))
      SITREP_LOG_PAGES     = tostring(var.log_sample_pages)
      SITREP_QUIET_MINUTES = tostring(var.quiet_minutes)
      SITREP_TICK_MINUTES  = tostring(var.tick_minutes)
      # Without a tracking issue the ledger is this file: instance memory, lost
      # when the instance scales to zero (configure GitHub for a durable one).
      SITREP_LEDGER    = "/tmp/sitrep-ledger.json"
      LOG_EXECUTION_ID = "true"
    },
    var.slack_channel != "" ? { SLACK_CHANNEL = var.slack_channel } : {},
    var.github_repository != "" ? { GITHUB_REPOSITORY = var.github_repository } : {},
    length(var.owners) > 0 ? { SITREP_OWNERS = jsonencode(var.owners) } : {},
    var.extra_environment_variables,
  )
}

data "archive_file" "source" {
  type        = "zip"
  output_path = "${path.root}/.terraform/sitrep/${var.name_prefix}-source.zip"

  dynamic "source" {
    for_each = local.source_files
    content {
      filename = source.value
      content  = file("${local.source_dir}/${source.value}")
    }
  }
}

resource "google_storage_bucket" "source" {
  #checkov:skip=CKV_GCP_62:Holds only build inputs written by Terraform; object reads and writes are already in the Cloud Audit Logs of the deploying identity, and a dedicated log bucket per project would be overhead for no signal.
  project                     = var.project_id
  name                        = "${var.project_id}-${var.name_prefix}-source"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = true
  labels                      = local.labels

  versioning {
    enabled = true
  }

  # Every source change is a new object name (md5), so no object is ever
  # overwritten: Terraform deletes the previous one, which versioning keeps as
  # a noncurrent version. Those are what ages out here (a month of rollback
  # material); the live object is never touched.
  lifecycle_rule {
    condition {
      days_since_noncurrent_time = 30
      with_state                 = "ARCHIVED"
    }
    action {
      type = "Delete"
    }
  }

  depends_on = [google_project_service.main]
}

# The md5 in the object name makes every source change a new object, which is
# what makes Terraform redeploy the function (same name = no redeploy).
resource "google_storage_bucket_object" "source" {
  bucket = google_storage_bucket.source.name
  name   = "${var.name_prefix}-${data.archive_file.source.output_md5}.zip"
  source = data.archive_file.source.output_path
}

resource "google_cloudfunctions2_function" "main" {
  project     = var.project_id
  location    = var.region
  name        = local.function_name
  description = "sitrep (${var.environment}): turns Cloud Monitoring incidents into Slack cards and tracking issues."
  labels      = local.labels

  build_config {
    runtime         = "python312"
    entry_point     = "handle_alert"
    service_account = google_service_account.build.id

    source {
      storage_source {
        bucket = google_storage_bucket.source.name
        object = google_storage_bucket_object.source.name
      }
    }
  }

  service_config {
    min_instance_count               = 0
    max_instance_count               = 1
    max_instance_request_concurrency = 1
    available_memory                 = var.function_memory
    timeout_seconds                  = var.function_timeout_seconds
    ingress_settings                 = "ALLOW_INTERNAL_ONLY"
    all_traffic_on_latest_revision   = true
    service_account_email            = google_service_account.runtime.email
    environment_variables            = local.function_environment

    # "latest" is resolved when an instance starts: after adding a new secret
    # version, redeploy (or wait for instances to recycle) to pick it up.
    dynamic "secret_environment_variables" {
      for_each = local.mounted_secrets
      content {
        key        = secret_environment_variables.value
        project_id = var.project_id
        secret     = google_secret_manager_secret.main[secret_environment_variables.key].secret_id
        version    = "latest"
      }
    }
  }

  event_trigger {
    event_type            = "google.cloud.pubsub.topic.v1.messagePublished"
    pubsub_topic          = google_pubsub_topic.alerts.id
    trigger_region        = var.region
    retry_policy          = "RETRY_POLICY_RETRY"
    service_account_email = google_service_account.trigger.email
  }

  lifecycle {
    precondition {
      condition     = length(setintersection([for s in var.services : s.name], local.own_services)) == 0
      error_message = "var.services must not list sitrep's own services (${join(", ", local.own_services)}): their failures would page sitrep in a loop. sitrep watches itself through selfmon.tf."
    }
  }

  # Each pause exists for one first-apply failure: the Eventarc agent not yet
  # able to validate the trigger (service_agents), the build identity's grants
  # (build_iam_propagation) and the runtime identity's secret and project grants
  # (runtime_iam_propagation) not yet effective.
  depends_on = [
    google_project_service.main,
    google_project_iam_member.runtime,
    google_secret_manager_secret_iam_member.runtime,
    time_sleep.service_agents,
    time_sleep.build_iam_propagation,
    time_sleep.runtime_iam_propagation,
  ]
}
