# Per-account security baseline: GuardDuty (S3 protection), AWS Config (recorder, delivery
# channel into a KMS-encrypted bucket, managed rules), Security Hub with the AWS Foundational
# Security Best Practices standard, IAM Access Analyzer and a monthly cost budget. Each piece
# has its own enable_* switch (true by default): moto lacks Security Hub's
# UpdateSecurityHubConfiguration/BatchEnableStandards, Access Analyzer and Budgets'
# DescribeSubscribersForNotification, so the offline apply turns those three off.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name

  config_bucket_name = "${var.name_prefix}-${local.account_id}-config"
  config_bucket_arn  = "arn:${local.partition}:s3:::${local.config_bucket_name}"
  config_prefix      = "config"
  config_role_arn    = "arn:${local.partition}:iam::${local.account_id}:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig"

  fsbp_standard_arn = "arn:${local.partition}:securityhub:${local.region}::standards/aws-foundational-security-best-practices/v/1.0.0"

  # budget notifications: 80% of the limit actually spent, 100% forecast
  budget_notifications = [
    { threshold = 80, notification_type = "ACTUAL" },
    { threshold = 100, notification_type = "FORECASTED" },
  ]
}

# ---- GuardDuty -----------------------------------------------------------------------------

resource "aws_guardduty_detector" "this" {
  #checkov:skip=CKV2_AWS_3:an account-level detector in each member account; organization-wide GuardDuty (delegated administrator, aws_guardduty_organization_configuration) is an organization-root decision not taken here
  count = var.enable_guardduty ? 1 : 0

  enable                       = true
  finding_publishing_frequency = var.guardduty_finding_publishing_frequency
  tags                         = var.tags
}

resource "aws_guardduty_detector_feature" "s3" {
  count = var.enable_guardduty ? 1 : 0

  detector_id = aws_guardduty_detector.this[0].id
  name        = "S3_DATA_EVENTS"
  status      = "ENABLED"
}

# ---- AWS Config ----------------------------------------------------------------------------

resource "aws_iam_service_linked_role" "config" {
  count = var.enable_aws_config && var.create_config_service_linked_role ? 1 : 0

  aws_service_name = "config.amazonaws.com"
}

resource "aws_s3_bucket" "config" {
  #checkov:skip=CKV_AWS_144:cross-region replication of Config history is a DR choice not taken: the recorder rebuilds the current state from the account itself
  #checkov:skip=CKV2_AWS_62:no consumer for object events on Config snapshots
  #checkov:skip=CKV_AWS_18:server access logs need an SSE-S3 target bucket the account stack does not have; only config.amazonaws.com writes here and CloudTrail (organization trail) records every API call on it
  count = var.enable_aws_config ? 1 : 0

  bucket        = local.config_bucket_name
  force_destroy = var.force_destroy
  tags          = merge(var.tags, { Name = local.config_bucket_name, Purpose = "config" })
}

resource "aws_s3_bucket_ownership_controls" "config" {
  count = var.enable_aws_config ? 1 : 0

  bucket = aws_s3_bucket.config[0].id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "config" {
  count = var.enable_aws_config ? 1 : 0

  bucket                  = aws_s3_bucket.config[0].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "config" {
  count = var.enable_aws_config ? 1 : 0

  bucket = aws_s3_bucket.config[0].id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "config" {
  count = var.enable_aws_config ? 1 : 0

  bucket = aws_s3_bucket.config[0].id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "config" {
  count = var.enable_aws_config ? 1 : 0

  bucket = aws_s3_bucket.config[0].id

  rule {
    id     = "expire-config-history"
    status = "Enabled"

    filter {}

    expiration {
      days = var.config_retention_days
    }

    noncurrent_version_expiration {
      noncurrent_days = 30
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  depends_on = [aws_s3_bucket_versioning.config]
}

# What AWS documents for a Config delivery bucket: the service checks the ACL and lists the
# bucket, and writes under <prefix>/AWSLogs/<account>/Config/, only for this account.
data "aws_iam_policy_document" "config_bucket" {
  statement {
    sid       = "ConfigChecksBucket"
    effect    = "Allow"
    actions   = ["s3:GetBucketAcl", "s3:ListBucket"]
    resources = [local.config_bucket_arn]

    principals {
      type        = "Service"
      identifiers = ["config.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }

  statement {
    sid       = "ConfigDelivers"
    effect    = "Allow"
    actions   = ["s3:PutObject"]
    resources = ["${local.config_bucket_arn}/${local.config_prefix}/AWSLogs/${local.account_id}/Config/*"]

    principals {
      type        = "Service"
      identifiers = ["config.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }

    condition {
      test     = "StringEquals"
      variable = "s3:x-amz-acl"
      values   = ["bucket-owner-full-control"]
    }
  }

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [local.config_bucket_arn, "${local.config_bucket_arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "config" {
  count = var.enable_aws_config ? 1 : 0

  bucket = aws_s3_bucket.config[0].id
  policy = data.aws_iam_policy_document.config_bucket.json

  depends_on = [aws_s3_bucket_public_access_block.config]
}

resource "aws_config_configuration_recorder" "this" {
  count = var.enable_aws_config ? 1 : 0

  name     = "${var.name_prefix}-recorder"
  role_arn = local.config_role_arn

  recording_group {
    all_supported                 = true
    include_global_resource_types = true
  }

  depends_on = [aws_iam_service_linked_role.config]
}

resource "aws_config_delivery_channel" "this" {
  count = var.enable_aws_config ? 1 : 0

  name           = "${var.name_prefix}-delivery"
  s3_bucket_name = aws_s3_bucket.config[0].bucket
  s3_key_prefix  = local.config_prefix
  s3_kms_key_arn = var.kms_key_arn

  snapshot_delivery_properties {
    delivery_frequency = var.config_snapshot_frequency
  }

  depends_on = [aws_config_configuration_recorder.this, aws_s3_bucket_policy.config]
}

resource "aws_config_configuration_recorder_status" "this" {
  count = var.enable_aws_config ? 1 : 0

  name       = aws_config_configuration_recorder.this[0].name
  is_enabled = true

  depends_on = [aws_config_delivery_channel.this]
}

resource "aws_config_config_rule" "managed" {
  for_each = var.enable_aws_config ? var.config_managed_rules : {}

  name = "${var.name_prefix}-${each.key}"
  tags = var.tags

  source {
    owner             = "AWS"
    source_identifier = each.value
  }

  depends_on = [aws_config_configuration_recorder.this]
}

# ---- Security Hub --------------------------------------------------------------------------

resource "aws_securityhub_account" "this" {
  count = var.enable_security_hub ? 1 : 0

  enable_default_standards  = false
  control_finding_generator = "SECURITY_CONTROL"
  auto_enable_controls      = true
}

resource "aws_securityhub_standards_subscription" "fsbp" {
  count = var.enable_security_hub ? 1 : 0

  standards_arn = local.fsbp_standard_arn

  depends_on = [aws_securityhub_account.this]
}

# ---- IAM Access Analyzer -------------------------------------------------------------------

resource "aws_accessanalyzer_analyzer" "account" {
  count = var.enable_access_analyzer ? 1 : 0

  analyzer_name = "${var.name_prefix}-account"
  type          = "ACCOUNT"
  tags          = var.tags
}

# ---- cost budget ---------------------------------------------------------------------------

resource "aws_budgets_budget" "monthly" {
  count = var.enable_budget ? 1 : 0

  name         = "${var.name_prefix}-monthly"
  budget_type  = "COST"
  limit_amount = format("%.2f", var.monthly_budget_usd)
  limit_unit   = "USD"
  time_unit    = "MONTHLY"
  tags         = var.tags

  dynamic "notification" {
    for_each = local.budget_notifications

    content {
      comparison_operator       = "GREATER_THAN"
      threshold                 = notification.value.threshold
      threshold_type            = "PERCENTAGE"
      notification_type         = notification.value.notification_type
      subscriber_sns_topic_arns = [var.sns_topic_arn]
    }
  }
}
