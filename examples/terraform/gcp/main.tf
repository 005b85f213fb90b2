# The Google Cloud side of the keyless examples: two workload identity pools
# (GitHub Actions and gitlab.com), each provider with an attribute condition
# that turns away every other organization before any binding is looked at,
# and service accounts that admit exactly the jobs of the examples. keyless's
# local policy is a second check in the job; these are what Google enforces.
#
#   terraform init && terraform apply -var project_number=123456789012
#
# The names match examples/github, examples/gitlab and policies/:
#   projects/<number>/locations/global/workloadIdentityPools/github/providers/acme
#   projects/<number>/locations/global/workloadIdentityPools/gitlab/providers/gitlab-com

terraform {
  required_version = ">= 1.5"
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 5.0"
    }
  }
}

variable "project" {
  description = "Project that holds the pools and the deploy service accounts."
  type        = string
  default     = "acme-prod"
}

variable "artifacts_project" {
  description = "Project that holds the release service account."
  type        = string
  default     = "acme-artifacts"
}

provider "google" {
  project = var.project
}

# --- GitHub Actions -------------------------------------------------------

resource "google_iam_workload_identity_pool" "github" {
  workload_identity_pool_id = "github"
  display_name              = "GitHub Actions"
}

resource "google_iam_workload_identity_pool_provider" "acme" {
  workload_identity_pool_id          = google_iam_workload_identity_pool.github.workload_identity_pool_id
  workload_identity_pool_provider_id = "acme"
  display_name                       = "acme on GitHub"

  # Only acme's repositories, on GitHub-hosted runners. Without a condition
  # any GitHub repository's token would be accepted by the pool.
  attribute_condition = "assertion.repository_owner == 'acme' && assertion.runner_environment == 'github-hosted'"

  attribute_mapping = {
    "google.subject"         = "assertion.sub"
    "attribute.repository"   = "assertion.repository"
    "attribute.ref"          = "assertion.ref"
    "attribute.release_flow" = "has(assertion.job_workflow_ref) && has(assertion.environment) && assertion.environment == 'production' && assertion.job_workflow_ref.matches('^acme/pipelines/\\\\.github/workflows/deploy\\\\.yml@refs/tags/v[0-9]+\\\\.[0-9]+\\\\.[0-9]+$') ? 'pipelines-deploy' : 'none'"
  }

  oidc {
    issuer_uri = "https://token.actions.githubusercontent.com"
  }
}

# --- gitlab.com -----------------------------------------------------------

resource "google_iam_workload_identity_pool" "gitlab" {
  workload_identity_pool_id = "gitlab"
  display_name              = "gitlab.com"
}

resource "google_iam_workload_identity_pool_provider" "gitlab_com" {
  workload_identity_pool_id          = google_iam_workload_identity_pool.gitlab.workload_identity_pool_id
  workload_identity_pool_provider_id = "gitlab-com"
  display_name                       = "acme/api on gitlab.com"

  # Protected refs of acme/api only (policies/gitlab-protected.yaml).
  attribute_condition = "assertion.project_path == 'acme/api' && assertion.ref_protected == 'true'"

  attribute_mapping = {
    "google.subject"     = "assertion.sub"
    "attribute.ref_type" = "assertion.ref_type"
    "attribute.ref"      = "assertion.ref"
    "attribute.release"  = "assertion.ref_type == 'tag' && assertion.ref.matches('^v[0-9]+\\\\.[0-9]+\\\\.[0-9]+$') ? 'tag' : 'none'"
  }

  oidc {
    issuer_uri = "https://gitlab.com"
  }
}

# --- Service accounts and who may impersonate them -----------------------

locals {
  github_pool = google_iam_workload_identity_pool.github.name
  gitlab_pool = google_iam_workload_identity_pool.gitlab.name

  # service account => (project, members allowed to impersonate it)
  bindings = {
    # examples/github/gcp.yml: acme/api's production environment.
    "api-deploy" = {
      project = var.project
      members = [
        "principal://iam.googleapis.com/${local.github_pool}/subject/repo:acme/api:environment:production",
        # examples/gitlab/gcp, job deploy (rule deploy-from-main).
        "principal://iam.googleapis.com/${local.gitlab_pool}/subject/project_path:acme/api:ref_type:branch:ref:main",
      ]
    }
    # examples/github/reusable-deploy.yml (rule release-all-clouds).
    "release" = {
      project = var.project
      members = ["principalSet://iam.googleapis.com/${local.github_pool}/attribute.release_flow/pipelines-deploy"]
    }
    # examples/github/all-clouds.yml.
    "platform" = {
      project = var.project
      members = ["principal://iam.googleapis.com/${local.github_pool}/subject/repo:acme/platform:environment:production"]
    }
    # examples/gitlab/gcp, job release (rule release-from-tags).
    "api-release" = {
      project = var.artifacts_project
      members = ["principalSet://iam.googleapis.com/${local.gitlab_pool}/attribute.release/tag"]
    }
  }

  members = merge([
    for sa, b in local.bindings : {
      for m in b.members : "${sa} ${m}" => { sa = sa, member = m }
    }
  ]...)
}

resource "google_service_account" "keyless" {
  for_each = local.bindings

  project      = each.value.project
  account_id   = each.key
  display_name = "keyless example: ${each.key}"
}

resource "google_service_account_iam_member" "workload_identity_user" {
  for_each = local.members

  service_account_id = google_service_account.keyless[each.value.sa].name
  role               = "roles/iam.workloadIdentityUser"
  member             = each.value.member
}

output "providers" {
  description = "The gcp-provider of the examples."
  value = {
    github = google_iam_workload_identity_pool_provider.acme.name
    gitlab = google_iam_workload_identity_pool_provider.gitlab_com.name
  }
}

output "service_accounts" {
  description = "The gcp-service-account of the examples."
  value       = { for k, sa in google_service_account.keyless : k => sa.email }
}
