# The A100 spot worker, as an instance template: for a managed instance group, for `gcloud compute
# instances create --source-instance-template`, and as the reviewed record of what a worker VM is. The
# provisioner's GceProvider builds the same body itself (services/provisioner/src/providers/
# gce-instance.ts) so that pools can vary machine type, GPU and zones; keep the two alike.
resource "google_compute_instance_template" "a100_spot" {
  name_prefix  = "${local.prefix}-${var.worker_pool}-"
  description  = "kumo worker: ${var.worker_machine_type} with ${var.worker_gpu_count} x ${var.worker_gpu_type}, spot"
  machine_type = var.worker_machine_type
  tags         = [local.worker_tag]

  labels = {
    kumo        = "worker"
    "kumo-pool" = var.worker_pool
  }

  guest_accelerator {
    type  = var.worker_gpu_type
    count = var.worker_gpu_count
  }

  # Spot: reclaimed at any time with ~30 s notice, then deleted (not stopped), so nothing lingers and
  # costs. GPUs cannot live-migrate, hence TERMINATE on host maintenance.
  scheduling {
    provisioning_model          = "SPOT"
    preemptible                 = true
    automatic_restart           = false
    on_host_maintenance         = "TERMINATE"
    instance_termination_action = "DELETE"
  }

  disk {
    boot         = true
    auto_delete  = true
    source_image = var.worker_image
    disk_size_gb = var.worker_disk_gb
    disk_type    = "pd-balanced"
  }

  network_interface {
    subnetwork = google_compute_subnetwork.kumo.id
    # No access_config: no external address; out through Cloud NAT.
  }

  service_account {
    email  = google_service_account.worker.email
    scopes = ["cloud-platform"]
  }

  # Names of secrets only (secrets.tf): the startup script reads their values from Secret Manager. An
  # empty name means none (worker_transport).
  metadata = {
    "startup-script"           = file("${path.module}/../services/provisioner/src/providers/worker-startup.sh")
    "install-nvidia-driver"    = "True"
    "kumo-pool"                = var.worker_pool
    "kumo-slots"               = "1"
    "kumo-control-url"         = local.worker_control_url
    "kumo-redis-url-secret"    = local.workers_use_redis ? google_secret_manager_secret.redis_url.id : ""
    "kumo-worker-token-secret" = try(google_secret_manager_secret.worker_token[var.worker_pool].id, "")
    "kumo-worker-bundle"       = var.kumo_bundle_uri
  }

  lifecycle {
    create_before_destroy = true

    precondition {
      condition     = local.workers_use_redis || startswith(var.api_https_url, "https://")
      error_message = "worker_transport = https needs api_https_url (https://...): workers send their token over TLS only."
    }
  }
}
