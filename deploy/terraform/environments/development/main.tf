# development: the infrastructure document's numbers for this environment. Secrets come from the
# environment (TF_VAR_supabase_database_password, TF_VAR_tls_certificate, TF_VAR_slack_webhook_url;
# DIGITALOCEAN_TOKEN, CLOUDFLARE_API_TOKEN, SUPABASE_ACCESS_TOKEN; AWS_ACCESS_KEY_ID and
# AWS_SECRET_ACCESS_KEY = the Spaces key for the state), never from files in this repository.
#
#   cd deploy/terraform/environments/development && terraform init && terraform plan
terraform {
  required_version = ">= 1.10"

  # Remote state in DigitalOcean Spaces (S3-compatible), encrypted, locked with a lock file
  # beside the state (S3 conditional writes; no DynamoDB on DigitalOcean).
  backend "s3" {
    bucket       = "pl-terraform-state"
    key          = "development/terraform.tfstate"
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
  source       = "../../stack"
  environment  = "development"
  env_short    = "dev"
  region       = "nyc1"
  vpc_ip_range = "10.2.0.0/16"
  # 1 server, 2GB RAM / 1 vCPU: pl-dev-web-01 (single instance, no auto-scaling)
  web_count              = 1
  web_size               = "s-1vcpu-2gb"
  supabase_region        = "us-east-1"
  supabase_instance_size = "micro"
  hostnames              = ["dev"]

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
