# Network: one DigitalOcean VPC per environment (the document's "Digital Ocean Virtual Network").
# DigitalOcean VPCs have no subnets: the document's public subnet (load balancer, bastion) and
# private subnet (app servers, Redis) are drawn by the firewalls in ../security, which let the
# internet reach only the load balancer (80/443) and the bastion (22, office ranges).
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
  description = "VPC name, e.g. pl-prod-vpc"
  type        = string
}

variable "region" {
  description = "DigitalOcean region (the document: NYC1)"
  type        = string
}

variable "ip_range" {
  description = "Private range; the server inventory's addresses lie in it (production 10.0.0.0/16)"
  type        = string
}

resource "digitalocean_vpc" "this" {
  name        = var.name
  region      = var.region
  ip_range    = var.ip_range
  description = "PlumberLeads ${var.name}"
}

output "id" {
  value = digitalocean_vpc.this.id
}

output "ip_range" {
  value = digitalocean_vpc.this.ip_range
}
