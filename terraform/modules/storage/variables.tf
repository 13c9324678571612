variable "name_prefix" {
  description = "Prefix of every name this module creates (e.g. forecourt-dev). Buckets are named <name_prefix>-<account id>-<purpose>."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,30}$", var.name_prefix))
    error_message = "name_prefix must match ^[a-z][a-z0-9-]{2,30}$ (lower case, starts with a letter, 3-31 characters)."
  }
}

variable "tags" {
  description = "Tags merged into every taggable resource."
  type        = map(string)
  default     = {}
}

variable "kms_key_arn" {
  description = "ARN of the customer-managed KMS key used for SSE-KMS default encryption of every bucket (and required of explicit KMS headers)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (not an alias)."
  }
}

variable "noncurrent_version_expiration_days" {
  description = "Days after which a noncurrent object version is deleted."
  type        = number
  default     = 90

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1 && floor(var.noncurrent_version_expiration_days) == var.noncurrent_version_expiration_days
    error_message = "noncurrent_version_expiration_days must be a whole number >= 1."
  }
}

variable "abort_incomplete_multipart_upload_days" {
  description = "Days after which an incomplete multipart upload is aborted."
  type        = number
  default     = 7

  validation {
    condition     = var.abort_incomplete_multipart_upload_days >= 1 && floor(var.abort_incomplete_multipart_upload_days) == var.abort_incomplete_multipart_upload_days
    error_message = "abort_incomplete_multipart_upload_days must be a whole number >= 1."
  }
}

variable "log_bucket" {
  description = "Optional name of the bucket receiving S3 server access logs (target prefix <name_prefix>/<purpose>/). It must allow logging.s3.amazonaws.com to write and use SSE-S3 (server access logs cannot target SSE-KMS). Null: no access logging."
  type        = string
  default     = null

  validation {
    condition     = var.log_bucket == null ? true : can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.log_bucket))
    error_message = "log_bucket must be a bucket name (not an ARN)."
  }
}

variable "enable_access_logging" {
  description = "Whether to configure access logging. Null (default) means log_bucket != null; set it to true explicitly when log_bucket is only known after apply (e.g. a bucket created in the same run), since for_each must be known at plan time."
  type        = bool
  default     = null

  validation {
    condition     = var.enable_access_logging != true || var.log_bucket != null
    error_message = "enable_access_logging = true needs log_bucket."
  }
}

variable "force_destroy" {
  description = "Allow terraform destroy to delete non-empty buckets (all versions). Keep false outside throwaway environments."
  type        = bool
  default     = false
}

variable "promotion_reader_account_ids" {
  description = "Accounts (12-digit ids) that may read this account's promotion outbox, s3://<artifacts bucket>/promotions/ (s3:GetObject on promotions/*, s3:ListBucket under that prefix, aws:PrincipalAccount-conditioned): the next account of dev -> preprod -> prod. Give the same ids to modules/kms promotion_reader_account_ids. Empty: no cross-account access."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.promotion_reader_account_ids : can(regex("^[0-9]{12}$", a))])
    error_message = "Each promotion_reader_account_ids entry must be a 12-digit AWS account id."
  }

  validation {
    condition     = length(distinct(var.promotion_reader_account_ids)) == length(var.promotion_reader_account_ids)
    error_message = "promotion_reader_account_ids must not repeat an account."
  }
}
