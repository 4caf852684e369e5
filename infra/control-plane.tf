# The control plane: one small VM running `npm start` (api, scheduler, provisioner together) with the
# cloud seams switched on: KUMO_PROVIDER=gce, KUMO_BUS=pubsub, Memorystore as REDIS_URL. Its state lives
# in Redis and Pub/Sub, so the VM itself is disposable (the control plane can die at any
# moment). Cloud Run would not do: the scheduler and provisioner are long-running consumers, not
# request handlers.

resource "google_compute_address" "control_plane_internal" {
  name         = "${local.prefix}-control-plane"
  region       = var.region
  subnetwork   = google_compute_subnetwork.kumo.id
  address_type = "INTERNAL"
}

locals {
  # Written to /etc/kumo/control-plane.env by control-plane-startup.sh; one KEY=VALUE a line. Names as
  # the services' env.ts files read them. No secret: REDIS_URL comes from Secret Manager (the
  # kumo-redis-url-secret metadata); metadata is readable by anyone with compute.instances.get.
  control_plane_env = join("\n", compact([
    "NODE_ENV=production",
    "PORT=${var.api_port}",
    "HOST=0.0.0.0",
    "GOOGLE_CLOUD_PROJECT=${var.project_id}",
    "KUMO_PROVIDER=gce",
    "KUMO_BUS=pubsub",
    "KUMO_ARTIFACTS_BUCKET=${google_storage_bucket.artifacts.name}",
    "KUMO_WORKER_SERVICE_ACCOUNT=${google_service_account.worker.email}",
    "KUMO_NETWORK=${google_compute_network.kumo.id}",
    "KUMO_SUBNETWORK=${google_compute_subnetwork.kumo.id}",
    "KUMO_WORKER_BUNDLE_URI=${var.kumo_bundle_uri}",
    "KUMO_CONTROL_URL=${local.worker_control_url}",
    "KUMO_ZONES=${join(",", var.zones)}",
    # Names, not values: the provisioner puts them in each worker VM's metadata (secrets.tf).
    local.workers_use_redis ? "KUMO_WORKER_REDIS_URL_SECRET=${google_secret_manager_secret.redis_url.id}" : "",
    length(local.token_pools) > 0 ? "KUMO_WORKER_TOKEN_SECRET=${local.worker_token_secret_pattern}" : "",
  ]))
}

resource "google_compute_instance" "control_plane" {
  name         = "${local.prefix}-control-plane"
  zone         = var.zones[0]
  machine_type = var.control_plane_machine_type
  tags         = [local.control_tag]
  labels       = { kumo = "control-plane" }

  boot_disk {
    initialize_params {
      image = var.control_plane_image
      size  = 50
      type  = "pd-balanced"
    }
  }

  network_interface {
    subnetwork = google_compute_subnetwork.kumo.id
    network_ip = google_compute_address.control_plane_internal.address

    dynamic "access_config" {
      for_each = var.control_plane_external_ip ? [1] : []
      content {}
    }
  }

  service_account {
    email  = google_service_account.control_plane.email
    scopes = ["cloud-platform"]
  }

  metadata = {
    "startup-script"        = file("${path.module}/control-plane-startup.sh")
    "kumo-bundle"           = var.kumo_bundle_uri
    "kumo-env"              = local.control_plane_env
    "kumo-redis-url-secret" = google_secret_manager_secret.redis_url.id
    "enable-oslogin"        = "TRUE"
    "enable-osconfig"       = "TRUE"
  }

  # The control plane keeps running through host maintenance (live migration); it holds no GPU.
  scheduling {
    provisioning_model  = "STANDARD"
    on_host_maintenance = "MIGRATE"
    automatic_restart   = true
  }

  allow_stopping_for_update = true

  depends_on = [
    google_project_iam_member.control_plane_compute,
    google_service_account_iam_member.control_plane_acts_as_worker,
    google_secret_manager_secret_version.redis_url,
    google_secret_manager_secret_iam_member.control_plane_redis_url,
  ]
}
