# Secrets in Secret Manager, read at boot by the VMs' startup scripts with the VM's own service-account
# token (the metadata server's token, the REST API's versions/latest:access). Instance metadata answers
# every process on a VM, and anyone in the project with compute.instances.get: it names these secrets
# and holds none. Each secret grants roles/secretmanager.secretAccessor to the identities that read it,
# on the secret itself, never on the project.
#
# worker_transport decides what worker VMs hold:
#   redis: the Redis URL (Memorystore's AUTH string inside), as the control plane holds it;
#   https: a worker token of their pool alone (one secret per pool in worker_token_pools); no worker VM
#          can read the Redis secret.

locals {
  workers_use_redis = var.worker_transport == "redis"
  token_pools       = var.worker_transport == "https" ? toset(var.worker_token_pools) : toset([])
  # The provisioner fills in {pool}: each pool's VMs read their own token.
  worker_token_secret_pattern = "${local.prefix}-worker-token-{pool}"
  # Where worker VMs send their token: never over plain http across the network.
  worker_control_url = local.workers_use_redis ? local.control_api_url : var.api_https_url
}

resource "google_secret_manager_secret" "redis_url" {
  secret_id = "${local.prefix}-redis-url"
  labels    = { kumo = "secret" }

  replication {
    auto {}
  }
}

# Terraform knows the AUTH string (it is in its state either way), so it writes the version. After the
# AUTH string changes (docs/google-cloud.md), `terraform apply` adds the new version; VMs read it at their next boot.
resource "google_secret_manager_secret_version" "redis_url" {
  secret      = google_secret_manager_secret.redis_url.id
  secret_data = local.redis_url
}

# One per pool; the version is added by hand after the API minted the token (docs/https-workers.md): Terraform
# never sees a worker token.
resource "google_secret_manager_secret" "worker_token" {
  for_each = local.token_pools

  secret_id = "${local.prefix}-worker-token-${each.key}"
  labels    = { kumo = "secret", "kumo-pool" = each.key }

  replication {
    auto {}
  }
}

resource "google_secret_manager_secret_iam_member" "control_plane_redis_url" {
  secret_id = google_secret_manager_secret.redis_url.id
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.control_plane.member
}

resource "google_secret_manager_secret_iam_member" "worker_redis_url" {
  count = local.workers_use_redis ? 1 : 0

  secret_id = google_secret_manager_secret.redis_url.id
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.worker.member
}

resource "google_secret_manager_secret_iam_member" "worker_token" {
  for_each = local.token_pools

  secret_id = google_secret_manager_secret.worker_token[each.key].id
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.worker.member
}
