data "google_project" "this" {
  project_id = var.project_id
}

locals {
  prefix          = var.name_prefix
  artifacts_name  = var.artifacts_bucket_name != "" ? var.artifacts_bucket_name : "${var.project_id}-${var.name_prefix}-artifacts"
  pubsub_agent    = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
  worker_tag      = "kumo-worker"
  control_tag     = "kumo-control-plane"
  redis_url       = "redis://:${google_redis_instance.kumo.auth_string}@${google_redis_instance.kumo.host}:${google_redis_instance.kumo.port}"
  control_api_url = "http://${google_compute_address.control_plane_internal.address}:${var.api_port}"
}
