output "topic_id" {
  description = "Pub/Sub topic (projects/P/topics/T) that receives every alert notification; also SITREP_TOPIC of the function."
  value       = google_pubsub_topic.alerts.id
}

output "notification_channel_id" {
  description = "Pub/Sub notification channel (projects/P/notificationChannels/N). Add it to any other alert policy you want sitrep to report on."
  value       = google_monitoring_notification_channel.pubsub.id
}

output "function_name" {
  description = "Name of the 2nd-gen function (and of its Cloud Run service)."
  value       = google_cloudfunctions2_function.main.name
}

output "function_uri" {
  description = "HTTPS URI of the function's Cloud Run service (internal ingress only; events arrive through Eventarc)."
  value       = google_cloudfunctions2_function.main.service_config[0].uri
}

output "slack_interactivity_url" {
  description = "HTTPS URL of the Slack actions function: paste it as the Slack app's Interactivity Request URL and the /sitrep command's Request URL (slack/manifest.yaml). null when Slack actions are off."
  value = one(concat(
    google_cloudfunctions2_function.slack_actions[*].service_config[0].uri,
    google_cloud_run_v2_service.slack_actions[*].uri,
  ))
}

output "slack_service_account_email" {
  description = "Identity of the Slack actions function (its signing secret, pubsub.publisher on the alert topic, monitoring.viewer); null when Slack actions are off."
  value       = one(google_service_account.slack[*].email)
}

output "runtime_service_account_email" {
  description = "Identity the function runs as (logging.viewer, monitoring.viewer, run.viewer, secretAccessor on its three secrets; monitoring.snoozeEditor with Slack actions)."
  value       = google_service_account.runtime.email
}

output "trigger_service_account_email" {
  description = "Identity Eventarc uses to invoke the function (run.invoker on this service only)."
  value       = google_service_account.trigger.email
}

output "build_service_account_email" {
  description = "Identity Cloud Build uses to build the function image."
  value       = google_service_account.build.email
}

output "secret_ids" {
  description = "Secret Manager secret IDs by purpose. Add values with: printf %s \"$TOKEN\" | gcloud secrets versions add ID --data-file=-"
  value       = { for name, secret in google_secret_manager_secret.main : name => secret.secret_id }
}

output "secret_setup_commands" {
  description = "One command per secret that stores its value from stdin (nothing touches tfvars or state)."
  value = [
    for name, secret in google_secret_manager_secret.main :
    "gcloud secrets versions add ${secret.secret_id} --project=${var.project_id} --data-file=-"
  ]
}

output "signature_metric_names" {
  description = "Log-based metric name per signature id (metric type logging.googleapis.com/user/NAME)."
  value       = { for id, metric in google_logging_metric.signature : id => metric.name }
}

output "service_error_metric_name" {
  description = "Log-based metric counting ERROR entries of the watched services (null when no service is watched)."
  value       = one(google_logging_metric.service_errors[*].name)
}

output "self_failure_metric_name" {
  description = "Log-based metric counting sitrep's own failures."
  value       = google_logging_metric.self_failures.name
}

output "alert_policy_ids" {
  description = "Alert policy resource names by kind: signature (by signature id; empty when consolidated), signatures (the consolidated policy, else null), error_spike / ratio_5xx / uptime (by service), self (null without alert_email)."
  value = {
    signature   = { for id, policy in google_monitoring_alert_policy.signature : id => policy.name }
    signatures  = one(google_monitoring_alert_policy.signatures[*].name)
    error_spike = { for name, policy in google_monitoring_alert_policy.error_spike : name => policy.name }
    ratio_5xx   = { for name, policy in google_monitoring_alert_policy.ratio_5xx : name => policy.name }
    uptime      = { for name, policy in google_monitoring_alert_policy.uptime : name => policy.name }
    self        = one(google_monitoring_alert_policy.self[*].name)
  }
}

output "uptime_check_ids" {
  description = "Uptime check id by watched service."
  value       = { for name, check in google_monitoring_uptime_check_config.service : name => check.uptime_check_id }
}

output "source_bucket" {
  description = "Bucket holding the zipped function source."
  value       = google_storage_bucket.source.name
}
