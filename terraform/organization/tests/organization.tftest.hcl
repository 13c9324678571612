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
  mock_resource "aws_s3_bucket" {
    defaults = {
      arn = "arn:aws:s3:::forecourt-org-trail-111122223333"
    }
  }
}

variables {
  accounts = {
    dev     = "aws+forecourt-dev@example.com"
    preprod = "aws+forecourt-preprod@example.com"
    prod    = "aws+forecourt-prod@example.com"
  }
  allowed_regions = ["eu-west-1", "eu-central-1"]
}

run "organization" {
  command = apply

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
    condition     = contains([for s in jsondecode(aws_organizations_policy.scp["guardrails"].content).Statement : s.Resource if s.Sid == "DenyTrailLogBucketTampering"][0], "arn:aws:s3:::forecourt-org-trail-111122223333/*")
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

  # ---- the trail
  assert {
    condition     = aws_cloudtrail.org.is_organization_trail && aws_cloudtrail.org.is_multi_region_trail && aws_cloudtrail.org.include_global_service_events
    error_message = "The trail must be an organization, multi-region trail with global service events."
  }

  assert {
    condition     = aws_cloudtrail.org.enable_log_file_validation
    error_message = "Log file validation must be on."
  }

  assert {
    condition     = aws_cloudtrail.org.kms_key_id == aws_kms_key.trail.arn && aws_kms_key.trail.enable_key_rotation
    error_message = "The trail must be encrypted with its own rotating KMS key."
  }

  assert {
    condition     = aws_cloudtrail.org.cloud_watch_logs_group_arn == null && length(aws_cloudwatch_log_group.trail) == 0
    error_message = "CloudWatch Logs delivery is off by default."
  }

  assert {
    condition = alltrue([for s in data.aws_iam_policy_document.trail_key.statement :
      anytrue([for c in s.condition : c.variable == "aws:SourceArn" && contains(c.values, "arn:aws:cloudtrail:eu-west-1:111122223333:trail/forecourt-org-trail")])
      if contains(flatten([for p in s.principals : p.identifiers]), "cloudtrail.amazonaws.com")
    ])
    error_message = "CloudTrail may use the key only for this trail (aws:SourceArn)."
  }

  # ---- the log bucket
  assert {
    condition     = aws_s3_bucket_public_access_block.trail.block_public_acls && aws_s3_bucket_public_access_block.trail.block_public_policy && aws_s3_bucket_public_access_block.trail.ignore_public_acls && aws_s3_bucket_public_access_block.trail.restrict_public_buckets
    error_message = "All four public access blocks must be on for the log bucket."
  }

  assert {
    condition     = aws_s3_bucket_versioning.trail.versioning_configuration[0].status == "Enabled"
    error_message = "The log bucket must be versioned."
  }

  assert {
    condition = alltrue([for r in aws_s3_bucket_server_side_encryption_configuration.trail.rule : alltrue([
      for d in r.apply_server_side_encryption_by_default : d.sse_algorithm == "aws:kms" && d.kms_master_key_id == aws_kms_key.trail.arn
    ])])
    error_message = "The log bucket defaults to SSE-KMS with the trail key."
  }

  assert {
    condition = alltrue([for s in data.aws_iam_policy_document.trail_bucket.statement :
      s.effect == "Deny" || (
        flatten([for p in s.principals : p.identifiers]) == ["cloudtrail.amazonaws.com"] &&
        anytrue([for c in s.condition : c.variable == "aws:SourceArn"])
      )
    ])
    error_message = "Only CloudTrail, for this trail (aws:SourceArn), is allowed into the log bucket."
  }

  assert {
    condition     = anytrue([for s in data.aws_iam_policy_document.trail_bucket.statement : s.effect == "Deny" && anytrue([for c in s.condition : c.variable == "aws:SecureTransport"])])
    error_message = "The log bucket must deny requests without TLS."
  }

  assert {
    condition     = toset(flatten([for s in data.aws_iam_policy_document.trail_bucket.statement : s.resources if s.sid == "CloudTrailWritesLogs"])) == toset(["arn:aws:s3:::forecourt-org-trail-111122223333/AWSLogs/111122223333/*", "arn:aws:s3:::forecourt-org-trail-111122223333/AWSLogs/o-abcde12345/*"])
    error_message = "CloudTrail writes only under AWSLogs/<management account>/ and AWSLogs/<org id>/."
  }

  assert {
    condition     = one(aws_s3_bucket_lifecycle_configuration.trail.rule[0].transition).storage_class == "GLACIER"
    error_message = "Log files move to Glacier."
  }

  assert {
    condition     = !aws_s3_bucket.trail.force_destroy && !aws_s3_bucket.access_logs.force_destroy
    error_message = "Log buckets are never emptied by terraform destroy by default."
  }

  assert {
    condition     = aws_s3_bucket_logging.trail.target_bucket == aws_s3_bucket.access_logs.id
    error_message = "The trail bucket's server access logs go to the access-log bucket."
  }

  assert {
    condition     = length(aws_s3_bucket_object_lock_configuration.trail) == 0
    error_message = "Object Lock is opt-in."
  }

  assert {
    condition     = length(output.account_ids) == 3 && output.workloads_ou_id == aws_organizations_organizational_unit.workloads.id && output.log_bucket_name == "forecourt-org-trail-111122223333"
    error_message = "Outputs: account ids, OU id, log bucket name."
  }
}

run "cloudwatch_and_object_lock" {
  command = apply

  variables {
    enable_cloudwatch_logs = true
    log_bucket_object_lock = true
    object_lock_mode       = "COMPLIANCE"
  }

  assert {
    condition     = aws_cloudwatch_log_group.trail[0].kms_key_id == aws_kms_key.trail.arn && aws_cloudwatch_log_group.trail[0].retention_in_days >= 365
    error_message = "The trail's log group is KMS-encrypted and kept at least a year."
  }

  assert {
    condition     = aws_cloudtrail.org.cloud_watch_logs_role_arn == aws_iam_role.trail_logs[0].arn
    error_message = "The trail delivers to CloudWatch Logs through its role."
  }

  assert {
    condition     = aws_s3_bucket.trail.object_lock_enabled && aws_s3_bucket_object_lock_configuration.trail[0].rule[0].default_retention[0].mode == "COMPLIANCE"
    error_message = "Object Lock with the requested default retention."
  }
}

run "rejects_empty_region_list" {
  command = plan

  variables {
    allowed_regions = []
  }

  expect_failures = [var.allowed_regions]
}

run "rejects_home_region_outside_allow_list" {
  command = plan

  variables {
    allowed_regions = ["eu-central-1"]
  }

  expect_failures = [aws_organizations_policy.scp]
}

run "rejects_shared_email" {
  command = plan

  variables {
    accounts = {
      dev  = "aws@example.com"
      prod = "AWS@example.com"
    }
  }

  expect_failures = [var.accounts]
}
