# Web/app servers, the load balancer in front of them, the bastion, and the site's DNS at
# Cloudflare (the document's CDN/WAF and DNS). Names follow the document: pl-prod-web-01 …
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
  }
}

variable "env_short" {
  description = "Name part of the environment: prod, stage, dev, qa"
  type        = string
}

variable "region" {
  description = "DigitalOcean region (the document: NYC1)"
  type        = string
}

variable "vpc_id" {
  type = string
}

variable "web_count" {
  description = "Web/app droplets (production: 3, the document's minimum)"
  type        = number
}

variable "web_size" {
  description = "Droplet size slug (s-2vcpu-4gb: the document's 4GB RAM, 2 vCPUs)"
  type        = string
}

variable "image" {
  description = "Droplet image (the document: Ubuntu 20.04 LTS)"
  type        = string
  default     = "ubuntu-20-04-x64"
}

variable "ssh_key_fingerprints" {
  description = "SSH keys allowed at first boot (the document: SSH with key authentication)"
  type        = list(string)
}

variable "bastion" {
  description = "Whether this environment has its own bastion host (production: pl-prod-bastion)"
  type        = bool
  default     = false
}

variable "bastion_size" {
  description = "Bastion size slug (s-1vcpu-1gb: the document's 1GB RAM, 1 vCPU)"
  type        = string
  default     = "s-1vcpu-1gb"
}

variable "load_balancer" {
  description = "Whether the environment has a load balancer (one per environment with more than one node; also single-node ones for TLS)"
  type        = bool
  default     = true
}

variable "tls_certificate" {
  description = "The Let's Encrypt certificate (renewed by Certbot, the document's Appendix B): PEM leaf, key and chain"
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
  description = "Names served by this environment (Appendix B); \"@\" is the zone apex"
  type        = list(string)
}

locals {
  web_tag     = "pl-${var.env_short}-web"
  bastion_tag = "pl-${var.env_short}-bastion"
}

resource "digitalocean_tag" "web" {
  name = local.web_tag
}

resource "digitalocean_tag" "bastion" {
  name = local.bastion_tag
}

resource "digitalocean_droplet" "web" {
  #checkov:skip=CKV_DIO_2:ssh_keys is set, from var.ssh_key_fingerprints (required, no default), whose value checkov cannot see
  count             = var.web_count
  name              = format("pl-%s-web-%02d", var.env_short, count.index + 1)
  region            = var.region
  size              = var.web_size
  image             = var.image
  vpc_uuid          = var.vpc_id
  ssh_keys          = var.ssh_key_fingerprints
  tags              = [digitalocean_tag.web.id]
  monitoring        = true
  ipv6              = false
  backups           = false # stateless: rebuilt from Terraform and Ansible (the document's DR procedure)
  graceful_shutdown = true
}

resource "digitalocean_droplet" "bastion" {
  #checkov:skip=CKV_DIO_2:ssh_keys is set, from var.ssh_key_fingerprints (required, no default), whose value checkov cannot see
  count      = var.bastion ? 1 : 0
  name       = "pl-${var.env_short}-bastion"
  region     = var.region
  size       = var.bastion_size
  image      = var.image
  vpc_uuid   = var.vpc_id
  ssh_keys   = var.ssh_key_fingerprints
  tags       = [digitalocean_tag.bastion.id]
  monitoring = true
}

resource "digitalocean_certificate" "site" {
  count             = var.load_balancer ? 1 : 0
  name              = "pl-${var.env_short}-letsencrypt"
  type              = "custom"
  private_key       = var.tls_certificate.key
  leaf_certificate  = var.tls_certificate.leaf
  certificate_chain = var.tls_certificate.chain

  lifecycle {
    create_before_destroy = true
  }
}

# The document's "Load Balancer Configuration": round-robin, health check /health every 10 s,
# 5 s timeout, 3 unhealthy / 5 healthy, TLS terminated here, HTTP redirected to HTTPS.
resource "digitalocean_loadbalancer" "web" {
  count                     = var.load_balancer ? 1 : 0
  name                      = "pl-${var.env_short}-lb"
  region                    = var.region
  vpc_uuid                  = var.vpc_id
  droplet_tag               = digitalocean_tag.web.id
  algorithm                 = "round_robin"
  redirect_http_to_https    = true
  enable_proxy_protocol     = false
  enable_backend_keepalive  = true
  http_idle_timeout_seconds = 60

  forwarding_rule {
    entry_protocol   = "https"
    entry_port       = 443
    target_protocol  = "http"
    target_port      = 8080
    certificate_name = digitalocean_certificate.site[0].name
    tls_passthrough  = false
  }

  forwarding_rule {
    entry_protocol  = "http"
    entry_port      = 80
    target_protocol = "http"
    target_port     = 8080
  }

  # The document probes HTTPS on 443; TLS ends at this balancer and the nodes speak HTTP on
  # 8080 inside the VPC, so the probe asks the node's /health there (deploy/README.md).
  healthcheck {
    protocol                 = "http"
    port                     = 8080
    path                     = "/health"
    check_interval_seconds   = 10
    response_timeout_seconds = 5
    unhealthy_threshold      = 3
    healthy_threshold        = 5
  }

  # The document's public inbound: HTTP (80) and HTTPS (443) from any.
  firewall {
    allow = ["cidr:0.0.0.0/0", "cidr:::/0"]
  }
}

# DNS at Cloudflare, proxied (CDN, DDoS protection, WAF) to the balancer.
resource "cloudflare_record" "site" {
  for_each = var.load_balancer ? toset(var.hostnames) : toset([])
  zone_id  = var.cloudflare_zone_id
  name     = each.value
  type     = "A"
  content  = digitalocean_loadbalancer.web[0].ip
  proxied  = true
  ttl      = 1
  comment  = "PlumberLeads ${var.env_short} (Terraform)"
}

output "web_tag" {
  value = digitalocean_tag.web.id
}

output "bastion_tag" {
  value = digitalocean_tag.bastion.id
}

output "web_droplet_ids" {
  value = digitalocean_droplet.web[*].id
}

output "web_public_ipv4" {
  value = digitalocean_droplet.web[*].ipv4_address
}

output "web_private_ipv4" {
  value = digitalocean_droplet.web[*].ipv4_address_private
}

output "bastion_droplet_ids" {
  value = digitalocean_droplet.bastion[*].id
}

output "load_balancer_id" {
  value = var.load_balancer ? digitalocean_loadbalancer.web[0].id : null
}

output "load_balancer_ip" {
  value = var.load_balancer ? digitalocean_loadbalancer.web[0].ip : null
}
