# The organization trail's bucket and key, in the log-archive account (security OU), where
# terraform/organization's guardrail SCP protects them: nobody but this root's role may change
# the bucket's policy, versioning, lifecycle, encryption or Object Lock, delete log files,
# bypass their retention, or disable, delete or re-police the key. CloudTrail (the
# organization trail in the management account, aws:SourceArn) is the only writer.

data "aws_caller_identity" "current" {}

locals {
  account_id             = data.aws_caller_identity.current.account_id
  partition              = var.partition
  management_account_id  = split(":", var.org_trail_arn)[4]
  trail_arn              = var.org_trail_arn
  log_bucket_name        = "${var.name_prefix}-org-trail-${var.log_archive_account_id}"
  access_log_bucket_name = "${var.name_prefix}-org-trail-access-${var.log_archive_account_id}"
  access_log_prefix      = "s3/${local.log_bucket_name}/"
  # the encryption context CloudTrail puts on every log file of the management account's trails
  cloudtrail_context = "arn:${local.partition}:cloudtrail:*:${local.management_account_id}:trail/*"
}

check "provider_is_in_the_log_archive_account" {
  assert {
    condition     = local.account_id == var.log_archive_account_id
    error_message = "The provider acts in ${local.account_id}, not in the log-archive account ${var.log_archive_account_id}."
  }
}

# ---- key -----------------------------------------------------------------------------------

data "aws_iam_policy_document" "trail_key" {
  #checkov:skip=CKV_AWS_109:the standard key-policy root statement (kms:* on this key), delegating to IAM in the log-archive account
  #checkov:skip=CKV_AWS_111:the standard key-policy root statement (kms:* on this key), delegating to IAM in the log-archive account
  #checkov:skip=CKV_AWS_356:in a key policy "*" is this key only
  statement {
    sid       = "AccountRootDelegatesToIAM"
    effect    = "Allow"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${var.log_archive_account_id}:root"]
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

  # reading the logs: principals that IAM in the log-archive account allows kms:Decrypt, and
  # log_reader_arns; only for CloudTrail log files of the management account's trails
  statement {
    sid       = "LogReadersDecryptLogs"
    effect    = "Allow"
    actions   = ["kms:Decrypt", "kms:ReEncryptFrom"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = concat(["arn:${local.partition}:iam::${var.log_archive_account_id}:root"], var.log_reader_arns)
    }

    condition {
      test     = "StringLike"
      variable = "kms:EncryptionContext:aws:cloudtrail:arn"
      values   = [local.cloudtrail_context]
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
  object_lock_enabled = var.object_lock
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
  count = var.object_lock ? 1 : 0

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
      "${aws_s3_bucket.trail.arn}/AWSLogs/${var.organization_id}/*",
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

  dynamic "statement" {
    for_each = length(var.log_reader_arns) > 0 ? [1] : []

    content {
      sid       = "LogReadersRead"
      effect    = "Allow"
      actions   = ["s3:GetObject", "s3:ListBucket"]
      resources = [aws_s3_bucket.trail.arn, "${aws_s3_bucket.trail.arn}/*"]

      principals {
        type        = "AWS"
        identifiers = var.log_reader_arns
      }
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
      values   = [local.account_id]
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

