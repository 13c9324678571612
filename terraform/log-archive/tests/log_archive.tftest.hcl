# terraform test with a mocked AWS provider: the log-archive account's trail bucket and key.

mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "444455556666"
    }
  }
  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }
  mock_resource "aws_kms_key" {
    defaults = {
      arn = "arn:aws:kms:eu-west-1:444455556666:key/00000000-0000-0000-0000-000000000000"
    }
  }
  mock_resource "aws_s3_bucket" {
    defaults = {
      arn = "arn:aws:s3:::forecourt-org-trail-444455556666"
    }
  }
}

variables {
  log_archive_account_id = "444455556666"
  organization_id        = "o-abcde12345"
  org_trail_arn          = "arn:aws:cloudtrail:eu-west-1:111122223333:trail/forecourt-org-trail"
}

run "trail_bucket_and_key" {
  command = apply

  assert {
    condition     = aws_s3_bucket.trail.bucket == "forecourt-org-trail-444455556666" && output.trail_bucket_name == aws_s3_bucket.trail.bucket
    error_message = "The bucket is <name_prefix>-org-trail-<log-archive account>."
  }

  assert {
    condition     = aws_s3_bucket_versioning.trail.versioning_configuration[0].status == "Enabled"
    error_message = "The trail bucket is versioned."
  }

  assert {
    condition     = aws_s3_bucket.trail.object_lock_enabled && aws_s3_bucket_object_lock_configuration.trail[0].rule[0].default_retention[0].mode == "GOVERNANCE" && aws_s3_bucket_object_lock_configuration.trail[0].rule[0].default_retention[0].days == 365
    error_message = "Object Lock with a default retention is on by default."
  }

  assert {
    condition = alltrue([for r in aws_s3_bucket_server_side_encryption_configuration.trail.rule : alltrue([
      for d in r.apply_server_side_encryption_by_default : d.sse_algorithm == "aws:kms" && d.kms_master_key_id == aws_kms_key.trail.arn
    ])]) && aws_kms_key.trail.enable_key_rotation
    error_message = "SSE-KMS with the trail's own rotating key."
  }

  assert {
    condition     = aws_s3_bucket_public_access_block.trail.block_public_acls && aws_s3_bucket_public_access_block.trail.block_public_policy && aws_s3_bucket_public_access_block.trail.ignore_public_acls && aws_s3_bucket_public_access_block.trail.restrict_public_buckets
    error_message = "All four public access blocks."
  }

  assert {
    condition = alltrue([for s in data.aws_iam_policy_document.trail_bucket.statement :
      s.effect == "Deny" || (
        flatten([for p in s.principals : p.identifiers]) == ["cloudtrail.amazonaws.com"] &&
        anytrue([for c in s.condition : c.variable == "aws:SourceArn" && contains(c.values, "arn:aws:cloudtrail:eu-west-1:111122223333:trail/forecourt-org-trail")])
      )
    ])
    error_message = "Only the organization trail (aws:SourceArn) is allowed into the bucket."
  }

  assert {
    condition     = toset(flatten([for s in data.aws_iam_policy_document.trail_bucket.statement : s.resources if s.sid == "CloudTrailWritesLogs"])) == toset(["arn:aws:s3:::forecourt-org-trail-444455556666/AWSLogs/111122223333/*", "arn:aws:s3:::forecourt-org-trail-444455556666/AWSLogs/o-abcde12345/*"])
    error_message = "CloudTrail writes only under AWSLogs/<management account>/ and AWSLogs/<org id>/."
  }

  assert {
    condition     = anytrue([for s in data.aws_iam_policy_document.trail_bucket.statement : s.effect == "Deny" && anytrue([for c in s.condition : c.variable == "aws:SecureTransport"])])
    error_message = "TLS only."
  }

  assert {
    condition     = anytrue([for s in data.aws_iam_policy_document.trail_bucket.statement : s.sid == "DenyLogDeletion" && s.effect == "Deny" && contains(s.actions, "s3:DeleteObject")])
    error_message = "Deleting log files is denied."
  }

  assert {
    condition = alltrue([for s in data.aws_iam_policy_document.trail_key.statement :
      anytrue([for c in s.condition : c.variable == "aws:SourceArn" && contains(c.values, "arn:aws:cloudtrail:eu-west-1:111122223333:trail/forecourt-org-trail")])
      if contains(flatten([for p in s.principals : p.identifiers]), "cloudtrail.amazonaws.com")
    ])
    error_message = "CloudTrail may use the key only for the organization trail."
  }

  assert {
    condition     = aws_s3_bucket_logging.trail.target_bucket == aws_s3_bucket.access_logs.id && !aws_s3_bucket.trail.force_destroy
    error_message = "Server access logs go to the access-log bucket; no force_destroy by default."
  }
}

run "rejects_a_bad_trail_arn" {
  command = plan

  variables {
    org_trail_arn = "forecourt-org-trail"
  }

  expect_failures = [var.org_trail_arn]
}
