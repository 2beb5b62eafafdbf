# Secret containers only. Values are added out of band
# (`gcloud secrets versions add NAME --data-file=-`), so no token ever appears
# in tfvars, plan output or state: this module declares no
# google_secret_manager_secret_version on purpose.
resource "google_secret_manager_secret" "main" {
  for_each = local.secrets

  project   = var.project_id
  secret_id = "${var.name_prefix}-${each.key}"
  labels    = local.labels

  replication {
    auto {}
  }

  depends_on = [google_project_service.main]
}
