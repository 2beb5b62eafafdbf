# Inputs of the sitrep module. Every variable is typed, described and, where
# the API would reject a bad value only at apply time, validated at plan time.

variable "project_id" {
  description = "ID of the GCP project sitrep watches and deploys into (a second instance in the same project needs its own name_prefix)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a GCP project ID: 6-30 characters, lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "region" {
  description = "Region of the function, its source bucket and the Eventarc trigger; also the default region of watched services."
  type        = string
  default     = "europe-west1"

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]+$", var.region))
    error_message = "region must look like europe-west1 or us-central1."
  }
}

variable "name_prefix" {
  description = "Prefix of every named resource (function, topic, service accounts, secrets, bucket, log-based metrics, alert policy and uptime check names), so two instances in one project never collide. The function's Cloud Run service is named exactly this. The function reads exact signature counts from metrics named sitrep/<id>, i.e. the default prefix; another prefix gets its own metrics, which the function does not read yet (cards then show counts from the log sample)."
  type        = string
  default     = "sitrep"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,18}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 4-20 characters of lowercase letters, digits and hyphens, starting with a letter (it becomes part of service account ids, which are limited to 30 characters)."
  }
}

variable "environment" {
  description = "Environment name (prod, staging, ...). Set as the `env` user label on every alert policy, which is how sitrep groups alerts into one incident, and passed to the function as SITREP_ENVIRONMENT."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9_-]{0,62}$", var.environment))
    error_message = "environment must be a valid label value: 1-63 lowercase letters, digits, '_' or '-', starting with a letter."
  }
}

variable "services" {
  description = <<-EOT
    Cloud Run services (or 2nd-gen functions) to watch individually. Each gets an
    error-spike policy (at least error_threshold_per_minute entries with
    severity>=ERROR in one minute) and a 5xx-ratio policy; with health_path (and
    enable_uptime_checks) also an uptime check on
    https://NAME-PROJECT_NUMBER.REGION.run.app + health_path and its policy.
    region defaults to var.region. Signature policies cover every Cloud Run
    service of the project whether listed here or not.
  EOT
  type = list(object({
    name                       = string
    region                     = optional(string)
    health_path                = optional(string)
    error_threshold_per_minute = optional(number, 5)
  }))
  default = []

  validation {
    condition     = alltrue([for s in var.services : can(regex("^[a-z]([-a-z0-9]{0,47}[a-z0-9])?$", s.name))])
    error_message = "Each service name must be a Cloud Run service name: up to 49 lowercase letters, digits and hyphens, starting with a letter."
  }

  validation {
    condition     = length(distinct([for s in var.services : s.name])) == length(var.services)
    error_message = "Service names must be unique."
  }

  validation {
    condition     = alltrue([for s in var.services : s.health_path == null || can(regex("^/[^ ?#]*([?][^ #]*)?$", s.health_path))])
    error_message = "health_path must be null or an absolute path starting with '/' (no spaces, no fragment)."
  }

  validation {
    condition     = alltrue([for s in var.services : s.error_threshold_per_minute >= 1 && floor(s.error_threshold_per_minute) == s.error_threshold_per_minute])
    error_message = "error_threshold_per_minute must be a whole number >= 1: the policy fires when a minute has at least that many ERROR entries."
  }

  validation {
    condition     = alltrue([for s in var.services : s.region == null || can(regex("^[a-z]+-[a-z]+[0-9]+$", s.region))])
    error_message = "A service region must look like europe-west1."
  }
}

variable "slack_channel" {
  description = "Slack channel ID (C... or G..., not the #name) the bot posts to. Empty = no Slack delivery, and the function is deployed without the Slack secrets (so it deploys before their values exist)."
  type        = string
  default     = ""

  validation {
    condition     = var.slack_channel == "" || can(regex("^[CG][A-Z0-9]+$", var.slack_channel))
    error_message = "slack_channel must be a channel ID such as C0123456789 (right-click the channel > Copy link; the ID is the last path segment), or empty."
  }
}

variable "enable_slack_actions" {
  description = "With slack_channel set, deploy the Slack actions function (card buttons Acknowledge, Silence 1h, Resolve, Refresh and the /sitrep command) and give the card its buttons. Needs a value in the slack-signing-secret secret before it is applied."
  type        = bool
  default     = true
}

variable "slack_public_access" {
  description = <<-EOT
    How the Slack actions endpoint is made public (Slack cannot present Google
    credentials; the function checks Slack's signature on every request).
    "all_users": a Cloud Functions 2nd-gen function with roles/run.invoker for
    allUsers. "invoker_iam_disabled": a Cloud Run function (same source) with the
    Cloud Run invoker IAM check disabled, Google's recommended way, and the one
    that works where the organisation policy restricts sharing to your domain
    (iam.allowedPolicyMemberDomains refuses allUsers).
  EOT
  type        = string
  default     = "all_users"

  validation {
    condition     = contains(["all_users", "invoker_iam_disabled"], var.slack_public_access)
    error_message = "slack_public_access must be \"all_users\" or \"invoker_iam_disabled\"."
  }
}

variable "slack_actions_min_instances" {
  description = "Instances of the Slack actions function kept warm. Slack waits 3 seconds for an answer; a cold start can exceed that (the click then shows an error and can be repeated). 1 keeps an instance warm at the cost of its idle time."
  type        = number
  default     = 0

  validation {
    condition     = contains([0, 1], var.slack_actions_min_instances)
    error_message = "slack_actions_min_instances must be 0 or 1: the function runs at most one instance (its replay memory is per process)."
  }
}

variable "github_repository" {
  description = "owner/repo where tracking issues are opened. Empty = no issue delivery, and the function is deployed without the GitHub secret."
  type        = string
  default     = ""

  validation {
    condition     = var.github_repository == "" || can(regex("^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$", var.github_repository))
    error_message = "github_repository must be owner/repo (e.g. acme/payments), or empty."
  }
}

variable "function_timeout_seconds" {
  description = "Timeout of one alert invocation in seconds. Event-driven 2nd-gen functions allow at most 540."
  type        = number
  default     = 120

  validation {
    condition     = var.function_timeout_seconds >= 1 && var.function_timeout_seconds <= 540 && floor(var.function_timeout_seconds) == var.function_timeout_seconds
    error_message = "function_timeout_seconds must be an integer between 1 and 540."
  }
}

variable "function_memory" {
  description = "Memory of the function instance (CPU follows the memory tier)."
  type        = string
  default     = "512Mi"

  validation {
    condition     = contains(["128Mi", "256Mi", "512Mi", "1Gi", "2Gi", "4Gi", "8Gi", "16Gi", "32Gi"], var.function_memory)
    error_message = "function_memory must be one of 128Mi, 256Mi, 512Mi, 1Gi, 2Gi, 4Gi, 8Gi, 16Gi, 32Gi."
  }
}

variable "ratio_5xx_threshold" {
  description = "Share of a watched service's requests answered with 5xx (over a 5-minute window) above which its 5xx-ratio policy fires."
  type        = number
  default     = 0.05

  validation {
    condition     = var.ratio_5xx_threshold > 0 && var.ratio_5xx_threshold < 1
    error_message = "ratio_5xx_threshold must be strictly between 0 and 1."
  }
}

variable "alert_auto_close_seconds" {
  description = "Seconds after which Monitoring closes an incident whose condition has no data; this closure also sends the CLOSED notification that resolves the sitrep card."
  type        = number
  default     = 1800

  validation {
    condition     = var.alert_auto_close_seconds >= 1800 && var.alert_auto_close_seconds <= 604800 && floor(var.alert_auto_close_seconds) == var.alert_auto_close_seconds
    error_message = "alert_auto_close_seconds must be an integer between 1800 (30 minutes, the API minimum) and 604800 (7 days)."
  }
}

variable "log_sample_pages" {
  description = "Pages of log entries (up to 1,000 each, newest first) the function reads per alert; bounds cost and the Logging read quota (60 entries.list calls per minute per project). Passed as SITREP_LOG_PAGES."
  type        = number
  default     = 3

  validation {
    condition     = var.log_sample_pages >= 1 && var.log_sample_pages <= 20 && floor(var.log_sample_pages) == var.log_sample_pages
    error_message = "log_sample_pages must be an integer between 1 and 20."
  }
}

variable "notification_rate" {
  description = <<-EOT
    Reminder interval for incidents that stay open, as a duration such as
    "3600s" (alert_strategy.notification_channel_strategy.renotify_interval on
    every policy). null = notify only on open and on close. Metric-threshold
    policies ignore notification_rate_limit (it applies to log-match policies
    only), so this is the only rate setting that has an effect here.
  EOT
  type        = string
  default     = null

  validation {
    condition     = var.notification_rate == null || can(regex("^[0-9]+s$", var.notification_rate))
    error_message = "notification_rate must be null or a duration in seconds such as \"3600s\"."
  }

  validation {
    condition     = var.notification_rate == null || try(tonumber(trimsuffix(var.notification_rate, "s")) >= 300, false)
    error_message = "notification_rate must be at least 300s."
  }
}

variable "runbook_url" {
  description = "Base URL of your runbook. Each alert policy links to it with the signature id (or the policy kind) as anchor, e.g. https://wiki.example.com/sitrep#python_module_missing. Empty = no runbook link (the Logs Explorer link remains)."
  type        = string
  default     = ""

  validation {
    condition     = var.runbook_url == "" || (can(regex("^https://[^ #]+$", var.runbook_url)) && length(var.runbook_url) <= 1900)
    error_message = "runbook_url must be an https URL without a fragment (at most 1900 characters), or empty."
  }
}

variable "source_dir" {
  description = "Directory holding the function source (main.py, requirements.txt, functions/). null = the sitrep repository this module lives in (three levels above the module). A relative path is resolved from the directory terraform runs in."
  type        = string
  default     = null
}

variable "alert_email" {
  description = "Email address that receives sitrep's self-monitoring alert (the function's own failures). Empty = no email channel and no self-monitoring policy (the metric is still created)."
  type        = string
  default     = ""

  validation {
    condition     = var.alert_email == "" || can(regex("^[^@ ]+@[^@ ]+[.][^@ ]+$", var.alert_email))
    error_message = "alert_email must be an email address, or empty."
  }
}

variable "consolidate_signature_alerts" {
  description = "One alert policy with one PromQL condition over every signature metric (each with its own threshold, grouped by service) instead of one policy per signature. Alerting is billed per condition, so this cuts that part of the bill to one condition; the incident then names the service, and the card still names the signatures from the logs."
  type        = bool
  default     = false
}

variable "grant_pubsub_token_creator" {
  description = "Grant the project's Pub/Sub service agent roles/iam.serviceAccountTokenCreator on the trigger identity. Only projects whose Pub/Sub service agent was created on or before 8 April 2021 need it; newer ones have the permission already."
  type        = bool
  default     = false
}

variable "enable_uptime_checks" {
  description = "Create an uptime check and its alert policy for every watched service that has a health_path."
  type        = bool
  default     = true
}

variable "extra_environment_variables" {
  description = "Additional settings for the function (thresholds, group label, close-or-label, ...), merged over the module's own environment variables."
  type        = map(string)
  default     = {}

  validation {
    condition     = length(setintersection(keys(var.extra_environment_variables), ["SLACK_BOT_TOKEN", "GITHUB_TOKEN", "SLACK_SIGNING_SECRET"])) == 0
    error_message = "Secrets must not be passed as plain environment variables; they come from Secret Manager."
  }
}

variable "labels" {
  description = "Labels added to every labelled resource (function, bucket, topic, secrets)."
  type        = map(string)
  default     = {}

  validation {
    condition = alltrue([
      for k, v in var.labels : can(regex("^[a-z][a-z0-9_-]{0,62}$", k)) && can(regex("^[a-z0-9_-]{0,63}$", v))
    ])
    error_message = "Label keys must be 1-63 lowercase letters, digits, '_' or '-' starting with a letter; values up to 63 of the same characters."
  }
}

variable "tick_schedule" {
  description = "Cron schedule (UTC) of the tick that revisits active incidents: reconciliation with the Alerts API, quiet resolve of log-match incidents, material refreshes. Empty: no tick (log-match incidents then never resolve by themselves)."
  type        = string
  default     = "*/5 * * * *"

  validation {
    condition     = var.tick_schedule == "" || length(split(" ", trimspace(var.tick_schedule))) == 5
    error_message = "tick_schedule must be a five-field cron expression such as \"*/5 * * * *\", or empty."
  }
}

variable "tick_minutes" {
  description = "The tick's period in minutes, as tick_schedule sets it (the function drops ticks older than twice this and rotates through incidents by it)."
  type        = number
  default     = 5

  validation {
    condition     = var.tick_minutes >= 1 && var.tick_minutes <= 1440 && floor(var.tick_minutes) == var.tick_minutes
    error_message = "tick_minutes must be a whole number of minutes between 1 and 1440."
  }
}

variable "quiet_minutes" {
  description = "Minutes without matching log entries after which an incident made only of log-match policies (which never send CLOSED) resolves on a tick (SITREP_QUIET_MINUTES)."
  type        = number
  default     = 30

  validation {
    condition     = var.quiet_minutes >= 1 && var.quiet_minutes <= 1440 && floor(var.quiet_minutes) == var.quiet_minutes
    error_message = "quiet_minutes must be a whole number of minutes between 1 and 1440."
  }
}

variable "owners" {
  description = "Service owners, mentioned once when an incident opens for their service (SITREP_OWNERS): Slack user-group (S…) or user (U…) ids, GitHub users (assigned to the issue) or org/team slugs (mentioned)."
  type = map(object({
    slack  = optional(list(string), [])
    github = optional(list(string), [])
  }))
  default = {}

  validation {
    condition = alltrue(flatten([
      for service, o in var.owners : concat(
        [for id in o.slack : can(regex("^[SUW][A-Z0-9]{2,20}$", id))],
        [for h in o.github : can(regex("^[A-Za-z0-9][A-Za-z0-9-]{0,38}(/[A-Za-z0-9][A-Za-z0-9_.-]{0,99})?$", trimprefix(h, "@")))],
      )
    ]))
    error_message = "owners: Slack handles must be ids (S… user group, U…/W… user); GitHub handles users or org/team."
  }
}
