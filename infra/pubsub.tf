# The three bus topics (docs/architecture.md): provision commands (scheduler -> provisioner), fleet events
# (provisioner -> scheduler), task progress (workers -> ingester). Each subscription has a dead-letter
# topic, so a message that keeps failing stops being redelivered forever and stays inspectable.

locals {
  bus = {
    provision = { topic = "${local.prefix}-provision", subscriber = "provisioner" }
    fleet     = { topic = "${local.prefix}-fleet", subscriber = "scheduler" }
    progress  = { topic = "${local.prefix}-progress", subscriber = "ingester" }
  }
}

resource "google_pubsub_topic" "bus" {
  for_each = local.bus

  name = each.value.topic
  # At-least-once with idempotent consumers: a day of retention covers a control plane that is down
  # over a night.
  message_retention_duration = "86400s"
  labels                     = { kumo = "bus" }
}

resource "google_pubsub_topic" "dead_letter" {
  for_each = local.bus

  name                       = "${each.value.topic}-dead-letter"
  message_retention_duration = "604800s"
  labels                     = { kumo = "dead-letter" }
}

resource "google_pubsub_subscription" "bus" {
  for_each = local.bus

  name  = "${each.value.topic}-${each.value.subscriber}"
  topic = google_pubsub_topic.bus[each.key].id

  ack_deadline_seconds       = 60
  message_retention_duration = "604800s"
  retain_acked_messages      = false

  # Never expire for inactivity: a subscription that lapses loses every message sent meanwhile.
  expiration_policy {
    ttl = ""
  }

  retry_policy {
    minimum_backoff = "5s"
    maximum_backoff = "300s"
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dead_letter[each.key].id
    max_delivery_attempts = var.pubsub_max_delivery_attempts
  }

  labels = { kumo = "bus", subscriber = each.value.subscriber }
}

# Dead letters are kept here until someone looks (a topic without a subscription drops them).
resource "google_pubsub_subscription" "dead_letter" {
  for_each = local.bus

  name                       = "${each.value.topic}-dead-letter-hold"
  topic                      = google_pubsub_topic.dead_letter[each.key].id
  ack_deadline_seconds       = 60
  message_retention_duration = "604800s"

  expiration_policy {
    ttl = ""
  }
}

# The Pub/Sub service agent moves dead letters: it publishes to the dead-letter topic and acks the
# message on the source subscription.
resource "google_pubsub_topic_iam_member" "dead_letter_publisher" {
  for_each = local.bus

  topic  = google_pubsub_topic.dead_letter[each.key].name
  role   = "roles/pubsub.publisher"
  member = local.pubsub_agent
}

resource "google_pubsub_subscription_iam_member" "dead_letter_subscriber" {
  for_each = local.bus

  subscription = google_pubsub_subscription.bus[each.key].name
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_agent
}
