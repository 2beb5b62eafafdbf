# What a new project copies: turn sitrep on for one project and environment.
module "sitrep" {
  source = "../../modules/sitrep"

  project_id  = var.project_id
  region      = var.region
  environment = var.environment
  services    = var.services

  slack_channel     = var.slack_channel
  github_repository = var.github_repository
  alert_email       = var.alert_email
  runbook_url       = var.runbook_url

  slack_public_access          = var.slack_public_access
  consolidate_signature_alerts = var.consolidate_signature_alerts

  # The function source is this repository; path.root is terraform/examples/basic.
  source_dir = "${path.root}/../../.."

  labels = {
    team = "platform"
  }
}
