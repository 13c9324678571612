mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "111122223333"
      arn        = "arn:aws:iam::111122223333:user/test"
    }
  }
  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }
  mock_data "aws_region" {
    defaults = {
      name = "eu-west-1"
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
  service_principals = [
    "logs.eu-west-1.amazonaws.com",
    "cloudtrail.amazonaws.com",
    "sns.amazonaws.com",
    "s3.amazonaws.com",
    "airflow.amazonaws.com",
  ]
  admin_role_arns = ["arn:aws:iam::111122223333:role/forecourt-dev-admin"]
}

run "key_rotation_and_alias" {
  command = apply

  assert {
    condition     = aws_kms_key.this.enable_key_rotation == true
    error_message = "Key rotation must be enabled."
  }
  assert {
    condition     = aws_kms_key.this.rotation_period_in_days == 365
    error_message = "Default rotation period must be 365 days."
  }
  assert {
    condition     = aws_kms_key.this.deletion_window_in_days == 30
    error_message = "Default deletion window must be 30 days."
  }
  assert {
    condition     = aws_kms_key.this.customer_master_key_spec == "SYMMETRIC_DEFAULT" && aws_kms_key.this.multi_region == false
    error_message = "Key must be a single-region symmetric key."
  }
  assert {
    condition     = output.alias_name == "alias/forecourt-dev"
    error_message = "Alias must be alias/<name_prefix>."
  }
  assert {
    condition     = aws_kms_key.this.tags["Environment"] == "dev" && aws_kms_key.this.tags["Name"] == "forecourt-dev"
    error_message = "Tags must be merged onto the key."
  }
}

run "key_policy_statements" {
  command = plan

  # Only the account-root statement uses kms:*.
  assert {
    condition = alltrue([
      for s in output.policy_statements : s.sid == "AccountRootFullAccess" || !contains(s.actions, "kms:*")
    ])
    error_message = "Only the account-root statement may grant kms:*."
  }
  assert {
    condition     = one([for s in output.policy_statements : s.principals[0].identifiers if s.sid == "AccountRootFullAccess"]) == ["arn:aws:iam::111122223333:root"]
    error_message = "The root statement must name this account's root."
  }
  # Every service-principal statement carries a condition.
  assert {
    condition = alltrue([
      for s in output.policy_statements : length(s.conditions) > 0 if s.principals[0].type == "Service"
    ])
    error_message = "Every service principal statement must be conditioned."
  }
  assert {
    condition = one([
      for s in output.policy_statements : s.conditions[0].variable if s.sid == "CloudWatchLogsUse"
    ]) == "kms:EncryptionContext:aws:logs:arn"
    error_message = "CloudWatch Logs use must be scoped by the logs encryption context."
  }
  assert {
    condition = one([
      for s in output.policy_statements : s.conditions[0].values if s.sid == "CloudWatchLogsUse"
    ]) == ["arn:aws:logs:eu-west-1:111122223333:log-group:*"]
    error_message = "CloudWatch Logs encryption context must be this account's log groups."
  }
  assert {
    condition = toset(one([
      for s in output.policy_statements : [for c in s.conditions : c.variable] if s.sid == "CloudTrailEncryptLogs"
    ])) == toset(["aws:SourceAccount", "kms:EncryptionContext:aws:cloudtrail:arn"])
    error_message = "CloudTrail use must be scoped by source account and trail encryption context."
  }
  assert {
    condition = alltrue([
      for s in output.policy_statements : (s.conditions[0].variable == "aws:SourceAccount" && jsonencode(s.conditions[0].values) == jsonencode(["111122223333"]))
      if contains(["SnsS3Use", "ServiceUse"], s.sid)
    ])
    error_message = "SNS, S3 and other services must be scoped by aws:SourceAccount."
  }
  assert {
    condition = toset(one([
      for s in output.policy_statements : s.principals[0].identifiers if s.sid == "SnsS3Use"
    ])) == toset(["sns.amazonaws.com", "s3.amazonaws.com"])
    error_message = "SNS and S3 must share the publish statement."
  }
  assert {
    condition = !anytrue([
      for s in output.policy_statements : contains(s.actions, "kms:*") if s.sid == "KeyAdministration"
    ])
    error_message = "Key administrators must not get kms:* (no cryptographic use)."
  }
}

run "key_users_get_use_and_resource_grants_only" {
  command = plan

  variables {
    key_user_arns = ["arn:aws:iam::111122223333:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"]
  }

  assert {
    condition = one([
      for s in output.policy_statements : s.conditions[0].variable if s.sid == "KeyUseGrantsForAwsResources"
    ]) == "kms:GrantIsForAWSResource"
    error_message = "Key users may create grants only for AWS resources."
  }
  assert {
    condition = !anytrue([
      for s in output.policy_statements : contains(s.actions, "kms:*") || contains(s.actions, "kms:PutKeyPolicy") if startswith(s.sid, "KeyUse")
    ])
    error_message = "Key users get no administration."
  }
}

run "no_services_no_admins" {
  command = plan

  variables {
    service_principals = []
    admin_role_arns    = []
  }

  assert {
    condition     = length(output.policy_statements) == 1
    error_message = "With no services and no admins only the root statement remains."
  }
}

run "rejects_bad_name_prefix" {
  command = plan

  variables {
    name_prefix = "Forecourt_Dev"
  }

  expect_failures = [var.name_prefix]
}

run "rejects_short_deletion_window" {
  command = plan

  variables {
    deletion_window_in_days = 3
  }

  expect_failures = [var.deletion_window_in_days]
}

run "promotion_readers_decrypt_through_s3_only" {
  command = plan

  variables {
    promotion_reader_account_ids = ["333333333333"]
  }

  assert {
    condition = length([
      for s in output.policy_statements : s
      if s.sid == "PromotionReadersDecryptViaS3" && s.effect == "Allow" &&
      toset(s.actions) == toset(["kms:Decrypt", "kms:DescribeKey"]) &&
      try(one(s.principals[0].identifiers), null) == "arn:aws:iam::333333333333:root" &&
      anytrue([for c in s.conditions : c.variable == "kms:ViaService" && try(one(c.values), null) == "s3.eu-west-1.amazonaws.com"]) &&
      anytrue([for c in s.conditions : c.variable == "kms:CallerAccount" && try(one(c.values), null) == "333333333333"])
    ]) == 1
    error_message = "Promotion readers may only Decrypt/DescribeKey, via S3 in this region, from their own accounts."
  }
}

run "no_promotion_readers_by_default" {
  command = plan

  assert {
    condition     = length([for s in output.policy_statements : s if s.sid == "PromotionReadersDecryptViaS3"]) == 0
    error_message = "No cross-account statement without readers."
  }
}

run "rejects_bad_promotion_reader" {
  command = plan

  variables {
    promotion_reader_account_ids = ["not-an-account"]
  }

  expect_failures = [var.promotion_reader_account_ids]
}
