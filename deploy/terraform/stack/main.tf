# One environment of PlumberLeads, from the six modules. Each folder under ../environments calls
# this with the document's numbers for that environment (sizes, counts, region, names, ranges).
terraform {
  required_version = ">= 1.10"
  required_providers {
    digitalocean = {
      source  = "digitalocean/digitalocean"
      version = "~> 2.40"
    }
    cloudflare = {
      source  = "cloudflare/cloudflare"
      version = "~> 4.40"
    }
    supabase = {
      source  = "supabase/supabase"
      version = "~> 1.5"
    }
  }
}

variable "environment" {
  description = "production, staging, development or qa"
  type        = string
  validation {
    condition     = contains(["production", "staging", "development", "qa"], var.environment)
    error_message = "One of production, staging, development, qa."
  }
}

variable "env_short" {
  description = "Name part: prod, stage, dev, qa (pl-prod-web-01)"
  type        = string
}

variable "region" {
  type = string
}

variable "backup_region" {
  description = "Where the region failover rebuilds (the document: SFO2 for production); not provisioned until needed"
  type        = string
  default     = null
}

variable "vpc_ip_range" {
  type = string
}

variable "web_count" {
  type = number
}

variable "web_size" {
  type = string
}

variable "bastion" {
  type    = bool
  default = false
}

variable "redis" {
  description = "Managed Redis (size slug and node count), or null for none (PostgreSQL then holds sessions and limits)"
  type = object({
    size       = string
    node_count = number
  })
  default = null
}

variable "supabase_organization_id" {
  type = string
}

variable "supabase_region" {
  type = string
}

variable "supabase_instance_size" {
  type = string
}

variable "supabase_database_password" {
  type      = string
  sensitive = true
}

variable "office_cidrs" {
  type = list(string)
}

variable "ssh_key_fingerprints" {
  type = list(string)
}

variable "tls_certificate" {
  type = object({
    leaf  = string
    key   = string
    chain = string
  })
  sensitive = true
}

variable "cloudflare_zone_id" {
  type = string
}

variable "hostnames" {
  type = list(string)
}

variable "manage_zone_settings" {
  type    = bool
  default = false
}

variable "prometheus_scrape" {
  type    = bool
  default = false
}

variable "alert_email" {
  type    = string
  default = "operations@plumberleads.com"
}

variable "slack_channel" {
  type    = string
  default = "#ops-alerts"
}

variable "slack_webhook_url" {
  type      = string
  sensitive = true
}

module "vpc" {
  source   = "../modules/vpc"
  name     = "pl-${var.env_short}-vpc"
  region   = var.region
  ip_range = var.vpc_ip_range
}

module "web" {
  source               = "../modules/web"
  env_short            = var.env_short
  region               = var.region
  vpc_id               = module.vpc.id
  web_count            = var.web_count
  web_size             = var.web_size
  bastion              = var.bastion
  ssh_key_fingerprints = var.ssh_key_fingerprints
  tls_certificate      = var.tls_certificate
  cloudflare_zone_id   = var.cloudflare_zone_id
  hostnames            = var.hostnames
}

module "security" {
  source       = "../modules/security"
  env_short    = var.env_short
  office_cidrs = var.office_cidrs
  web_tag      = module.web.web_tag
  # Environments without a bastion of their own are reached through production's (the
  # document has one bastion, pl-prod-bastion); DigitalOcean tags are account-wide.
  bastion_tag          = var.bastion ? module.web.bastion_tag : "pl-prod-bastion"
  bastion_droplet_ids  = module.web.bastion_droplet_ids
  load_balancer_ids    = compact([module.web.load_balancer_id])
  prometheus_scrape    = var.prometheus_scrape
  cloudflare_zone_id   = var.cloudflare_zone_id
  manage_zone_settings = var.manage_zone_settings
}

module "redis" {
  source     = "../modules/redis"
  count      = var.redis == null ? 0 : 1
  name       = "pl-${var.env_short}-redis"
  region     = var.region
  vpc_id     = module.vpc.id
  size       = var.redis.size
  node_count = var.redis.node_count
  app_tag    = module.web.web_tag
}

module "supabase" {
  source            = "../modules/supabase"
  organization_id   = var.supabase_organization_id
  name              = "plumberleads-${var.environment}"
  region            = var.supabase_region
  instance_size     = var.supabase_instance_size
  database_password = var.supabase_database_password
  app_server_cidrs  = [for ip in module.web.web_public_ipv4 : "${ip}/32"]
}

module "monitoring" {
  source            = "../modules/monitoring"
  env_short         = var.env_short
  droplet_ids       = concat(module.web.web_droplet_ids, module.web.bastion_droplet_ids)
  alert_email       = var.alert_email
  slack_channel     = var.slack_channel
  slack_webhook_url = var.slack_webhook_url
  health_url        = "https://${var.hostnames[0] == "@" ? "plumberleads.com" : "${var.hostnames[0]}.plumberleads.com"}/health"
}

output "web_private_ipv4" {
  description = "For the Ansible inventory"
  value       = module.web.web_private_ipv4
}

output "load_balancer_ip" {
  value = module.web.load_balancer_ip
}

output "redis_private_uri" {
  value     = var.redis == null ? null : module.redis[0].private_uri
  sensitive = true
}

output "supabase_project_ref" {
  value = module.supabase.project_ref
}
