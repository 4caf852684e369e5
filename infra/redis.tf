# Redis for job records, counters and the BullMQ queues. STANDARD_HA keeps a replica in another zone
# and fails over to it. noeviction: Redis must refuse writes when full rather than drop queue keys,
# which would lose tasks silently (BullMQ requires it).
#
# Persistence: Memorystore for Redis (this resource) offers RDB snapshots only; AOF exists for
# Memorystore Cluster, which BullMQ's multi-key scripts do not suit. Durability here is the HA replica
# (asynchronous, so a failover can lose the last moments of writes) plus hourly RDB snapshots for
# restarts. Counts stay exact through a loss like that because every update is idempotent (docs/architecture.md, "Invariants").
resource "google_redis_instance" "kumo" {
  name           = "${local.prefix}-redis"
  tier           = "STANDARD_HA"
  memory_size_gb = var.redis_memory_size_gb
  region         = var.region
  redis_version  = var.redis_version

  authorized_network = google_compute_network.kumo.id
  connect_mode       = "DIRECT_PEERING"
  auth_enabled       = true

  redis_configs = {
    "maxmemory-policy" = "noeviction"
  }

  persistence_config {
    persistence_mode    = "RDB"
    rdb_snapshot_period = "ONE_HOUR"
  }

  maintenance_policy {
    weekly_maintenance_window {
      day = "SUNDAY"
      start_time {
        hours   = 18
        minutes = 0
      }
    }
  }

  labels = { kumo = "redis" }
}
