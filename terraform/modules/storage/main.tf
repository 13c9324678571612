# Three private, versioned, SSE-KMS buckets: data (daily pricing store), artifacts (models,
# reports, MLflow artifacts, data capture) and dags (MWAA DAGs, plugins, requirements).

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition

  purposes       = toset(["data", "artifacts", "dags"])
  access_logging = var.enable_access_logging != null ? var.enable_access_logging : var.log_bucket != null
  bucket_names = {
    for p in local.purposes : p => "${var.name_prefix}-${local.account_id}-${p}"
  }

  # Cross-account promotion (dev proposes -> preprod validates -> prod serves): the next
  # account down the line reads this account's outbox, s3://<artifacts>/promotions/, and
  # nothing else. Allow statements on the artifacts bucket only (the key's policy has the
  # matching kms:Decrypt, modules/kms promotion_reader_account_ids).
  promotion_prefix     = "promotions/"
  promotion_principals = [for a in var.promotion_reader_account_ids : "arn:${local.partition}:iam::${a}:root"]
  promotion_policy_statements = length(var.promotion_reader_account_ids) == 0 ? [] : [
    {
      sid        = "PromotionReadersGetObject"
      actions    = ["s3:GetObject", "s3:GetObjectVersion"]
      resources  = ["arn:${local.partition}:s3:::${local.bucket_names["artifacts"]}/${local.promotion_prefix}*"]
      principals = local.promotion_principals
      conditions = [
        { test = "StringEquals", variable = "aws:PrincipalAccount", values = var.promotion_reader_account_ids },
      ]
    },
    {
      sid        = "PromotionReadersListOutbox"
      actions    = ["s3:ListBucket"]
      resources  = ["arn:${local.partition}:s3:::${local.bucket_names["artifacts"]}"]
      principals = local.promotion_principals
      conditions = [
        { test = "StringEquals", variable = "aws:PrincipalAccount", values = var.promotion_reader_account_ids },
        { test = "StringLike", variable = "s3:prefix", values = [trimsuffix(local.promotion_prefix, "/"), "${local.promotion_prefix}*"] },
      ]
    },
  ]

  # Bucket policy statements, built as data so tests can inspect them (output
  # bucket_policy_statements). Every statement is a Deny for any principal.
  bucket_policy_statements = {
    for p, name in local.bucket_names : p => [
      {
        sid       = "DenyInsecureTransport"
        actions   = ["s3:*"]
        resources = ["arn:${local.partition}:s3:::${name}", "arn:${local.partition}:s3:::${name}/*"]
        conditions = [
          { test = "Bool", variable = "aws:SecureTransport", values = ["false"] },
        ]
      },
      {
        sid       = "DenyTlsOlderThan12"
        actions   = ["s3:*"]
        resources = ["arn:${local.partition}:s3:::${name}", "arn:${local.partition}:s3:::${name}/*"]
        conditions = [
          { test = "NumericLessThan", variable = "s3:TlsVersion", values = ["1.2"] },
        ]
      },
      {
        # A PutObject that asks for another encryption than SSE-KMS (a request that
        # names none gets the bucket default, SSE-KMS with the key).
        sid       = "DenyNonKmsEncryptionHeader"
        actions   = ["s3:PutObject"]
        resources = ["arn:${local.partition}:s3:::${name}/*"]
        conditions = [
          { test = "Null", variable = "s3:x-amz-server-side-encryption", values = ["false"] },
          { test = "StringNotEquals", variable = "s3:x-amz-server-side-encryption", values = ["aws:kms"] },
        ]
      },
      {
        # A PutObject that names another KMS key than the module's.
        sid       = "DenyOtherKmsKey"
        actions   = ["s3:PutObject"]
        resources = ["arn:${local.partition}:s3:::${name}/*"]
        conditions = [
          { test = "Null", variable = "s3:x-amz-server-side-encryption-aws-kms-key-id", values = ["false"] },
          { test = "StringNotEquals", variable = "s3:x-amz-server-side-encryption-aws-kms-key-id", values = [var.kms_key_arn] },
        ]
      },
    ]
  }
}

resource "aws_s3_bucket" "this" {
  #checkov:skip=CKV_AWS_144:Cross-region replication is a DR choice not taken here: the data is re-delivered daily and models are retrained; versioning covers mistakes.
  #checkov:skip=CKV2_AWS_62:Event notifications are deliberately off: nothing consumes bucket events (Airflow sensors poll).
  for_each = local.bucket_names

  bucket        = each.value
  force_destroy = var.force_destroy
  tags          = merge(var.tags, { Name = each.value, Purpose = each.key })
}

resource "aws_s3_bucket_ownership_controls" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  for_each = aws_s3_bucket.this

  bucket                  = each.value.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id

  rule {
    id     = "noncurrent-versions-and-incomplete-uploads"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = var.abort_incomplete_multipart_upload_days
    }

    expiration {
      expired_object_delete_marker = true
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

resource "aws_s3_bucket_logging" "this" {
  for_each = local.access_logging ? aws_s3_bucket.this : {}

  bucket        = each.value.id
  target_bucket = var.log_bucket
  target_prefix = "${var.name_prefix}/${each.key}/"
}

data "aws_iam_policy_document" "bucket" {
  for_each = local.bucket_policy_statements

  # the promotion readers (artifacts bucket only)
  dynamic "statement" {
    for_each = each.key == "artifacts" ? local.promotion_policy_statements : []
    content {
      sid       = statement.value.sid
      effect    = "Allow"
      actions   = statement.value.actions
      resources = statement.value.resources

      principals {
        type        = "AWS"
        identifiers = statement.value.principals
      }

      dynamic "condition" {
        for_each = statement.value.conditions
        content {
          test     = condition.value.test
          variable = condition.value.variable
          values   = condition.value.values
        }
      }
    }
  }

  dynamic "statement" {
    for_each = each.value
    content {
      sid       = statement.value.sid
      effect    = "Deny"
      actions   = statement.value.actions
      resources = statement.value.resources

      principals {
        type        = "*"
        identifiers = ["*"]
      }

      dynamic "condition" {
        for_each = statement.value.conditions
        content {
          test     = condition.value.test
          variable = condition.value.variable
          values   = condition.value.values
        }
      }
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id
  policy = data.aws_iam_policy_document.bucket[each.key].json

  # S3 rejects a policy while the public access block is being written.
  depends_on = [aws_s3_bucket_public_access_block.this]
}
