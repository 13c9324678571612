# The AWS Organization of Forecourt, run in the management account: the organization, a
# "workloads" OU holding one member account per environment, a "security" OU holding the
# log-archive account, the guardrail SCPs on both OUs (scp.tf), and the organization-wide
# CloudTrail trail into the log-archive account's bucket (trail.tf; the bucket and its key
# are terraform/log-archive's).

provider "aws" {
  region = var.region

  default_tags {
    tags = var.tags
  }
}

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  management_account_id = data.aws_caller_identity.current.account_id
  partition             = data.aws_partition.current.partition
  trail_arn             = "arn:${local.partition}:cloudtrail:${var.region}:${local.management_account_id}:trail/${var.org_trail_name}"
  log_archive_id        = aws_organizations_account.log_archive.id
  # what the OrganizationAccountAccessRole of the log-archive account is (terraform/log-archive
  # applies through it): the only principal the SCP lets touch the trail bucket and key
  log_archive_access_role_arn = "arn:${local.partition}:iam::${local.log_archive_id}:role/OrganizationAccountAccessRole"
  # terraform/log-archive names the bucket this way; var.trail_bucket_name once it exists
  log_bucket_name = coalesce(var.trail_bucket_name, "${var.name_prefix}-org-trail-${local.log_archive_id}")
}

resource "aws_organizations_organization" "this" {
  feature_set                   = "ALL"
  aws_service_access_principals = sort(distinct(concat(["cloudtrail.amazonaws.com"], var.service_access_principals)))
  enabled_policy_types          = ["SERVICE_CONTROL_POLICY"]
}

# The Security OU holds the log-archive account: the organization trail's bucket and key live
# there (terraform/log-archive), where the guardrail SCP protects them, which it cannot do in
# the management account.
resource "aws_organizations_organizational_unit" "security" {
  name      = "security"
  parent_id = aws_organizations_organization.this.roots[0].id
}

resource "aws_organizations_account" "log_archive" {
  name                       = "${var.name_prefix}-log-archive"
  email                      = var.log_archive_account_email
  parent_id                  = aws_organizations_organizational_unit.security.id
  role_name                  = "OrganizationAccountAccessRole"
  iam_user_access_to_billing = "DENY"
  close_on_deletion          = false
  tags                       = { environment = "log-archive" }

  lifecycle {
    ignore_changes = [role_name, iam_user_access_to_billing]
  }
}

resource "aws_organizations_organizational_unit" "workloads" {
  name      = "workloads"
  parent_id = aws_organizations_organization.this.roots[0].id
}

# Removing an account from var.accounts does NOT close it (close_on_deletion = false): the
# account leaves the organization, which AWS only allows once it can stand alone (payment
# method, support plan). prevent_destroy cannot depend on a variable, so the protection is
# this, the SCP that denies leaving the organization, and code review.
resource "aws_organizations_account" "member" {
  for_each = var.accounts

  name                       = "${var.name_prefix}-${each.key}"
  email                      = each.value
  parent_id                  = aws_organizations_organizational_unit.workloads.id
  role_name                  = "OrganizationAccountAccessRole"
  iam_user_access_to_billing = "DENY"
  close_on_deletion          = false
  tags                       = { environment = each.key }

  lifecycle {
    # both are read only when the account is created: an imported account would otherwise
    # show a diff that forces its replacement
    ignore_changes = [role_name, iam_user_access_to_billing]
  }
}
