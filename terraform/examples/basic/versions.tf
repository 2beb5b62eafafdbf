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

  # Keep state in a bucket for anything beyond a trial, e.g.:
  # backend "gcs" {
  #   bucket = "my-project-tfstate"
  #   prefix = "sitrep"
  # }
}

provider "google" {
  project = var.project_id
  region  = var.region

  # With user credentials (gcloud auth application-default login) bill API
  # calls to the target project rather than to the ADC quota project.
  user_project_override = true
  billing_project       = var.project_id
}

# The module creates the Eventarc and Monitoring service agents with
# google_project_service_identity, which only the beta provider has; configure
# it exactly like the GA one.
provider "google-beta" {
  project               = var.project_id
  region                = var.region
  user_project_override = true
  billing_project       = var.project_id
}
