# Task logs, outputs, results and the checkpoint index (keys like jobs/<id>/tasks/<n>/log.txt), and the
# kumo release tarball the VMs unpack on boot (releases/).
resource "google_storage_bucket" "artifacts" {
  name     = local.artifacts_name
  location = var.artifacts_location

  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  # Outputs and checkpoints outlive a `terraform destroy` by mistake.
  force_destroy = false

  lifecycle_rule {
    condition {
      age            = var.log_retention_days
      matches_suffix = ["log.txt"]
    }
    action {
      type = "Delete"
    }
  }

  # Uploads that never finished (a preempted worker mid-upload) stop costing after a day.
  lifecycle_rule {
    condition {
      age = 1
    }
    action {
      type = "AbortIncompleteMultipartUpload"
    }
  }

  labels = { kumo = "artifacts" }
}
