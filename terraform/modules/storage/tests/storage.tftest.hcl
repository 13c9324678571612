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
  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }
}

variables {
  name_prefix = "forecourt-dev"
  tags        = { Project = "forecourt", Environment = "dev" }
  kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:key/11111111-2222-3333-4444-555555555555"
}

run "hardened_buckets" {
  command = apply

  assert {
    condition     = toset(keys(output.bucket_names)) == toset(["data", "artifacts", "dags"])
    error_message = "Exactly the data, artifacts and dags buckets."
  }
  assert {
    condition     = alltrue([for p, n in output.bucket_names : n == "forecourt-dev-111122223333-${p}"])
    error_message = "Bucket names must be <name_prefix>-<account id>-<purpose>."
  }
  assert {
    condition = alltrue([
      for k, c in aws_s3_bucket_server_side_encryption_configuration.this :
      one(c.rule).apply_server_side_encryption_by_default[0].sse_algorithm == "aws:kms" &&
      one(c.rule).apply_server_side_encryption_by_default[0].kms_master_key_id == var.kms_key_arn &&
      one(c.rule).bucket_key_enabled == true
    ]) && length(aws_s3_bucket_server_side_encryption_configuration.this) == 3
    error_message = "Every bucket must default to SSE-KMS with the given key and a bucket key."
  }
  assert {
    condition = alltrue([
      for k, v in aws_s3_bucket_versioning.this : v.versioning_configuration[0].status == "Enabled"
    ]) && length(aws_s3_bucket_versioning.this) == 3
    error_message = "Every bucket must have versioning Enabled."
  }
  assert {
    condition = alltrue([
      for k, b in aws_s3_bucket_public_access_block.this :
      b.block_public_acls && b.block_public_policy && b.ignore_public_acls && b.restrict_public_buckets
    ]) && length(aws_s3_bucket_public_access_block.this) == 3
    error_message = "Every bucket must set all four public access block flags."
  }
  assert {
    condition = alltrue([
      for k, o in aws_s3_bucket_ownership_controls.this : o.rule[0].object_ownership == "BucketOwnerEnforced"
    ]) && length(aws_s3_bucket_ownership_controls.this) == 3
    error_message = "Every bucket must enforce bucket-owner ownership (ACLs off)."
  }
  assert {
    condition = alltrue([
      for p, stmts in output.bucket_policy_statements : anytrue([
        for s in stmts :
        s.sid == "DenyInsecureTransport" && contains(s.actions, "s3:*") &&
        contains(s.resources, "arn:aws:s3:::${output.bucket_names[p]}") &&
        contains(s.resources, "arn:aws:s3:::${output.bucket_names[p]}/*") &&
        anytrue([for c in s.conditions : c.test == "Bool" && c.variable == "aws:SecureTransport" && c.values == ["false"]])
      ])
    ])
    error_message = "Every bucket policy must deny requests without TLS (aws:SecureTransport false) on the bucket and its objects."
  }
  assert {
    condition = alltrue([
      for p, stmts in output.bucket_policy_statements : anytrue([
        for s in stmts :
        s.sid == "DenyNonKmsEncryptionHeader" && s.actions == ["s3:PutObject"] &&
        anytrue([for c in s.conditions : c.test == "StringNotEquals" && c.values == ["aws:kms"]])
      ])
    ])
    error_message = "Every bucket policy must deny puts asking for another encryption than SSE-KMS."
  }
  assert {
    condition     = length(aws_s3_bucket_policy.this) == 3
    error_message = "Every bucket must have a policy."
  }
  assert {
    condition = alltrue([
      for k, l in aws_s3_bucket_lifecycle_configuration.this :
      l.rule[0].status == "Enabled" &&
      l.rule[0].noncurrent_version_expiration[0].noncurrent_days == 90 &&
      l.rule[0].abort_incomplete_multipart_upload[0].days_after_initiation == 7
    ]) && length(aws_s3_bucket_lifecycle_configuration.this) == 3
    error_message = "Every bucket must expire noncurrent versions and abort incomplete multipart uploads."
  }
  assert {
    condition     = length(aws_s3_bucket_logging.this) == 0
    error_message = "No access logging resources without log_bucket."
  }
  assert {
    condition     = alltrue([for k, b in aws_s3_bucket.this : b.force_destroy == false && b.tags["Environment"] == "dev"])
    error_message = "Buckets are protected from destroy and tagged."
  }
}

run "access_logging_when_log_bucket_given" {
  command = apply

  variables {
    log_bucket = "forecourt-dev-111122223333-access-logs"
  }

  assert {
    condition = length(aws_s3_bucket_logging.this) == 3 && alltrue([
      for k, l in aws_s3_bucket_logging.this :
      l.target_bucket == "forecourt-dev-111122223333-access-logs" && l.target_prefix == "forecourt-dev/${k}/"
    ])
    error_message = "Every bucket logs to log_bucket under <name_prefix>/<purpose>/."
  }
}

run "rejects_zero_day_expiry" {
  command = plan

  variables {
    noncurrent_version_expiration_days = 0
  }

  expect_failures = [var.noncurrent_version_expiration_days]
}

run "rejects_alias_as_key" {
  command = plan

  variables {
    kms_key_arn = "alias/forecourt-dev"
  }

  expect_failures = [var.kms_key_arn]
}

run "rejects_logging_without_log_bucket" {
  command = plan

  variables {
    enable_access_logging = true
  }

  expect_failures = [var.enable_access_logging]
}

run "logging_can_be_switched_off_explicitly" {
  command = plan

  variables {
    log_bucket            = "forecourt-dev-111122223333-access-logs"
    enable_access_logging = false
  }

  assert {
    condition     = length(aws_s3_bucket_logging.this) == 0
    error_message = "enable_access_logging = false wins over log_bucket."
  }
}

run "promotion_readers_get_the_outbox_only" {
  command = apply

  variables {
    promotion_reader_account_ids = ["222222222222"]
  }

  assert {
    condition     = output.promotion_outbox_uri == "s3://forecourt-dev-111122223333-artifacts/promotions"
    error_message = "The outbox is s3://<artifacts bucket>/promotions."
  }

  assert {
    condition = alltrue([
      for s in output.promotion_policy_statements :
      try(one(s.principals), null) == "arn:aws:iam::222222222222:root" &&
      anytrue([for c in s.conditions : c.variable == "aws:PrincipalAccount" && try(one(c.values), null) == "222222222222"]) &&
      length(setsubtract(toset(s.actions), toset(["s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket"]))) == 0
    ]) && length(output.promotion_policy_statements) == 2
    error_message = "Readers get only read actions, conditioned on aws:PrincipalAccount."
  }

  assert {
    condition = alltrue(flatten([
      for s in output.promotion_policy_statements : [
        for r in s.resources : r == "arn:aws:s3:::forecourt-dev-111122223333-artifacts/promotions/*" || (
          r == "arn:aws:s3:::forecourt-dev-111122223333-artifacts" &&
          anytrue([for c in s.conditions : c.variable == "s3:prefix" && alltrue([for v in c.values : startswith(v, "promotions")])])
        )
      ]
    ]))
    error_message = "Objects only under promotions/, listing only that prefix."
  }

  assert {
    condition     = length([for s in data.aws_iam_policy_document.bucket["artifacts"].statement : s if s.effect == "Allow"]) == 2 && length([for s in data.aws_iam_policy_document.bucket["data"].statement : s if s.effect == "Allow"]) == 0 && length([for s in data.aws_iam_policy_document.bucket["dags"].statement : s if s.effect == "Allow"]) == 0
    error_message = "Only the artifacts bucket grants the readers anything."
  }
}

run "no_promotion_readers_by_default" {
  command = plan

  assert {
    condition     = length(output.promotion_policy_statements) == 0 && alltrue(flatten([for p, d in data.aws_iam_policy_document.bucket : [for s in d.statement : s.effect == "Deny"]]))
    error_message = "Without readers every bucket policy statement is a Deny."
  }
}

run "rejects_bad_reader_account" {
  command = plan

  variables {
    promotion_reader_account_ids = ["12345"]
  }

  expect_failures = [var.promotion_reader_account_ids]
}
