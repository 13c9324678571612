# terraform test with a mocked AWS provider: the backend's hardening, no AWS needed.

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
  mock_resource "aws_kms_key" {
    defaults = {
      arn = "arn:aws:kms:eu-west-1:111122223333:key/00000000-0000-0000-0000-000000000000"
    }
  }
  mock_resource "aws_s3_bucket" {
    defaults = {
      arn = "arn:aws:s3:::forecourt-terraform-state-111122223333"
    }
  }
}

run "defaults" {
  command = apply

  assert {
    condition     = aws_s3_bucket.state.bucket == "forecourt-terraform-state-111122223333"
    error_message = "The default bucket name carries the account id (globally unique)."
  }

  assert {
    condition     = aws_s3_bucket_versioning.state.versioning_configuration[0].status == "Enabled"
    error_message = "State versions must be kept."
  }

  assert {
    condition = alltrue([for r in aws_s3_bucket_server_side_encryption_configuration.state.rule : alltrue([
      for d in r.apply_server_side_encryption_by_default : d.sse_algorithm == "aws:kms" && d.kms_master_key_id == aws_kms_key.state.arn
    ])])
    error_message = "The state bucket must default to SSE-KMS with this root's key."
  }

  assert {
    condition     = aws_s3_bucket_public_access_block.state.block_public_acls && aws_s3_bucket_public_access_block.state.block_public_policy && aws_s3_bucket_public_access_block.state.ignore_public_acls && aws_s3_bucket_public_access_block.state.restrict_public_buckets
    error_message = "All four public access blocks must be on."
  }

  assert {
    condition = anytrue([for s in data.aws_iam_policy_document.bucket.statement :
      s.effect == "Deny" && anytrue([for c in s.condition : c.variable == "aws:SecureTransport" && c.values == tolist(["false"])])
    ])
    error_message = "The bucket policy must deny requests without TLS."
  }

  assert {
    condition     = one([for r in aws_s3_bucket_lifecycle_configuration.state.rule : r.noncurrent_version_expiration[0].noncurrent_days]) == 90
    error_message = "Superseded state versions expire after noncurrent_version_expiration_days."
  }

  assert {
    condition     = aws_kms_key.state.enable_key_rotation
    error_message = "The state key must rotate."
  }

  assert {
    condition     = length(aws_iam_role.state_access) == 0 && output.state_access_role_arn == null
    error_message = "No state-access role without trusted principals."
  }

  assert {
    condition     = output.backend_config.bucket == aws_s3_bucket.state.bucket && output.backend_config.use_lockfile && !contains(keys(output.backend_config), "dynamodb_table") && output.backend_config.encrypt
    error_message = "backend_config must name the bucket and lock with S3 lock files (use_lockfile), not a DynamoDB table."
  }
}

run "state_access_role" {
  command = apply

  variables {
    state_access_principal_arns = ["arn:aws:iam::444455556666:role/forecourt-deploy"]
  }

  assert {
    condition     = length(aws_iam_role.state_access) == 1
    error_message = "A role for the trusted principals."
  }

  assert {
    condition = alltrue([for s in data.aws_iam_policy_document.state_access.statement :
      !contains(s.resources, "*") && alltrue([for a in s.actions : !endswith(a, "*")])
    ])
    error_message = "The state-access policy names its actions and resources (no wildcards)."
  }
}

run "rejects_short_retention" {
  command = plan

  variables {
    noncurrent_version_expiration_days = 1
  }

  expect_failures = [var.noncurrent_version_expiration_days]
}
