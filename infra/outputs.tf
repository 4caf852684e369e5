output "topics" {
  description = "The bus topics, by role."
  value       = { for k, t in google_pubsub_topic.bus : k => t.name }
}

output "subscriptions" {
  description = "The bus subscriptions, by topic role (provision: provisioner, fleet: scheduler, progress: ingester)."
  value       = { for k, s in google_pubsub_subscription.bus : k => s.name }
}

output "dead_letter_topics" {
  description = "Where messages go after pubsub_max_delivery_attempts failed deliveries."
  value       = { for k, t in google_pubsub_topic.dead_letter : k => t.name }
}

output "artifacts_bucket" {
  description = "The artifacts bucket (KUMO_ARTIFACTS_BUCKET)."
  value       = google_storage_bucket.artifacts.name
}

output "control_plane_service_account" {
  description = "Identity of the control plane."
  value       = google_service_account.control_plane.email
}

output "worker_service_account" {
  description = "Identity of the worker VMs (the provisioner's serviceAccountEmail)."
  value       = google_service_account.worker.email
}

output "worker_instance_template" {
  description = "The A100 spot worker template."
  value       = google_compute_instance_template.a100_spot.self_link
}

output "worker_subnetwork" {
  description = "Subnetwork for worker VMs (the provisioner's subnetwork)."
  value       = google_compute_subnetwork.kumo.id
}

output "redis_host" {
  description = "Memorystore address, reachable from the kumo network only."
  value       = "${google_redis_instance.kumo.host}:${google_redis_instance.kumo.port}"
}

output "redis_url" {
  description = "REDIS_URL with the AUTH string."
  value       = local.redis_url
  sensitive   = true
}

output "control_plane_url" {
  description = "The API inside the VPC. From outside: gcloud compute start-iap-tunnel <name> 8080 --local-host-port=localhost:8080 --zone <zone>."
  value       = local.control_api_url
}

output "control_plane_instance" {
  description = "Name and zone of the control-plane VM."
  value       = { name = google_compute_instance.control_plane.name, zone = google_compute_instance.control_plane.zone }
}

output "secrets" {
  description = "Secret Manager secrets the VMs read at boot (their metadata names them): the Redis URL, and the worker-token secret of each pool when worker_transport = https (add their versions after minting the tokens; README.md)."
  value = {
    redis_url     = google_secret_manager_secret.redis_url.id
    worker_tokens = { for pool, s in google_secret_manager_secret.worker_token : pool => s.id }
  }
}
