# DigitalOcean's own monitoring for the droplets, with the document's host thresholds (CPU > 85 %,
# memory > 90 %, disk > 85 %, over 5 minutes: DigitalOcean's shortest window), and an uptime
# check on /health. Application alerts (response time, errors, database, queue) are Prometheus
# rules: deploy/monitoring.
terraform {
  required_version = ">= 1.10"
  required_providers {
    digitalocean = {
      source  = "digitalocean/digitalocean"
      version = "~> 2.40"
    }
  }
}

variable "env_short" {
  type = string
}

variable "droplet_ids" {
  type = list(string)
}

variable "alert_email" {
  description = "The document's e-mail channel (operations@plumberleads.com)"
  type        = string
}

variable "slack_channel" {
  type = string
}

variable "slack_webhook_url" {
  type      = string
  sensitive = true
}

variable "health_url" {
  description = "Public /health of the environment, or null for none"
  type        = string
  default     = null
}

locals {
  thresholds = {
    cpu    = { type = "v1/insights/droplet/cpu", value = 85, what = "CPU usage > 85% for 5 minutes" }
    memory = { type = "v1/insights/droplet/memory_utilization_percent", value = 90, what = "Memory usage > 90% for 5 minutes" }
    disk   = { type = "v1/insights/droplet/disk_utilization_percent", value = 85, what = "Disk usage > 85%" }
  }
}

resource "digitalocean_monitor_alert" "host" {
  for_each    = local.thresholds
  type        = each.value.type
  compare     = "GreaterThan"
  value       = each.value.value
  window      = "5m"
  entities    = var.droplet_ids
  description = "pl-${var.env_short}: ${each.value.what}"
  enabled     = true

  alerts {
    email = [var.alert_email]
    slack {
      channel = var.slack_channel
      url     = var.slack_webhook_url
    }
  }
}

resource "digitalocean_uptime_check" "health" {
  count   = var.health_url == null ? 0 : 1
  name    = "pl-${var.env_short}-health"
  target  = var.health_url
  type    = "https"
  regions = ["us_east", "us_west"]
  enabled = true
}

resource "digitalocean_uptime_alert" "down" {
  count      = var.health_url == null ? 0 : 1
  name       = "pl-${var.env_short}-down"
  check_id   = digitalocean_uptime_check.health[0].id
  type       = "down"
  period     = "2m"
  comparison = "less_than"
  threshold  = 1

  notifications {
    email = [var.alert_email]
    slack {
      channel = var.slack_channel
      url     = var.slack_webhook_url
    }
  }
}
