# The organization trail: every account's management events, all regions, log file
# validation, SSE-KMS, into the log-archive account's bucket (terraform/log-archive makes the
# bucket and its key; trail_bucket_name and trail_kms_key_arn are its outputs). Until they are
# given the trail is not created (first apply: the log-archive account must exist first).

locals {
  log_group_name = "/aws/cloudtrail/${var.org_trail_name}"
  log_group_arn  = "arn:${local.partition}:logs:${var.region}:${local.management_account_id}:log-group:${local.log_group_name}"
  trail_enabled  = var.trail_bucket_name != null
}

# ---- key of the optional CloudWatch Logs group (management account) -----------------------

data "aws_iam_policy_document" "trail_logs_key" {
  #checkov:skip=CKV_AWS_109:the standard key-policy root statement (kms:* on this key), delegating to IAM in the management account
  #checkov:skip=CKV_AWS_111:the standard key-policy root statement (kms:* on this key), delegating to IAM in the management account
  #checkov:skip=CKV_AWS_356:in a key policy "*" is this key only
  statement {
    sid       = "AccountRootDelegatesToIAM"
    effect    = "Allow"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.management_account_id}:root"]
    }
  }

  dynamic "statement" {
    for_each = length(var.kms_admin_role_arns) > 0 ? [1] : []

    content {
      sid    = "KeyAdministrators"
      effect = "Allow"
      actions = [
        "kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*",
        "kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource",
        "kms:UntagResource", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion",
      ]
      resources = ["*"]

      principals {
        type        = "AWS"
        identifiers = var.kms_admin_role_arns
      }
    }
  }

  statement {
    sid       = "CloudWatchLogsEncryptsTrailGroup"
    effect    = "Allow"
    actions   = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["logs.${var.region}.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = [local.log_group_arn]
    }
  }
}

resource "aws_kms_key" "trail_logs" {
  count = var.enable_cloudwatch_logs ? 1 : 0

  description             = "${var.name_prefix}: organization CloudTrail's CloudWatch Logs group"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.trail_logs_key.json
}

resource "aws_kms_alias" "trail_logs" {
  count = var.enable_cloudwatch_logs ? 1 : 0

  name          = "alias/${var.name_prefix}-org-trail-logs"
  target_key_id = aws_kms_key.trail_logs[0].key_id
}

# ---- optional CloudWatch Logs delivery ------------------------------------------------------

resource "aws_cloudwatch_log_group" "trail" {
  count = var.enable_cloudwatch_logs ? 1 : 0

  name              = local.log_group_name
  retention_in_days = var.cloudwatch_logs_retention_days
  kms_key_id        = aws_kms_key.trail_logs[0].arn
}

data "aws_iam_policy_document" "trail_logs_trust" {
  statement {
    sid     = "CloudTrailAssumes"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["cloudtrail.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceArn"
      values   = [local.trail_arn]
    }
  }
}

data "aws_iam_policy_document" "trail_logs" {
  statement {
    sid       = "WriteTrailLogStreams"
    effect    = "Allow"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${local.log_group_arn}:log-stream:*"]
  }
}

resource "aws_iam_role" "trail_logs" {
  count = var.enable_cloudwatch_logs ? 1 : 0

  name               = "${var.name_prefix}-org-trail-logs"
  description        = "CloudTrail delivers the organization trail to ${local.log_group_name}."
  assume_role_policy = data.aws_iam_policy_document.trail_logs_trust.json
}

resource "aws_iam_role_policy" "trail_logs" {
  count = var.enable_cloudwatch_logs ? 1 : 0

  name   = "cloudwatch-logs-delivery"
  role   = aws_iam_role.trail_logs[0].id
  policy = data.aws_iam_policy_document.trail_logs.json
}

# ---- the trail -----------------------------------------------------------------------------

resource "aws_cloudtrail" "org" {
  #checkov:skip=CKV_AWS_252:no SNS notification per delivered log file; integrity comes from log file validation and the locked bucket, alerting from CloudWatch (enable_cloudwatch_logs)
  count = local.trail_enabled ? 1 : 0

  name                          = var.org_trail_name
  s3_bucket_name                = var.trail_bucket_name
  is_organization_trail         = true
  is_multi_region_trail         = true
  include_global_service_events = true
  enable_log_file_validation    = true
  kms_key_id                    = var.trail_kms_key_arn
  cloud_watch_logs_group_arn    = var.enable_cloudwatch_logs ? "${aws_cloudwatch_log_group.trail[0].arn}:*" : null
  cloud_watch_logs_role_arn     = var.enable_cloudwatch_logs ? aws_iam_role.trail_logs[0].arn : null

  event_selector {
    read_write_type           = "All"
    include_management_events = true
  }

  depends_on = [
    aws_organizations_organization.this,
    aws_iam_role_policy.trail_logs,
  ]

  lifecycle {
    precondition {
      condition     = can(regex("^arn:aws[a-z-]*:kms:${var.region}:${local.log_archive_id}:key/", var.trail_kms_key_arn))
      error_message = "trail_kms_key_arn must be a key of the log-archive account (${local.log_archive_id}) in ${var.region}: terraform/log-archive's output trail_kms_key_arn."
    }
  }
}

check "organization_trail" {
  assert {
    condition     = local.trail_enabled
    error_message = "No organization trail yet: apply terraform/log-archive (it needs this root's output log_archive), then set trail_bucket_name and trail_kms_key_arn from its outputs and apply this root again."
  }
}
