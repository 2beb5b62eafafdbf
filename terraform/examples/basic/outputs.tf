output "topic_id" {
  description = "Pub/Sub topic receiving the alert notifications."
  value       = module.sitrep.topic_id
}

output "notification_channel_id" {
  description = "Notification channel to add to other alert policies that sitrep should report on."
  value       = module.sitrep.notification_channel_id
}

output "function_name" {
  description = "Name of the sitrep function."
  value       = module.sitrep.function_name
}

output "function_uri" {
  description = "URI of the sitrep function (internal ingress only)."
  value       = module.sitrep.function_uri
}

output "slack_interactivity_url" {
  description = "Request URL for the Slack app's Interactivity and the /sitrep command (null until slack_channel is set)."
  value       = module.sitrep.slack_interactivity_url
}

output "secret_setup_commands" {
  description = "Commands that store each secret value from stdin."
  value       = module.sitrep.secret_setup_commands
}

output "alert_policy_ids" {
  description = "Alert policies created, by kind."
  value       = module.sitrep.alert_policy_ids
}
