# terraform test with a mocked AWS provider: the account's security baseline, no AWS needed.

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
  name_prefix        = "forecourt-dev"
  kms_key_arn        = "arn:aws:kms:eu-west-1:111122223333:key/11111111-2222-3333-4444-555555555555"
  sns_topic_arn      = "arn:aws:sns:eu-west-1:111122223333:forecourt-dev-alarms"
  monthly_budget_usd = 1500
}

run "everything_on_by_default" {
  command = apply

  assert {
    condition     = aws_guardduty_detector.this[0].enable && aws_guardduty_detector_feature.s3[0].name == "S3_DATA_EVENTS" && aws_guardduty_detector_feature.s3[0].status == "ENABLED"
    error_message = "GuardDuty must be on with S3 protection."
  }

  assert {
    condition     = aws_config_configuration_recorder.this[0].recording_group[0].all_supported && aws_config_configuration_recorder.this[0].recording_group[0].include_global_resource_types && aws_config_configuration_recorder_status.this[0].is_enabled
    error_message = "The Config recorder records every supported resource type, global ones included, and is started."
  }

  assert {
    condition     = aws_config_delivery_channel.this[0].s3_bucket_name == "forecourt-dev-111122223333-config" && aws_config_delivery_channel.this[0].s3_kms_key_arn == var.kms_key_arn
    error_message = "Config delivers to its own bucket, encrypted with the account key."
  }

  assert {
    condition = alltrue([
      for r in aws_s3_bucket_server_side_encryption_configuration.config[0].rule :
      r.apply_server_side_encryption_by_default[0].sse_algorithm == "aws:kms" && r.apply_server_side_encryption_by_default[0].kms_master_key_id == var.kms_key_arn
    ]) && aws_s3_bucket_versioning.config[0].versioning_configuration[0].status == "Enabled" && aws_s3_bucket_public_access_block.config[0].restrict_public_buckets
    error_message = "The Config bucket is SSE-KMS with the account key, versioned and private."
  }

  assert {
    condition     = anytrue([for s in data.aws_iam_policy_document.config_bucket.statement : s.effect == "Deny" && anytrue([for c in s.condition : c.variable == "aws:SecureTransport"])])
    error_message = "The Config bucket denies requests without TLS."
  }

  assert {
    condition = alltrue([for s in data.aws_iam_policy_document.config_bucket.statement :
      s.effect == "Deny" || anytrue([for c in s.condition : c.variable == "aws:SourceAccount" && contains(c.values, "111122223333")])
    ])
    error_message = "config.amazonaws.com may use the bucket only for this account (aws:SourceAccount)."
  }

  assert {
    condition     = length(aws_config_config_rule.managed) >= 3 && alltrue([for r in aws_config_config_rule.managed : r.source[0].owner == "AWS"])
    error_message = "A few AWS managed Config rules are evaluated."
  }

  assert {
    condition     = !aws_securityhub_account.this[0].enable_default_standards && aws_securityhub_standards_subscription.fsbp[0].standards_arn == "arn:aws:securityhub:eu-west-1::standards/aws-foundational-security-best-practices/v/1.0.0"
    error_message = "Security Hub subscribes to exactly the AWS Foundational Security Best Practices standard."
  }

  assert {
    condition     = aws_accessanalyzer_analyzer.account[0].type == "ACCOUNT"
    error_message = "IAM Access Analyzer with the account as zone of trust."
  }

  assert {
    condition     = aws_budgets_budget.monthly[0].limit_amount == "1500.00" && aws_budgets_budget.monthly[0].limit_unit == "USD" && aws_budgets_budget.monthly[0].time_unit == "MONTHLY" && aws_budgets_budget.monthly[0].budget_type == "COST"
    error_message = "A monthly USD cost budget of monthly_budget_usd."
  }

  assert {
    condition = toset([for n in aws_budgets_budget.monthly[0].notification : "${n.notification_type}:${n.threshold}"]) == toset(["ACTUAL:80", "FORECASTED:100"]) && alltrue([
      for n in aws_budgets_budget.monthly[0].notification : n.subscriber_sns_topic_arns == toset([var.sns_topic_arn]) && n.threshold_type == "PERCENTAGE"
    ])
    error_message = "The budget notifies the account's topic at 80% actual and 100% forecast."
  }

  assert {
    condition     = alltrue(values(output.enabled))
    error_message = "Every part is on by default."
  }
}

run "each_part_switches_off" {
  command = apply

  variables {
    enable_guardduty       = false
    enable_aws_config      = false
    enable_security_hub    = false
    enable_access_analyzer = false
    enable_budget          = false
  }

  assert {
    condition     = length(aws_guardduty_detector.this) + length(aws_config_configuration_recorder.this) + length(aws_s3_bucket.config) + length(aws_config_config_rule.managed) + length(aws_securityhub_account.this) + length(aws_securityhub_standards_subscription.fsbp) + length(aws_accessanalyzer_analyzer.account) + length(aws_budgets_budget.monthly) == 0
    error_message = "Every part has its own switch."
  }

  assert {
    condition     = output.guardduty_detector_id == null && output.budget_name == null && output.config_bucket_name == null
    error_message = "Outputs are null for what is off."
  }
}

run "existing_config_service_linked_role" {
  command = plan

  variables {
    create_config_service_linked_role = false
  }

  assert {
    condition     = length(aws_iam_service_linked_role.config) == 0 && aws_config_configuration_recorder.this[0].role_arn == "arn:aws:iam::111122223333:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig"
    error_message = "The recorder uses AWSServiceRoleForConfig whether or not this module creates it."
  }
}

run "rejects_a_zero_budget" {
  command = plan

  variables {
    monthly_budget_usd = 0
  }

  expect_failures = [var.monthly_budget_usd]
}
