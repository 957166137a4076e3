# The database: a Supabase project per environment (the document: managed PostgreSQL, Pro plan,
# region aligned with the application servers, PITR, daily backups, connection pooling), open
# only to the application servers' addresses. SSL is required by the app's connection string
# (DATABASE_URL with sslmode=require, from the vault) and by the project's SSL enforcement,
# which the Supabase provider does not manage: `supabase ssl-enforcement update
# --enable-db-ssl-enforcement` once per project (deploy/README.md).
terraform {
  required_version = ">= 1.10"
  required_providers {
    supabase = {
      source  = "supabase/supabase"
      version = "~> 1.5"
    }
  }
}

variable "organization_id" {
  type = string
}

variable "name" {
  description = "Project name: plumberleads-production, -staging, -development, -qa"
  type        = string
}

variable "region" {
  description = "Supabase region next to DigitalOcean NYC1: us-east-1"
  type        = string
}

variable "instance_size" {
  description = "Compute add-on (the document: Pro plan, compute add-on 2x)"
  type        = string
}

variable "database_password" {
  type      = string
  sensitive = true
}

variable "app_server_cidrs" {
  description = "The application servers' public addresses (/32): the only clients allowed"
  type        = list(string)
}

resource "supabase_project" "this" {
  organization_id   = var.organization_id
  name              = var.name
  database_password = var.database_password
  region            = var.region
  instance_size     = var.instance_size

  lifecycle {
    ignore_changes  = [database_password]
    prevent_destroy = true
  }
}

resource "supabase_settings" "this" {
  project_ref = supabase_project.this.id

  # The document: "Restricted to application server IP addresses".
  network = jsonencode({
    restrictions = var.app_server_cidrs
  })

  # The app pools its own connections (min 5, max 50 per node); Supavisor in front.
  pooler = jsonencode({
    default_pool_size = 50
  })
}

output "project_ref" {
  value = supabase_project.this.id
}
