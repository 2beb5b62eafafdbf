variable "project_id" {
  description = "GCP project to turn sitrep on in."
  type        = string
}

variable "region" {
  description = "Region of the function and default region of the watched services."
  type        = string
  default     = "europe-west1"
}

variable "environment" {
  description = "Environment label (prod, staging, ...) put on every alert policy and shown on the card."
  type        = string
  default     = "prod"
}

variable "services" {
  description = "Cloud Run services to watch individually (error spike, 5xx ratio, optional uptime check)."
  type = list(object({
    name                       = string
    region                     = optional(string)
    health_path                = optional(string)
    error_threshold_per_minute = optional(number, 5)
  }))
  default = []
}

variable "slack_channel" {
  description = "Slack channel ID (C...). Leave empty on the first apply, before the Slack secrets have values."
  type        = string
  default     = ""
}

variable "github_repository" {
  description = "owner/repo for tracking issues. Leave empty on the first apply, before the GitHub secret has a value."
  type        = string
  default     = ""
}

variable "alert_email" {
  description = "Where sitrep's own failures are emailed; empty disables self-monitoring alerts."
  type        = string
  default     = ""
}

variable "runbook_url" {
  description = "Base URL of your runbook, linked from every alert policy; empty for none."
  type        = string
  default     = ""
}

variable "slack_public_access" {
  description = "\"all_users\" (allUsers may invoke the Slack endpoint) or \"invoker_iam_disabled\" (Cloud Run invoker check off; works under domain-restricted sharing)."
  type        = string
  default     = "all_users"
}

variable "consolidate_signature_alerts" {
  description = "One alert condition over every signature instead of one per signature (alerting is billed per condition)."
  type        = bool
  default     = false
}
