# production: the infrastructure document's numbers for this environment. Secrets come from the
# environment (TF_VAR_supabase_database_password, TF_VAR_tls_certificate, TF_VAR_slack_webhook_url;
# DIGITALOCEAN_TOKEN, CLOUDFLARE_API_TOKEN, SUPABASE_ACCESS_TOKEN; AWS_ACCESS_KEY_ID and
# AWS_SECRET_ACCESS_KEY = the Spaces key for the state), never from files in this repository.
#
#   cd deploy/terraform/environments/production && terraform init && terraform plan
terraform {
  required_version = ">= 1.10"

  # Remote state in DigitalOcean Spaces (S3-compatible), encrypted, locked with a lock file
  # beside the state (S3 conditional writes; no DynamoDB on DigitalOcean).
  backend "s3" {
    bucket       = "pl-terraform-state"
    key          = "production/terraform.tfstate"
    region       = "us-east-1" # required by the S3 client; Spaces ignores it
    encrypt      = true
    use_lockfile = true
    endpoints = {
      s3 = "https://nyc3.digitaloceanspaces.com"
    }
    skip_credentials_validation = true
    skip_requesting_account_id  = true
    skip_metadata_api_check     = true
    skip_region_validation      = true
    skip_s3_checksum            = true
  }

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

provider "digitalocean" {}
provider "cloudflare" {}
provider "supabase" {}

variable "supabase_organization_id" {
  type = string
}

variable "supabase_database_password" {
  type      = string
  sensitive = true
}

variable "tls_certificate" {
  type = object({
    leaf  = string
    key   = string
    chain = string
  })
  sensitive = true
}

variable "slack_webhook_url" {
  type      = string
  sensitive = true
}

variable "cloudflare_zone_id" {
  type = string
}

variable "office_cidrs" {
  description = "Office IP ranges (SSH to the bastion)"
  type        = list(string)
}

variable "ssh_key_fingerprints" {
  type = list(string)
}

module "stack" {
  source        = "../../stack"
  environment   = "production"
  env_short     = "prod"
  region        = "nyc1" # the document: NYC1 (primary)
  backup_region = "sfo2" # the document: SFO2 (backup)
  vpc_ip_range  = "10.0.0.0/16"
  # 3 web/app servers (the document: minimum 3), 4GB RAM / 2 vCPUs: pl-prod-web-01..03
  web_count = 3
  web_size  = "s-2vcpu-4gb"
  bastion   = true # pl-prod-bastion, 1GB RAM / 1 vCPU
  # Managed Redis: primary + replica, 2GB RAM (pl-prod-redis-01, -02)
  redis = {
    size       = "db-s-1vcpu-2gb"
    node_count = 2
  }
  # Supabase Pro, compute add-on 2x (Small), region aligned with NYC1
  supabase_region        = "us-east-1"
  supabase_instance_size = "small"
  hostnames              = ["@", "www", "api", "admin"]
  manage_zone_settings   = true

  supabase_organization_id   = var.supabase_organization_id
  supabase_database_password = var.supabase_database_password
  tls_certificate            = var.tls_certificate
  slack_webhook_url          = var.slack_webhook_url
  cloudflare_zone_id         = var.cloudflare_zone_id
  office_cidrs               = var.office_cidrs
  ssh_key_fingerprints       = var.ssh_key_fingerprints
}

output "web_private_ipv4" {
  value = module.stack.web_private_ipv4
}

output "load_balancer_ip" {
  value = module.stack.load_balancer_ip
}
