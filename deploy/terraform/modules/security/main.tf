# Firewalls exactly as the document's "Firewall Rules", and Cloudflare's edge settings (WAF,
# TLS 1.3, HSTS, caching) from "CDN Configuration" and "Data in Transit".
#
#   Public subnet inbound:  HTTP 80 and HTTPS 443 from any      → the load balancer's own firewall
#                           (../web, digitalocean_loadbalancer.firewall)
#                           SSH 22 from office IP ranges only    → digitalocean_firewall.bastion
#   Private subnet inbound: HTTP/HTTPS from load balancers only  → digitalocean_firewall.web (8080)
#                           SSH from bastion hosts only          → digitalocean_firewall.web (22)
#                           Redis 6379 from application servers  → ../redis (database firewall)
#   Database access:        application server addresses only,  → ../supabase (network
#                           SSL required                           restrictions; sslmode=require)
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
  type = string
}

variable "office_cidrs" {
  description = "Office IP ranges: the only sources of SSH to the bastion"
  type        = list(string)
  validation {
    condition     = length(var.office_cidrs) > 0 && !contains(var.office_cidrs, "0.0.0.0/0")
    error_message = "SSH is allowed from office IP ranges only: give at least one, and not 0.0.0.0/0."
  }
}

variable "web_tag" {
  type = string
}

variable "bastion_tag" {
  type = string
}

variable "bastion_droplet_ids" {
  type = list(string)
}

variable "load_balancer_ids" {
  type = list(string)
}

variable "prometheus_scrape" {
  description = "Also let the bastion scrape the nodes (app /metrics 8080, node_exporter 9100) for the self-hosted Prometheus. Off: the document's rules only (Datadog's agent pushes and needs no inbound rule)."
  type        = bool
  default     = false
}

variable "cloudflare_zone_id" {
  type = string
}

variable "manage_zone_settings" {
  description = "Whether this environment owns the zone-wide Cloudflare settings (production)"
  type        = bool
  default     = false
}

resource "digitalocean_firewall" "bastion" {
  count       = length(var.bastion_droplet_ids) > 0 ? 1 : 0
  name        = "pl-${var.env_short}-bastion"
  droplet_ids = var.bastion_droplet_ids

  inbound_rule {
    protocol         = "tcp"
    port_range       = "22"
    source_addresses = var.office_cidrs
  }

  outbound_rule {
    protocol              = "tcp"
    port_range            = "1-65535"
    destination_addresses = ["0.0.0.0/0", "::/0"]
  }

  outbound_rule {
    protocol              = "udp"
    port_range            = "53"
    destination_addresses = ["0.0.0.0/0", "::/0"]
  }

  outbound_rule {
    protocol              = "icmp"
    destination_addresses = ["0.0.0.0/0", "::/0"]
  }
}

resource "digitalocean_firewall" "web" {
  name = "pl-${var.env_short}-web"
  tags = [var.web_tag]

  # HTTP from the load balancer only (TLS ends at the balancer; the app listens on 8080).
  inbound_rule {
    protocol                  = "tcp"
    port_range                = "8080"
    source_load_balancer_uids = var.load_balancer_ids
  }

  # SSH from the bastion only.
  inbound_rule {
    protocol    = "tcp"
    port_range  = "22"
    source_tags = [var.bastion_tag]
  }

  dynamic "inbound_rule" {
    for_each = var.prometheus_scrape ? ["8080", "9100"] : []
    content {
      protocol    = "tcp"
      port_range  = inbound_rule.value
      source_tags = [var.bastion_tag]
    }
  }

  # Out: Supabase, Redis, SendGrid, Twilio, Stripe, Datadog, package updates.
  outbound_rule {
    protocol              = "tcp"
    port_range            = "1-65535"
    destination_addresses = ["0.0.0.0/0", "::/0"]
  }

  outbound_rule {
    protocol              = "udp"
    port_range            = "53"
    destination_addresses = ["0.0.0.0/0", "::/0"]
  }
}

# Cloudflare: TLS 1.3 only at the edge, HTTPS always, HSTS, WAF, and the document's cache TTLs
# (browser 4 h; edge 2 h below).
resource "cloudflare_zone_settings_override" "site" {
  count   = var.manage_zone_settings ? 1 : 0
  zone_id = var.cloudflare_zone_id

  settings {
    ssl                      = "strict"
    min_tls_version          = "1.3"
    tls_1_3                  = "on"
    always_use_https         = "on"
    automatic_https_rewrites = "on"
    waf                      = "on"
    browser_cache_ttl        = 14400
    security_header {
      enabled            = true
      max_age            = 63072000
      include_subdomains = true
      nosniff            = true
    }
  }
}

resource "cloudflare_ruleset" "cache" {
  count   = var.manage_zone_settings ? 1 : 0
  zone_id = var.cloudflare_zone_id
  name    = "PlumberLeads edge cache"
  kind    = "zone"
  phase   = "http_request_cache_settings"

  rules {
    description = "Static assets: edge cache 2 h (the document), browser 4 h"
    expression  = "(starts_with(http.request.uri.path, \"/static/\"))"
    action      = "set_cache_settings"
    enabled     = true
    action_parameters {
      cache = true
      edge_ttl {
        mode    = "override_origin"
        default = 7200
      }
      browser_ttl {
        mode    = "override_origin"
        default = 14400
      }
    }
  }
}

resource "cloudflare_ruleset" "waf" {
  count   = var.manage_zone_settings ? 1 : 0
  zone_id = var.cloudflare_zone_id
  name    = "PlumberLeads managed WAF"
  kind    = "zone"
  phase   = "http_request_firewall_managed"

  rules {
    description = "Cloudflare Managed Ruleset"
    expression  = "true"
    action      = "execute"
    enabled     = true
    action_parameters {
      id = "efb7b8c949ac4650a09736fc376e9aee"
    }
  }
}
