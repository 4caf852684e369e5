variable "project_id" {
  description = "The GCP project kumo runs in (GOOGLE_CLOUD_PROJECT). It must have billing and the Compute, Pub/Sub, Storage, Memorystore and IAM APIs enabled."
  type        = string
}

variable "region" {
  description = "Region for the network, Memorystore, the control plane and the workers. us-central1 has A100s in several zones. The project needs A100 GPU quota here: PREEMPTIBLE_NVIDIA_A100_GPUS for spot workers (NVIDIA_A100_GPUS for standard ones), plus A2_CPUS and GPUS_ALL_REGIONS; see README.md."
  type        = string
  default     = "us-central1"
}

variable "zones" {
  description = "Zones of var.region that may hold workers, in the order kumo tries them (the next only after a capacity error in the previous). Each must offer the worker machine type."
  type        = list(string)
  default     = ["us-central1-a", "us-central1-b", "us-central1-c", "us-central1-f"]
}

variable "name_prefix" {
  description = "Prefix of every resource name this configuration creates."
  type        = string
  default     = "kumo"
}

variable "subnet_cidr" {
  description = "IP range of the kumo subnet (workers and control plane)."
  type        = string
  default     = "10.10.0.0/20"
}

variable "api_port" {
  description = "Port the control plane's REST API listens on (PORT)."
  type        = number
  default     = 8080
}

variable "api_allowed_cidrs" {
  description = "Address ranges outside the VPC allowed to reach the API port (for example an office range). Empty: reach it through IAP (`gcloud compute start-iap-tunnel`) or from inside the VPC."
  type        = list(string)
  default     = []
}

variable "control_plane_machine_type" {
  description = "Machine type of the control-plane VM (api, scheduler, provisioner in one `npm start`)."
  type        = string
  default     = "e2-standard-4"
}

variable "control_plane_image" {
  description = "Boot image of the control-plane VM; its startup script installs Node 20."
  type        = string
  default     = "debian-cloud/debian-12"
}

variable "control_plane_external_ip" {
  description = "Give the control-plane VM an external address (only useful together with api_allowed_cidrs). Default: internal only, out through Cloud NAT."
  type        = bool
  default     = false
}

variable "kumo_bundle_uri" {
  description = "gs:// URI of the kumo tarball (the repository with production node_modules) that the control plane and the workers unpack on boot, e.g. gs://<artifacts bucket>/releases/kumo-<version>.tgz. Upload it before the VMs boot."
  type        = string
  default     = ""
}

variable "worker_pool" {
  description = "Name of the pool the instance template's workers join (kumo-pool label and metadata)."
  type        = string
  default     = "a100-spot"
}

variable "worker_machine_type" {
  description = "Worker machine type. A2 types carry A100s: a2-highgpu-1g/2g/4g/8g and a2-megagpu-16g (nvidia-tesla-a100, 40 GB), a2-ultragpu-1g/2g/4g/8g (nvidia-a100-80gb)."
  type        = string
  default     = "a2-highgpu-1g"
}

variable "worker_gpu_type" {
  description = "Accelerator type of the workers; must match the machine type (nvidia-tesla-a100 for a2-highgpu/megagpu, nvidia-a100-80gb for a2-ultragpu)."
  type        = string
  default     = "nvidia-tesla-a100"
}

variable "worker_gpu_count" {
  description = "GPUs per worker; must match the machine type (a2-highgpu-1g: 1, -2g: 2, -4g: 4, -8g: 8, a2-megagpu-16g: 16)."
  type        = number
  default     = 1
}

variable "worker_image" {
  description = "Worker boot image: a Deep Learning VM family with CUDA, whose first boot installs the NVIDIA driver (install-nvidia-driver metadata)."
  type        = string
  default     = "projects/deeplearning-platform-release/global/images/family/common-cu123-debian-11-py310"
}

variable "worker_disk_gb" {
  description = "Worker boot disk size in GB (pd-balanced)."
  type        = number
  default     = 200
}

variable "artifacts_bucket_name" {
  description = "Name of the artifacts bucket (logs, outputs, checkpoint index). Empty: <project_id>-<name_prefix>-artifacts."
  type        = string
  default     = ""
}

variable "artifacts_location" {
  description = "Location of the artifacts bucket; the same region as the workers avoids egress charges."
  type        = string
  default     = "US-CENTRAL1"
}

variable "log_retention_days" {
  description = "Task logs (objects ending in log.txt) are deleted after this many days."
  type        = number
  default     = 30
}

variable "redis_memory_size_gb" {
  description = "Memorystore capacity in GB. Redis holds job records, counters and the tasks in flight, not every task of a job, so a few GB carry millions of tasks."
  type        = number
  default     = 5
}

variable "redis_version" {
  description = "Memorystore Redis version."
  type        = string
  default     = "REDIS_7_2"
}

variable "pubsub_max_delivery_attempts" {
  description = "Deliveries of one message before Pub/Sub moves it to the subscription's dead-letter topic (5 to 100)."
  type        = number
  default     = 10
}

variable "worker_transport" {
  description = "What worker VMs talk to: redis (they read the Redis URL from Secret Manager; gangs need this) or https (they read only their pool's worker token and talk to the API; no worker VM can read the Redis secret). See secrets.tf and README.md."
  type        = string
  default     = "redis"

  validation {
    condition     = contains(["redis", "https"], var.worker_transport)
    error_message = "worker_transport is redis or https."
  }
}

variable "worker_token_pools" {
  description = "With worker_transport = https: the pools whose VMs read a worker token, one Secret Manager secret <name_prefix>-worker-token-<pool> each (its version is added after minting the token; README.md). Include worker_pool."
  type        = list(string)
  default     = ["a100-spot"]
}

variable "api_https_url" {
  description = "With worker_transport = https: the API's https:// address as worker VMs reach it (a TLS proxy or load balancer in front of the control plane, which this configuration does not make). Workers send their token only over https:// (plain http:// to loopback alone)."
  type        = string
  default     = ""
}
