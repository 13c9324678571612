# The remote state every other root uses: an S3 bucket (versioned, SSE-KMS with its own key,
# no public access, TLS only); the other roots lock with S3-native lock files in it
# (use_lockfile, Terraform >= 1.10), so there is no DynamoDB lock table. This root keeps its own state
# locally (terraform.tfstate next to this file): it creates the backend, so it cannot use it.

provider "aws" {
  region = var.region

  default_tags {
    tags = var.tags
  }
}

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  account_id  = data.aws_caller_identity.current.account_id
  partition   = data.aws_partition.current.partition
  bucket_name = coalesce(var.state_bucket_name, "${var.name_prefix}-terraform-state-${local.account_id}")
  make_role   = length(var.state_access_principal_arns) > 0
}

# ---- key -----------------------------------------------------------------------------------

data "aws_iam_policy_document" "key" {
  #checkov:skip=CKV_AWS_109:the standard key-policy root statement (kms:* on the key itself); it delegates access to IAM in this account
  #checkov:skip=CKV_AWS_111:the standard key-policy root statement (kms:* on the key itself); it delegates access to IAM in this account
  #checkov:skip=CKV_AWS_356:in a key policy "*" means this key only
  statement {
    sid       = "AccountRootDelegatesToIAM"
    effect    = "Allow"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }
}

resource "aws_kms_key" "state" {
  description             = "${var.name_prefix}: Terraform state bucket (state and lock files)"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.key.json
}

resource "aws_kms_alias" "state" {
  name          = "alias/${var.name_prefix}-tfstate"
  target_key_id = aws_kms_key.state.key_id
}

# ---- state bucket --------------------------------------------------------------------------

resource "aws_s3_bucket" "state" {
  #checkov:skip=CKV_AWS_144:cross-region replication is optional hardening; versioning keeps every state version and the bucket is the only copy by choice (a second region, key and bucket to pay for)
  #checkov:skip=CKV2_AWS_62:no consumer for object event notifications on Terraform state
  bucket = local.bucket_name
}

resource "aws_s3_bucket_ownership_controls" "state" {
  bucket = aws_s3_bucket.state.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "state" {
  bucket                  = aws_s3_bucket.state.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "state" {
  bucket = aws_s3_bucket.state.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "state" {
  bucket = aws_s3_bucket.state.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.state.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "state" {
  bucket = aws_s3_bucket.state.id

  rule {
    id     = "expire-superseded-state"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  depends_on = [aws_s3_bucket_versioning.state]
}

resource "aws_s3_bucket_logging" "state" {
  count = var.access_log_bucket == null ? 0 : 1

  bucket        = aws_s3_bucket.state.id
  target_bucket = var.access_log_bucket
  target_prefix = "s3/${local.bucket_name}/"
}

data "aws_iam_policy_document" "bucket" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.state.arn, "${aws_s3_bucket.state.arn}/*"]

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

  # an upload that asks for another kind of encryption than SSE-KMS is refused (one that
  # asks for none gets the bucket default, SSE-KMS with this root's key)
  statement {
    sid       = "DenyNonKmsEncryption"
    effect    = "Deny"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.state.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Null"
      variable = "s3:x-amz-server-side-encryption"
      values   = ["false"]
    }

    condition {
      test     = "StringNotEquals"
      variable = "s3:x-amz-server-side-encryption"
      values   = ["aws:kms"]
    }
  }
}

resource "aws_s3_bucket_policy" "state" {
  bucket = aws_s3_bucket.state.id
  policy = data.aws_iam_policy_document.bucket.json

  depends_on = [aws_s3_bucket_public_access_block.state]
}

# ---- optional role the other roots' backends assume ------------------------------------------

data "aws_iam_policy_document" "state_access_trust" {
  count = local.make_role ? 1 : 0

  statement {
    sid     = "TrustedPrincipals"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "AWS"
      identifiers = var.state_access_principal_arns
    }
  }
}

data "aws_iam_policy_document" "state_access" {
  statement {
    sid       = "ListStateBucket"
    effect    = "Allow"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.state.arn]
  }

  # the state objects and their S3-native lock files (<key>.tflock): use_lockfile
  statement {
    sid       = "ReadWriteStateObjects"
    effect    = "Allow"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = ["${aws_s3_bucket.state.arn}/*"]
  }

  statement {
    sid       = "StateKey"
    effect    = "Allow"
    actions   = ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
    resources = [aws_kms_key.state.arn]
  }
}

resource "aws_iam_role" "state_access" {
  count = local.make_role ? 1 : 0

  name                 = "${var.name_prefix}-tfstate-access"
  description          = "Read and write Terraform state (bucket ${local.bucket_name}, its lock files and key)."
  assume_role_policy   = data.aws_iam_policy_document.state_access_trust[0].json
  max_session_duration = 3600
}

resource "aws_iam_role_policy" "state_access" {
  count = local.make_role ? 1 : 0

  name   = "terraform-state"
  role   = aws_iam_role.state_access[0].id
  policy = data.aws_iam_policy_document.state_access.json
}
