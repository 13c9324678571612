variable "name_prefix" {
  description = "Prefix of every name this module creates (e.g. forecourt-dev); the key alias is alias/<name_prefix>."
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

variable "description" {
  description = "Description of the key; defaults to a sentence naming name_prefix."
  type        = string
  default     = null
}

variable "service_principals" {
  description = <<-EOT
    AWS service principals that may use the key, e.g. logs.eu-west-1.amazonaws.com,
    cloudtrail.amazonaws.com, sns.amazonaws.com, s3.amazonaws.com, airflow.amazonaws.com,
    events.amazonaws.com, cloudwatch.amazonaws.com. CloudWatch Logs is scoped by the
    kms:EncryptionContext:aws:logs:arn of this account's log groups, CloudTrail by the
    kms:EncryptionContext:aws:cloudtrail:arn of this account's trails plus aws:SourceAccount,
    every other service by aws:SourceAccount.
  EOT
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for p in var.service_principals : can(regex("^[a-z0-9.-]+\\.amazonaws\\.com(\\.cn)?$", p))])
    error_message = "Each service principal must look like <service>[.<region>].amazonaws.com."
  }
}

variable "admin_role_arns" {
  description = "IAM role ARNs given key administration (no cryptographic use) in the key policy, on top of the account root statement."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.admin_role_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", a))])
    error_message = "Each admin_role_arns entry must be an IAM role ARN."
  }
}

variable "key_user_arns" {
  description = "IAM principals that need key use granted in the key policy itself because their own policies cannot grant it, e.g. the AutoScaling service-linked role (arn:aws:iam::<account>:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling) when Batch launch templates encrypt EBS with this key. They must exist when the policy is written. Ordinary roles get key use from their IAM policies (the root statement delegates to IAM)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.key_user_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", a))])
    error_message = "Each key_user_arns entry must be an IAM role ARN."
  }
}

variable "source_account_ids" {
  description = "Accounts whose resources the service principals may act for (aws:SourceAccount, encryption-context ARNs). Empty means the current account only."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.source_account_ids : can(regex("^[0-9]{12}$", a))])
    error_message = "Each source_account_ids entry must be a 12-digit AWS account id."
  }
}

variable "deletion_window_in_days" {
  description = "Waiting period, in days, before a scheduled key deletion happens."
  type        = number
  default     = 30

  validation {
    condition     = var.deletion_window_in_days >= 7 && var.deletion_window_in_days <= 30
    error_message = "deletion_window_in_days must be between 7 and 30."
  }
}

variable "rotation_period_in_days" {
  description = "Automatic key rotation period, in days (rotation is always on)."
  type        = number
  default     = 365

  validation {
    condition     = var.rotation_period_in_days >= 90 && var.rotation_period_in_days <= 2560
    error_message = "rotation_period_in_days must be between 90 and 2560."
  }
}

variable "promotion_reader_account_ids" {
  description = "Accounts (12-digit ids) that may decrypt this account's promotion outbox (modules/storage promotion_reader_account_ids): kms:Decrypt and kms:DescribeKey for their principals, only through S3 in this region (kms:ViaService s3.<region>.amazonaws.com). Their own IAM policies must allow it too. Empty: no cross-account use."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.promotion_reader_account_ids : can(regex("^[0-9]{12}$", a))])
    error_message = "Each promotion_reader_account_ids entry must be a 12-digit AWS account id."
  }
}
