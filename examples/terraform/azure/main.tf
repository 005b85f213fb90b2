# The Azure side of the keyless examples: one Entra application per example,
# each with federated identity credentials that name exactly one issuer and
# one subject, and a role assignment scoped to what the job deploys. keyless's
# local policy is a second check in the job; these are what Entra enforces.
#
#   terraform init && terraform apply
#
# The client IDs this creates are the azure-client-id of examples/github,
# examples/gitlab and policies/ (there, with placeholder values).

terraform {
  required_version = ">= 1.5"
  required_providers {
    azuread = {
      source  = "hashicorp/azuread"
      version = ">= 3.0"
    }
    azurerm = {
      source  = "hashicorp/azurerm"
      version = ">= 4.0"
    }
  }
}

provider "azuread" {}

provider "azurerm" {
  features {}
}

variable "resource_group" {
  description = "Resource group the deploy identities may change."
  type        = string
  default     = "acme-prod"
}

variable "applications" {
  description = <<-EOT
    One Entra application per example. A federated credential matches its
    issuer, subject and audience exactly, so each subject is spelled out:
    no other repository, branch or environment can match.
  EOT
  type = map(object({
    role     = string
    subjects = map(object({ issuer = string, subject = string }))
  }))
  default = {
    # examples/github/azure.yml.
    "api-deploy" = {
      role = "Contributor"
      subjects = {
        "github-api-production" = {
          issuer  = "https://token.actions.githubusercontent.com"
          subject = "repo:acme/api:environment:production"
        }
      }
    }
    # examples/github/reusable-deploy.yml (policies/multi-cloud.yaml, rule
    # release-all-clouds). The sub claim names the caller, not the reusable
    # workflow: Entra cannot check job_workflow_ref here, keyless's policy
    # does. To have Entra check it too, customize the repositories' sub claim
    # to include job_workflow_ref (GitHub's OIDC subject customization) and
    # use that subject below.
    "release" = {
      role = "Contributor"
      subjects = {
        "github-api-production" = {
          issuer  = "https://token.actions.githubusercontent.com"
          subject = "repo:acme/api:environment:production"
        }
        "github-web-production" = {
          issuer  = "https://token.actions.githubusercontent.com"
          subject = "repo:acme/web:environment:production"
        }
      }
    }
    # examples/github/all-clouds.yml.
    "platform-apply" = {
      role = "Contributor"
      subjects = {
        "github-platform-production" = {
          issuer  = "https://token.actions.githubusercontent.com"
          subject = "repo:acme/platform:environment:production"
        }
      }
    }
    # examples/gitlab/azure: terraform plan from the protected main branch of
    # platform/infra on the self-managed GitLab (rule terraform-plan-internal).
    "infra-plan" = {
      role = "Reader"
      subjects = {
        "gitlab-infra-main" = {
          issuer  = "https://gitlab.acme.example"
          subject = "project_path:platform/infra:ref_type:branch:ref:main"
        }
      }
    }
  }
}

locals {
  credentials = merge([
    for app, a in var.applications : {
      for name, s in a.subjects : "${app}/${name}" => merge(s, { app = app, name = name })
    }
  ]...)
}

data "azurerm_resource_group" "target" {
  name = var.resource_group
}

resource "azuread_application" "keyless" {
  for_each     = var.applications
  display_name = "keyless-${each.key}"
}

resource "azuread_service_principal" "keyless" {
  for_each  = var.applications
  client_id = azuread_application.keyless[each.key].client_id
}

resource "azuread_application_federated_identity_credential" "keyless" {
  for_each = local.credentials

  application_id = azuread_application.keyless[each.value.app].id
  display_name   = each.value.name
  issuer         = each.value.issuer
  subject        = each.value.subject
  # keyless asks for tokens with this audience (azure-audience).
  audiences = ["api://AzureADTokenExchange"]
}

resource "azurerm_role_assignment" "keyless" {
  for_each = var.applications

  scope                = data.azurerm_resource_group.target.id
  role_definition_name = each.value.role
  principal_id         = azuread_service_principal.keyless[each.key].object_id
}

output "client_ids" {
  description = "The azure-client-id of each example."
  value       = { for k, app in azuread_application.keyless : k => app.client_id }
}

data "azuread_client_config" "current" {}

output "tenant_id" {
  description = "The azure-tenant-id of the examples."
  value       = data.azuread_client_config.current.tenant_id
}
