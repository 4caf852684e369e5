# Two identities: the control plane (creates and deletes worker VMs, runs the bus, writes artifacts)
# and the workers (write artifacts, publish progress). Roles are granted on the resources they need
# where GCP allows it, not on the project.

resource "google_service_account" "control_plane" {
  account_id   = "${local.prefix}-control-plane"
  display_name = "kumo control plane (api, scheduler, provisioner)"
}

resource "google_service_account" "worker" {
  account_id   = "${local.prefix}-worker"
  display_name = "kumo worker VMs"
}

# Creating instances is a project-level permission; the custom network and the worker identity limit
# what the control plane can make with it.
resource "google_project_iam_member" "control_plane_compute" {
  project = var.project_id
  role    = "roles/compute.instanceAdmin.v1"
  member  = google_service_account.control_plane.member
}

# To start VMs that run as the worker account (and only that account).
resource "google_service_account_iam_member" "control_plane_acts_as_worker" {
  service_account_id = google_service_account.worker.name
  role               = "roles/iam.serviceAccountUser"
  member             = google_service_account.control_plane.member
}

resource "google_pubsub_topic_iam_member" "control_plane_publisher" {
  for_each = local.bus

  topic  = google_pubsub_topic.bus[each.key].name
  role   = "roles/pubsub.publisher"
  member = google_service_account.control_plane.member
}

resource "google_pubsub_subscription_iam_member" "control_plane_subscriber" {
  for_each = local.bus

  subscription = google_pubsub_subscription.bus[each.key].name
  role         = "roles/pubsub.subscriber"
  member       = google_service_account.control_plane.member
}

# Workers report task progress on the progress topic.
resource "google_pubsub_topic_iam_member" "worker_progress_publisher" {
  topic  = google_pubsub_topic.bus["progress"].name
  role   = "roles/pubsub.publisher"
  member = google_service_account.worker.member
}

resource "google_storage_bucket_iam_member" "artifacts_admin" {
  for_each = {
    control_plane = google_service_account.control_plane.member
    worker        = google_service_account.worker.member
  }

  bucket = google_storage_bucket.artifacts.name
  role   = "roles/storage.objectAdmin"
  member = each.value
}

# Logs and metrics from the VMs' agents.
resource "google_project_iam_member" "telemetry" {
  for_each = {
    control_plane_logs    = { role = "roles/logging.logWriter", member = google_service_account.control_plane.member }
    control_plane_metrics = { role = "roles/monitoring.metricWriter", member = google_service_account.control_plane.member }
    worker_logs           = { role = "roles/logging.logWriter", member = google_service_account.worker.member }
    worker_metrics        = { role = "roles/monitoring.metricWriter", member = google_service_account.worker.member }
  }

  project = var.project_id
  role    = each.value.role
  member  = each.value.member
}
