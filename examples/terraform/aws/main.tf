# The AWS side of the keyless examples: the IAM OIDC providers for GitHub
# Actions and gitlab.com, and one role per example whose trust policy admits
# exactly the jobs the local policy admits. keyless's local policy is a second
# check in the job; this trust policy is the one AWS enforces.
#
#   terraform init && terraform apply
#
# The role ARNs this creates are the ones in examples/github, examples/gitlab
# and policies/: arn:aws:iam::111122223333:role/<name>.

terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.81"
    }
  }
}

provider "aws" {
  region = var.region
}

variable "region" {
  type    = string
  default = "eu-west-1"
}

variable "site_bucket" {
  description = "Bucket the deploy examples sync to."
  type        = string
  default     = "acme-site-prod"
}

locals {
  github = "token.actions.githubusercontent.com"
  gitlab = "gitlab.com"
}

variable "roles" {
  description = <<-EOT
    One role per example. Subjects are matched with StringEquals, exactly: no
    wildcard in a subject, so no other repository, branch or environment can
    match by accident. The one pattern, in "like", is the release tag of the
    central deploy workflow.
  EOT
  type = map(object({
    provider   = string # github or gitlab
    conditions = map(list(string))
    like       = optional(map(list(string)), {})
  }))
  default = {
    # examples/github/aws.yml and exec.yml (policies/github-deploy.yaml,
    # rule deploy-production).
    "api-deploy-production" = {
      provider = "github"
      conditions = {
        "sub" = ["repo:acme/api:environment:production"]
        "ref" = ["refs/heads/main"]
      }
    }
    # examples/github/all-clouds.yml.
    "platform-apply" = {
      provider = "github"
      conditions = {
        "sub" = ["repo:acme/platform:environment:production"]
        "ref" = ["refs/heads/main"]
      }
    }
    # examples/github/reusable-deploy.yml (policies/multi-cloud.yaml, rule
    # release-all-clouds): only the central workflow of acme/pipelines at a
    # release tag, called from acme/api or acme/web.
    "release" = {
      provider = "github"
      conditions = {
        "sub" = ["repo:acme/api:environment:production", "repo:acme/web:environment:production"]
      }
      like = {
        "job_workflow_ref" = ["acme/pipelines/.github/workflows/deploy.yml@refs/tags/v*"]
      }
    }
    # examples/gitlab/aws: the protected main branch of acme/api on gitlab.com.
    "api-deploy-gitlab" = {
      provider = "gitlab"
      conditions = {
        "sub" = ["project_path:acme/api:ref_type:branch:ref:main"]
      }
    }
  }

  validation {
    condition     = alltrue([for r in values(var.roles) : contains(["github", "gitlab"], r.provider) && contains(keys(r.conditions), "sub")])
    error_message = "Each role needs provider github or gitlab and a sub condition."
  }
}

# AWS no longer checks thumbprints for these issuers, so none is pinned here
# (thumbprint_list is optional in recent aws providers).
resource "aws_iam_openid_connect_provider" "github" {
  url            = "https://${local.github}"
  client_id_list = ["sts.amazonaws.com"]
}

resource "aws_iam_openid_connect_provider" "gitlab" {
  url            = "https://${local.gitlab}"
  client_id_list = ["sts.amazonaws.com"]
}

data "aws_iam_policy_document" "trust" {
  for_each = var.roles

  statement {
    sid     = "KeylessJobs"
    effect  = "Allow"
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type = "Federated"
      identifiers = [
        each.value.provider == "github" ? aws_iam_openid_connect_provider.github.arn : aws_iam_openid_connect_provider.gitlab.arn
      ]
    }

    # keyless asks for tokens with this audience (aws-audience).
    condition {
      test     = "StringEquals"
      variable = "${each.value.provider == "github" ? local.github : local.gitlab}:aud"
      values   = ["sts.amazonaws.com"]
    }

    dynamic "condition" {
      for_each = each.value.conditions
      content {
        test     = "StringEquals"
        variable = "${each.value.provider == "github" ? local.github : local.gitlab}:${condition.key}"
        values   = condition.value
      }
    }

    dynamic "condition" {
      for_each = each.value.like
      content {
        test     = "StringLike"
        variable = "${each.value.provider == "github" ? local.github : local.gitlab}:${condition.key}"
        values   = condition.value
      }
    }
  }
}

resource "aws_iam_role" "keyless" {
  for_each = var.roles

  name                 = each.key
  assume_role_policy   = data.aws_iam_policy_document.trust[each.key].json
  max_session_duration = 3600 # the policies' max-duration: 1h
}

# What the deploy examples do: sync a static site into one bucket. Give each
# role only what its job does.
data "aws_iam_policy_document" "site_deploy" {
  statement {
    actions   = ["s3:ListBucket"]
    resources = ["arn:aws:s3:::${var.site_bucket}"]
  }
  statement {
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = ["arn:aws:s3:::${var.site_bucket}/*"]
  }
}

resource "aws_iam_role_policy" "site_deploy" {
  for_each = toset(["api-deploy-production", "api-deploy-gitlab"])

  name   = "site-deploy"
  role   = aws_iam_role.keyless[each.key].name
  policy = data.aws_iam_policy_document.site_deploy.json
}

output "role_arns" {
  description = "The aws-role of each example."
  value       = { for name, role in aws_iam_role.keyless : name => role.arn }
}
