# The document's cache tier: DigitalOcean Managed Redis, primary + replica (2 nodes), 2 GB,
# NYC1, eviction volatile-lru, reachable from the application servers only (port 6379 over TLS).
# Persistence (the document: RDB snapshots every 6 hours) is managed by DigitalOcean and not
# settable here.
terraform {
  required_version = ">= 1.10"
  required_providers {
    digitalocean = {
      source  = "digitalocean/digitalocean"
      version = "~> 2.40"
    }
  }
}

variable "name" {
  description = "Cluster name, e.g. pl-prod-redis"
  type        = string
}

variable "region" {
  type = string
}

variable "vpc_id" {
  type = string
}

variable "size" {
  description = "db-s-1vcpu-2gb: the document's 2GB RAM"
  type        = string
}

variable "node_count" {
  description = "2 in production: primary + replica (pl-prod-redis-01, -02)"
  type        = number
}

variable "redis_version" {
  description = "The document: Redis 6.0. DigitalOcean offers the versions it supports; set the closest."
  type        = string
  default     = "7"
}

variable "app_tag" {
  description = "Tag of the application servers, the only clients allowed"
  type        = string
}

resource "digitalocean_database_cluster" "redis" {
  name                 = var.name
  engine               = "redis"
  version              = var.redis_version
  size                 = var.size
  region               = var.region
  node_count           = var.node_count
  private_network_uuid = var.vpc_id
  eviction_policy      = "volatile_lru"
  tags                 = [var.app_tag]

  maintenance_window {
    day  = "sunday"
    hour = "07:00:00" # 2:00 AM EST, the document's patch window
  }
}

resource "digitalocean_database_firewall" "redis" {
  cluster_id = digitalocean_database_cluster.redis.id

  rule {
    type  = "tag"
    value = var.app_tag
  }
}

output "private_uri" {
  value     = digitalocean_database_cluster.redis.private_uri
  sensitive = true
}
