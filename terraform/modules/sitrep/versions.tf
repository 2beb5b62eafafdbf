# Provider constraints. tfcheck validates against google 6.50.0, so nothing here
# may use an attribute that only 7.x has; the few 6 -> 7 behaviour changes that
# touch this module (project_service.disable_on_destroy default,
# event_trigger.event_type required, service_config.service output-only) are
# written so that both majors behave the same. google-beta is needed for one
# resource only, google_project_service_identity (apis.tf), which materialises
# the Eventarc and Monitoring service agents before anything is granted to or
# waits on them. archive and time are bounded to their current majors.
terraform {
  required_version = ">= 1.5"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 6.50, < 8"
    }
    google-beta = {
      source  = "hashicorp/google-beta"
      version = ">= 6.50, < 8"
    }
    archive = {
      source  = "hashicorp/archive"
      version = ">= 2.4, < 3"
    }
    time = {
      source  = "hashicorp/time"
      version = ">= 0.9, < 1"
    }
  }
}
