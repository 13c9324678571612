# The organization trail: every account's management events, all regions, log file
# validation, SSE-KMS with its own key, into a bucket only CloudTrail writes to.

locals {
  log_bucket_name        = "${var.name_prefix}-org-trail-${local.management_account_id}"
  access_log_bucket_name = "${var.name_prefix}-org-trail-access-${local.management_account_id}"
  access_log_prefix      = "s3/${local.log_bucket_name}/"
  log_group_name         = "/aws/cloudtrail/${var.org_trail_name}"
  log_group_arn          = "arn:${local.partition}:logs:${var.region}:${local.management_account_id}:log-group:${local.log_group_name}"
  # the encryption context CloudTrail puts on every log file of this account's trails
  cloudtrail_context = "arn:${local.partition}:cloudtrail:*:${local.management_account_id}:trail/*"
}

# ---- key -----------------------------------------------------------------------------------

data "aws_iam_policy_document" "trail_key" {
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
    sid       = "CloudTrailEncryptsLogs"
    effect    = "Allow"
    actions   = ["kms:GenerateDataKey*"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["cloudtrail.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceArn"
      values   = [local.trail_arn]
    }

    condition {
      test     = "StringLike"
      variable = "kms:EncryptionContext:aws:cloudtrail:arn"
      values   = [local.cloudtrail_context]
    }
  }

  statement {
    sid       = "CloudTrailDescribesKey"
    effect    = "Allow"
    actions   = ["kms:DescribeKey"]
    resources = ["*"]

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

  # reading the logs: principals of the management account that IAM allows kms:Decrypt,
  # and only for CloudTrail log files of this account's trails
  statement {
    sid       = "ManagementAccountDecryptsLogs"
    effect    = "Allow"
    actions   = ["kms:Decrypt", "kms:ReEncryptFrom"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.management_account_id}:root"]
    }

    condition {
      test     = "StringEquals"
      variable = "kms:CallerAccount"
      values   = [local.management_account_id]
    }

    condition {
      test     = "StringLike"
      variable = "kms:EncryptionContext:aws:cloudtrail:arn"
      values   = [local.cloudtrail_context]
    }
  }

  dynamic "statement" {
    for_each = var.enable_cloudwatch_logs ? [1] : []

    content {
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
}

resource "aws_kms_key" "trail" {
  description             = "${var.name_prefix}: organization CloudTrail logs"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.trail_key.json
}

resource "aws_kms_alias" "trail" {
  name          = "alias/${var.name_prefix}-org-trail"
  target_key_id = aws_kms_key.trail.key_id
}

# ---- log bucket ----------------------------------------------------------------------------

resource "aws_s3_bucket" "trail" {
  #checkov:skip=CKV_AWS_144:cross-region replication is optional hardening (a second region, key and bucket to pay for); versioning, the delete-deny policy and optional Object Lock protect the only copy
  #checkov:skip=CKV2_AWS_62:no consumer for object event notifications; CloudTrail's own delivery is what matters
  bucket              = local.log_bucket_name
  object_lock_enabled = var.log_bucket_object_lock
  force_destroy       = var.force_destroy_log_buckets
}

resource "aws_s3_bucket_ownership_controls" "trail" {
  bucket = aws_s3_bucket.trail.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "trail" {
  bucket                  = aws_s3_bucket.trail.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "trail" {
  bucket = aws_s3_bucket.trail.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "trail" {
  bucket = aws_s3_bucket.trail.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.trail.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_object_lock_configuration" "trail" {
  count = var.log_bucket_object_lock ? 1 : 0

  bucket = aws_s3_bucket.trail.id

  rule {
    default_retention {
      mode = var.object_lock_mode
      days = var.object_lock_retention_days
    }
  }

  depends_on = [aws_s3_bucket_versioning.trail]
}

resource "aws_s3_bucket_lifecycle_configuration" "trail" {
  bucket = aws_s3_bucket.trail.id

  rule {
    id     = "archive-then-expire-logs"
    status = "Enabled"

    filter {}

    transition {
      days          = var.log_transition_to_glacier_days
      storage_class = "GLACIER"
    }

    expiration {
      days = var.log_expiration_days
    }

    noncurrent_version_transition {
      noncurrent_days = 30
      storage_class   = "GLACIER"
    }

    noncurrent_version_expiration {
      noncurrent_days = 365
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  depends_on = [aws_s3_bucket_versioning.trail]

  lifecycle {
    precondition {
      condition     = var.log_expiration_days > var.log_transition_to_glacier_days
      error_message = "log_expiration_days must be later than log_transition_to_glacier_days."
    }
  }
}

resource "aws_s3_bucket_logging" "trail" {
  bucket        = aws_s3_bucket.trail.id
  target_bucket = aws_s3_bucket.access_logs.id
  target_prefix = local.access_log_prefix

  depends_on = [aws_s3_bucket_policy.access_logs]
}

data "aws_iam_policy_document" "trail_bucket" {
  statement {
    sid       = "CloudTrailChecksAcl"
    effect    = "Allow"
    actions   = ["s3:GetBucketAcl"]
    resources = [aws_s3_bucket.trail.arn]

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

  # the management account's own events, and every member account's (under the org id)
  statement {
    sid    = "CloudTrailWritesLogs"
    effect = "Allow"
    actions = [
      "s3:PutObject",
    ]
    resources = [
      "${aws_s3_bucket.trail.arn}/AWSLogs/${local.management_account_id}/*",
      "${aws_s3_bucket.trail.arn}/AWSLogs/${aws_organizations_organization.this.id}/*",
    ]

    principals {
      type        = "Service"
      identifiers = ["cloudtrail.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "s3:x-amz-acl"
      values   = ["bucket-owner-full-control"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceArn"
      values   = [local.trail_arn]
    }
  }

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.trail.arn, "${aws_s3_bucket.trail.arn}/*"]

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

  # log files leave only through the lifecycle rule (which a bucket policy does not govern)
  statement {
    sid       = "DenyLogDeletion"
    effect    = "Deny"
    actions   = ["s3:DeleteObject", "s3:DeleteObjectVersion"]
    resources = ["${aws_s3_bucket.trail.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }
  }
}

resource "aws_s3_bucket_policy" "trail" {
  bucket = aws_s3_bucket.trail.id
  policy = data.aws_iam_policy_document.trail_bucket.json

  depends_on = [aws_s3_bucket_public_access_block.trail]
}

# ---- server access logs of the log bucket ---------------------------------------------------

resource "aws_s3_bucket" "access_logs" {
  #checkov:skip=CKV_AWS_145:S3 server access log delivery supports only SSE-S3 (AES256) on the target bucket, not SSE-KMS
  #checkov:skip=CKV_AWS_144:cross-region replication is optional hardening for access logs (cost of a second region)
  #checkov:skip=CKV2_AWS_62:no consumer for object event notifications on access logs
  bucket        = local.access_log_bucket_name
  force_destroy = var.force_destroy_log_buckets
}

resource "aws_s3_bucket_ownership_controls" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "access_logs" {
  bucket                  = aws_s3_bucket.access_logs.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id

  rule {
    id     = "expire-access-logs"
    status = "Enabled"

    filter {}

    expiration {
      days = var.access_logs_expiration_days
    }

    noncurrent_version_expiration {
      noncurrent_days = 30
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  depends_on = [aws_s3_bucket_versioning.access_logs]
}

data "aws_iam_policy_document" "access_logs" {
  statement {
    sid       = "S3ServerAccessLogDelivery"
    effect    = "Allow"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.access_logs.arn}/${local.access_log_prefix}*"]

    principals {
      type        = "Service"
      identifiers = ["logging.s3.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.management_account_id]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = [aws_s3_bucket.trail.arn]
    }
  }

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.access_logs.arn, "${aws_s3_bucket.access_logs.arn}/*"]

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

resource "aws_s3_bucket_policy" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id
  policy = data.aws_iam_policy_document.access_logs.json

  depends_on = [aws_s3_bucket_public_access_block.access_logs]
}

# ---- optional CloudWatch Logs delivery ------------------------------------------------------

resource "aws_cloudwatch_log_group" "trail" {
  count = var.enable_cloudwatch_logs ? 1 : 0

  name              = local.log_group_name
  retention_in_days = var.cloudwatch_logs_retention_days
  kms_key_id        = aws_kms_key.trail.arn
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
  name                          = var.org_trail_name
  s3_bucket_name                = aws_s3_bucket.trail.id
  is_organization_trail         = true
  is_multi_region_trail         = true
  include_global_service_events = true
  enable_log_file_validation    = true
  kms_key_id                    = aws_kms_key.trail.arn
  cloud_watch_logs_group_arn    = var.enable_cloudwatch_logs ? "${aws_cloudwatch_log_group.trail[0].arn}:*" : null
  cloud_watch_logs_role_arn     = var.enable_cloudwatch_logs ? aws_iam_role.trail_logs[0].arn : null

  event_selector {
    read_write_type           = "All"
    include_management_events = true
  }

  depends_on = [
    aws_organizations_organization.this,
    aws_s3_bucket_policy.trail,
    aws_iam_role_policy.trail_logs,
  ]
}
