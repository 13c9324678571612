# The AWS Organization of Forecourt, run in the management account: the organization, a
# "workloads" OU holding one member account per environment, the guardrail SCPs on that OU
# (scp.tf), and an organization-wide CloudTrail trail into a locked-down bucket (trail.tf).

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
}

resource "aws_organizations_organization" "this" {
  feature_set                   = "ALL"
  aws_service_access_principals = sort(distinct(concat(["cloudtrail.amazonaws.com"], var.service_access_principals)))
  enabled_policy_types          = ["SERVICE_CONTROL_POLICY"]
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
