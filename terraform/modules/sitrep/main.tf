# Shared names and derived values. Resources live in files named after their
# purpose (apis, pubsub, secrets, iam, function, metrics, alerts, uptime,
# selfmon).

locals {
  # Failure signatures, generated from functions/analysis/classify/signatures.d/*.yaml by
  # `python -m functions.entry.export_signatures --terraform`. Terraform never restates a
  # pattern: every filter and extractor comes from this file.
  signatures_file = jsondecode(file("${path.module}/signatures.json"))
  signatures      = { for s in local.signatures_file.signatures : s.id => s }

  # A 2nd-gen function runs as the Cloud Run service of the same name; its own
  # logs are excluded from every metric that pages sitrep, so that sitrep's
  # failures can never page sitrep (they go to selfmon.tf's email policy).
  function_name    = var.name_prefix
  function_service = var.name_prefix

  # The Slack actions function (slack.tf): card buttons and /sitrep, an HTTP
  # function Slack calls. It exists only when Slack delivery is configured.
  slack_function_name    = "${var.name_prefix}-slack"
  slack_function_service = "${var.name_prefix}-slack"
  slack_actions_enabled  = var.slack_channel != "" && var.enable_slack_actions

  # Both of sitrep's own services, as a Logging query term.
  own_services        = [local.function_service, local.slack_function_service]
  own_services_filter = "resource.labels.service_name=(${join(" OR ", [for s in local.own_services : "\"${s}\""])})"

  source_dir = var.source_dir != null ? var.source_dir : "${path.module}/../../.."

  services = { for s in var.services : s.name => merge(s, { region = coalesce(s.region, var.region) }) }

  labels = merge(var.labels, {
    app        = "sitrep"
    env        = var.environment
    managed-by = "terraform"
  })

  # user_labels on every policy: `env` groups alerts into one incident,
  # `sitrep` says which kind of policy fired.
  policy_labels = { env = var.environment }

  # Secret Manager secrets (values are added out of band with
  # `gcloud secrets versions add`; never in tfvars or state) and the
  # environment variable each one feeds.
  secrets = {
    "slack-bot-token"      = "SLACK_BOT_TOKEN"
    "slack-signing-secret" = "SLACK_SIGNING_SECRET" #checkov:skip=CKV_SECRET_6:an environment variable name, not a secret value
    "github-token"         = "GITHUB_TOKEN"
  }

  # A secret is only mounted when its delivery surface is configured: Cloud Run
  # refuses to deploy a revision that references a secret without a version,
  # so the first apply (no channel, no repository) works before any secret
  # value exists.
  # The signing secret is mounted only with Slack actions: its presence is what
  # turns the card's buttons on, and buttons nobody answers would mislead.
  mounted_secrets = {
    for name, env in local.secrets : name => env
    if (
      (name == "slack-bot-token" && var.slack_channel != "")
      || (name == "slack-signing-secret" && local.slack_actions_enabled)
      || (startswith(name, "github-") && var.github_repository != "")
    )
  }

  auto_close = "${var.alert_auto_close_seconds}s"

  # Logs Explorer link for the service named by the policy's grouping label.
  # Monitoring expands $${...} in documentation links when it notifies.
  logs_link_prefix = "https://console.cloud.google.com/logs/query;query=${urlencode("resource.type=\"cloud_run_revision\"\nresource.labels.service_name=\"")}"
  logs_link_suffix = "${urlencode("\"")}?project=${var.project_id}"
}
