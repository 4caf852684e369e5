# A network of its own. VMs have no external addresses; they reach the internet (NodeSource, npm) through
# Cloud NAT and Google APIs through Private Google Access.

resource "google_compute_network" "kumo" {
  name                    = "${local.prefix}-network"
  auto_create_subnetworks = false
}

resource "google_compute_subnetwork" "kumo" {
  name                     = "${local.prefix}-${var.region}"
  region                   = var.region
  network                  = google_compute_network.kumo.id
  ip_cidr_range            = var.subnet_cidr
  private_ip_google_access = true
}

resource "google_compute_router" "kumo" {
  name    = "${local.prefix}-router"
  region  = var.region
  network = google_compute_network.kumo.id
}

resource "google_compute_router_nat" "kumo" {
  name                               = "${local.prefix}-nat"
  router                             = google_compute_router.kumo.name
  region                             = var.region
  nat_ip_allocate_option             = "AUTO_ONLY"
  source_subnetwork_ip_ranges_to_nat = "ALL_SUBNETWORKS_ALL_IP_RANGES"

  log_config {
    enable = true
    filter = "ERRORS_ONLY"
  }
}

# Workers (and anything in the subnet) call the control plane's API: worker tokens, task results.
resource "google_compute_firewall" "api_internal" {
  name          = "${local.prefix}-api-internal"
  network       = google_compute_network.kumo.id
  direction     = "INGRESS"
  source_ranges = [var.subnet_cidr]
  target_tags   = [local.control_tag]

  allow {
    protocol = "tcp"
    ports    = [tostring(var.api_port)]
  }
}

# A gang training job's ranks talk to each other directly: rank 0's rendezvous (MASTER_PORT, 29500 by
# default) and NCCL's own connections, on ports it picks. Only between worker VMs.
resource "google_compute_firewall" "worker_to_worker" {
  name        = "${local.prefix}-worker-to-worker"
  network     = google_compute_network.kumo.id
  direction   = "INGRESS"
  source_tags = [local.worker_tag]
  target_tags = [local.worker_tag]

  allow {
    protocol = "tcp"
  }
  allow {
    protocol = "udp"
  }
}

# SSH only through Identity-Aware Proxy's range (`gcloud compute ssh --tunnel-through-iap`).
resource "google_compute_firewall" "iap_ssh" {
  name          = "${local.prefix}-iap-ssh"
  network       = google_compute_network.kumo.id
  direction     = "INGRESS"
  source_ranges = ["35.235.240.0/20"]
  target_tags   = [local.control_tag, local.worker_tag]

  allow {
    protocol = "tcp"
    ports    = ["22", tostring(var.api_port)]
  }
}

resource "google_compute_firewall" "api_external" {
  count = length(var.api_allowed_cidrs) > 0 ? 1 : 0

  name          = "${local.prefix}-api-external"
  network       = google_compute_network.kumo.id
  direction     = "INGRESS"
  source_ranges = var.api_allowed_cidrs
  target_tags   = [local.control_tag]

  allow {
    protocol = "tcp"
    ports    = [tostring(var.api_port)]
  }
}
