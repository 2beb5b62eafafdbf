# Provider constraints. tfcheck validates against google 6.50.0, so nothing here
# may use an attribute that only 7.x has; the few 6 -> 7 behaviour changes that
# touch this module (project_service.disable_on_destroy default,
# event_trigger.event_type required, service_config.service output-only) are
# written so that both majors behave the same.
terraform {
  required_version = ">= 1.5"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 6.50, < 8"
    }
    archive = {
      source  = "hashicorp/archive"
      version = ">= 2.4"
    }
    time = {
      source  = "hashicorp/time"
      version = ">= 0.9"
    }
  }
}
