# terraform test with a mocked AWS provider: the organization's guardrails, no AWS needed.

mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "111122223333"
    }
  }
  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }
  # a mocked policy document's json is a random string: give it a valid (empty) document;
  # the statements themselves are asserted on the data sources' inputs
  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }
  mock_resource "aws_organizations_organization" {
    defaults = {
      id = "o-abcde12345"
      roots = [{
        id           = "r-ab12"
        arn          = "arn:aws:organizations::111122223333:root/o-abcde12345/r-ab12"
        name         = "Root"
        policy_types = []
      }]
    }
  }
  mock_resource "aws_organizations_organizational_unit" {
    defaults = {
      id = "ou-ab12-workload"
    }
  }
  mock_resource "aws_kms_key" {
    defaults = {
      arn = "arn:aws:kms:eu-west-1:111122223333:key/00000000-0000-0000-0000-000000000000"
    }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/cloudtrail/forecourt-org-trail"
    }
  }
  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::111122223333:role/forecourt-org-trail-logs"
    }
  }
  mock_resource "aws_organizations_account" {
    defaults = {
      id = "444455556666"
    }
  }
}

variables {
  accounts = {
    dev     = "aws+forecourt-dev@example.com"
    preprod = "aws+forecourt-preprod@example.com"
    prod    = "aws+forecourt-prod@example.com"
  }
  allowed_regions           = ["eu-west-1", "eu-central-1"]
  log_archive_account_email = "aws+forecourt-log-archive@example.com"
}

run "organization" {
  command = apply

  # the first apply: no trail until terraform/log-archive exists (the check says so)
  expect_failures = [check.organization_trail]

  # ---- the organization, the OU and the accounts
  assert {
    condition     = aws_organizations_organization.this.feature_set == "ALL" && contains(aws_organizations_organization.this.aws_service_access_principals, "cloudtrail.amazonaws.com") && contains(aws_organizations_organization.this.enabled_policy_types, "SERVICE_CONTROL_POLICY")
    error_message = "All features, CloudTrail integration and SCPs must be enabled."
  }

  assert {
    condition     = length(aws_organizations_account.member) == 3 && alltrue([for a in aws_organizations_account.member : a.parent_id == aws_organizations_organizational_unit.workloads.id])
    error_message = "The three member accounts must sit in the workloads OU."
  }

  assert {
    condition     = aws_organizations_organizational_unit.workloads.name == "workloads" && aws_organizations_organizational_unit.workloads.parent_id == "r-ab12"
    error_message = "The workloads OU hangs off the organization root."
  }

  assert {
    condition     = alltrue([for a in aws_organizations_account.member : a.role_name == "OrganizationAccountAccessRole" && a.close_on_deletion == false])
    error_message = "Accounts get OrganizationAccountAccessRole and are never closed by Terraform."
  }

  assert {
    condition     = aws_organizations_account.member["prod"].email == "aws+forecourt-prod@example.com" && aws_organizations_account.member["prod"].name == "forecourt-prod"
    error_message = "Each account takes its email from var.accounts and is named <name_prefix>-<key>."
  }

  # ---- the SCPs: four denies, attached to the OU
  assert {
    condition = alltrue([for sid in ["DenyLeavingTheOrganization", "DenyCloudTrailTampering", "DenyTrailLogBucketTampering", "DenyRootUser"] :
      contains([for s in jsondecode(aws_organizations_policy.scp["guardrails"].content).Statement : s.Sid if s.Effect == "Deny"], sid)
    ])
    error_message = "The guardrail SCP must deny leaving the organization, CloudTrail tampering, log bucket tampering and the root user."
  }

  assert {
    condition     = contains([for s in jsondecode(aws_organizations_policy.scp["guardrails"].content).Statement : s.Action if s.Sid == "DenyLeavingTheOrganization"][0], "organizations:LeaveOrganization")
    error_message = "organizations:LeaveOrganization must be denied."
  }

  assert {
    condition     = length(setintersection(toset([for s in jsondecode(aws_organizations_policy.scp["guardrails"].content).Statement : s.Action if s.Sid == "DenyCloudTrailTampering"][0]), toset(["cloudtrail:StopLogging", "cloudtrail:DeleteTrail", "cloudtrail:UpdateTrail"]))) == 3
    error_message = "Stopping, deleting and updating trails must be denied."
  }

  assert {
    condition     = contains([for s in jsondecode(aws_organizations_policy.scp["guardrails"].content).Statement : s.Resource if s.Sid == "DenyTrailLogBucketTampering"][0], "arn:aws:s3:::forecourt-org-trail-444455556666/*")
    error_message = "Deleting the trail's log objects must be denied."
  }

  assert {
    condition     = [for s in jsondecode(aws_organizations_policy.scp["guardrails"].content).Statement : s.Condition.StringLike["aws:PrincipalArn"] if s.Sid == "DenyRootUser"][0] == ["arn:aws:iam::*:root"]
    error_message = "The root user of member accounts must be denied."
  }

  assert {
    condition = alltrue([for s in jsondecode(aws_organizations_policy.scp["region-allowlist"].content).Statement :
      s.Effect == "Deny" && s.Condition.StringNotEquals["aws:RequestedRegion"] == ["eu-west-1", "eu-central-1"] && contains(s.NotAction, "iam:*") && contains(s.NotAction, "sts:*") && contains(s.NotAction, "organizations:*")
    ])
    error_message = "The region SCP must deny outside allowed_regions with global services (iam, sts, organizations) exempt via NotAction."
  }

  assert {
    condition     = alltrue([for p in aws_organizations_policy.scp : length(p.content) <= 5120 && p.type == "SERVICE_CONTROL_POLICY"])
    error_message = "SCPs must fit the 5,120-character limit."
  }

  assert {
    condition     = length(aws_organizations_policy_attachment.workloads) == 2 && alltrue([for a in aws_organizations_policy_attachment.workloads : a.target_id == aws_organizations_organizational_unit.workloads.id])
    error_message = "Both SCPs must be attached to the workloads OU."
  }

  # ---- the log-archive account and its protection
  assert {
    condition     = aws_organizations_account.log_archive.parent_id == aws_organizations_organizational_unit.security.id && aws_organizations_account.log_archive.name == "forecourt-log-archive" && !aws_organizations_account.log_archive.close_on_deletion
    error_message = "The log-archive account sits in the security OU and is never closed by Terraform."
  }

  assert {
    condition     = length(aws_organizations_policy_attachment.security) == 2 && alltrue([for a in aws_organizations_policy_attachment.security : a.target_id == aws_organizations_organizational_unit.security.id])
    error_message = "Both SCPs protect the security OU too."
  }

  assert {
    condition     = [for s in jsondecode(aws_organizations_policy.scp["guardrails"].content).Statement : s.Condition.ArnNotLike["aws:PrincipalArn"] if s.Sid == "DenyTrailLogBucketTampering"][0] == ["arn:aws:iam::444455556666:role/OrganizationAccountAccessRole"]
    error_message = "Only the log-archive account's access role may touch the trail bucket."
  }

  assert {
    condition     = contains([for s in jsondecode(aws_organizations_policy.scp["guardrails"].content).Statement : s.Resource if s.Sid == "DenyTrailLogBucketTampering"][0], "arn:aws:s3:::forecourt-org-trail-444455556666/*")
    error_message = "The SCP protects the log-archive bucket's objects."
  }

  assert {
    condition     = contains([for s in jsondecode(aws_organizations_policy.scp["guardrails"].content).Statement : s.Sid], "DenyTrailKeyTampering") && contains([for s in jsondecode(aws_organizations_policy.scp["guardrails"].content).Statement : s.Sid], "DenyAccessRoleTampering")
    error_message = "The SCP protects the trail key and OrganizationAccountAccessRole."
  }

  # ---- no trail before terraform/log-archive made its bucket
  assert {
    condition     = length(aws_cloudtrail.org) == 0 && output.trail_arn == null
    error_message = "The trail waits for trail_bucket_name."
  }

  assert {
    condition     = output.log_archive.org_trail_arn == "arn:aws:cloudtrail:eu-west-1:111122223333:trail/forecourt-org-trail" && output.log_archive.log_archive_account_id == "444455556666" && output.log_archive.organization_id == "o-abcde12345"
    error_message = "Output log_archive gives terraform/log-archive what it needs."
  }

  assert {
    condition     = length(output.account_ids) == 3 && output.workloads_ou_id == aws_organizations_organizational_unit.workloads.id && output.log_bucket_name == "forecourt-org-trail-444455556666"
    error_message = "Outputs: account ids, OU id, log bucket name."
  }
}

run "trail_into_the_log_archive_bucket" {
  command = apply

  variables {
    trail_bucket_name = "forecourt-org-trail-444455556666"
    trail_kms_key_arn = "arn:aws:kms:eu-west-1:444455556666:key/11111111-2222-3333-4444-555555555555"
  }

  assert {
    condition     = aws_cloudtrail.org[0].is_organization_trail && aws_cloudtrail.org[0].is_multi_region_trail && aws_cloudtrail.org[0].include_global_service_events && aws_cloudtrail.org[0].enable_log_file_validation
    error_message = "An organization, multi-region trail with global service events and log file validation."
  }

  assert {
    condition     = aws_cloudtrail.org[0].s3_bucket_name == "forecourt-org-trail-444455556666" && aws_cloudtrail.org[0].kms_key_id == var.trail_kms_key_arn
    error_message = "The trail writes to the log-archive bucket with the log-archive key."
  }

  assert {
    condition     = [for s in jsondecode(aws_organizations_policy.scp["guardrails"].content).Statement : s.Resource if s.Sid == "DenyTrailKeyTampering"][0] == [var.trail_kms_key_arn]
    error_message = "The SCP protects exactly the trail key once it is known."
  }

  assert {
    condition     = aws_cloudtrail.org[0].cloud_watch_logs_group_arn == null && length(aws_cloudwatch_log_group.trail) == 0 && length(aws_kms_key.trail_logs) == 0
    error_message = "CloudWatch Logs delivery is off by default."
  }
}

run "rejects_trail_key_of_another_account" {
  command = plan

  variables {
    trail_bucket_name = "forecourt-org-trail-444455556666"
    trail_kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:key/11111111-2222-3333-4444-555555555555"
  }

  expect_failures = [aws_cloudtrail.org]
}

run "rejects_bucket_without_key" {
  command = plan

  variables {
    trail_bucket_name = "forecourt-org-trail-444455556666"
  }

  expect_failures = [var.trail_kms_key_arn]
}

run "cloudwatch_logs" {
  command = apply

  variables {
    enable_cloudwatch_logs = true
    trail_bucket_name      = "forecourt-org-trail-444455556666"
    trail_kms_key_arn      = "arn:aws:kms:eu-west-1:444455556666:key/11111111-2222-3333-4444-555555555555"
  }

  assert {
    condition     = aws_cloudwatch_log_group.trail[0].kms_key_id == aws_kms_key.trail_logs[0].arn && aws_cloudwatch_log_group.trail[0].retention_in_days >= 365
    error_message = "The trail's log group is KMS-encrypted and kept at least a year."
  }

  assert {
    condition     = aws_cloudtrail.org[0].cloud_watch_logs_role_arn == aws_iam_role.trail_logs[0].arn
    error_message = "The trail delivers to CloudWatch Logs through its role."
  }
}

run "rejects_empty_region_list" {
  command = plan

  variables {
    trail_bucket_name = "forecourt-org-trail-444455556666"
    trail_kms_key_arn = "arn:aws:kms:eu-west-1:444455556666:key/11111111-2222-3333-4444-555555555555"
    allowed_regions   = []
  }

  expect_failures = [var.allowed_regions]
}

run "rejects_home_region_outside_allow_list" {
  command = plan

  variables {
    trail_bucket_name = "forecourt-org-trail-444455556666"
    trail_kms_key_arn = "arn:aws:kms:eu-west-1:444455556666:key/11111111-2222-3333-4444-555555555555"
    allowed_regions   = ["eu-central-1"]
  }

  expect_failures = [aws_organizations_policy.scp]
}

run "rejects_shared_email" {
  command = plan

  variables {
    trail_bucket_name = "forecourt-org-trail-444455556666"
    trail_kms_key_arn = "arn:aws:kms:eu-west-1:444455556666:key/11111111-2222-3333-4444-555555555555"
    accounts = {
      dev  = "aws@example.com"
      prod = "AWS@example.com"
    }
  }

  expect_failures = [var.accounts]
}
