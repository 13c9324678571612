variable "region" {
  description = "Region of the trail bucket and key: the organization trail's home region (terraform/organization var.region)."
  type        = string
  default     = "eu-west-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as eu-west-1."
  }
}

variable "partition" {
  description = "AWS partition of the accounts (aws, aws-cn, aws-us-gov)."
  type        = string
  default     = "aws"

  validation {
    condition     = contains(["aws", "aws-cn", "aws-us-gov"], var.partition)
    error_message = "partition must be aws, aws-cn or aws-us-gov."
  }
}

variable "name_prefix" {
  description = "Prefix of every name (terraform/organization var.name_prefix): the bucket is <name_prefix>-org-trail-<log-archive account>."
  type        = string
  default     = "forecourt"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,30}$", var.name_prefix))
    error_message = "name_prefix must match ^[a-z][a-z0-9-]{2,30}$."
  }
}

variable "tags" {
  description = "Tags added to every resource (provider default_tags)."
  type        = map(string)
  default     = { project = "forecourt", managed-by = "terraform", root = "log-archive" }
}

variable "log_archive_account_id" {
  description = "The log-archive account (terraform/organization output log_archive.log_archive_account_id)."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.log_archive_account_id))
    error_message = "log_archive_account_id must be a 12-digit AWS account id."
  }
}

variable "access_role_name" {
  description = "Role assumed in the log-archive account (the one terraform/organization's SCP exempts from the bucket and key guardrails)."
  type        = string
  default     = "OrganizationAccountAccessRole"
}

variable "organization_id" {
  description = "The organization (terraform/organization output log_archive.organization_id): member accounts' logs arrive under AWSLogs/<organization id>/."
  type        = string

  validation {
    condition     = can(regex("^o-[a-z0-9]{10,32}$", var.organization_id))
    error_message = "organization_id must look like o-xxxxxxxxxx."
  }
}

variable "org_trail_arn" {
  description = "ARN of the organization trail (terraform/organization output log_archive.org_trail_arn, known before the trail exists): the only trail allowed to write and encrypt (aws:SourceArn)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:cloudtrail:[a-z0-9-]+:[0-9]{12}:trail/[A-Za-z0-9._-]+$", var.org_trail_arn))
    error_message = "org_trail_arn must be a CloudTrail trail ARN."
  }
}

variable "log_reader_arns" {
  description = "Principals (roles of the log-archive or a security account) that may read and decrypt the logs, besides IAM in the log-archive account."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.log_reader_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(role|root).*$", a))])
    error_message = "Every log_reader_arns entry must be an IAM role or account root ARN."
  }
}

variable "log_transition_to_glacier_days" {
  description = "Days after which trail log files move to S3 Glacier Flexible Retrieval."
  type        = number
  default     = 90

  validation {
    condition     = var.log_transition_to_glacier_days >= 30
    error_message = "log_transition_to_glacier_days must be at least 30."
  }
}

variable "log_expiration_days" {
  description = "Days after which trail log files are deleted (default about seven years)."
  type        = number
  default     = 2557

  validation {
    condition     = var.log_expiration_days >= 365
    error_message = "Keep trail logs at least a year (log_expiration_days >= 365)."
  }
}

variable "object_lock" {
  description = "Create the trail bucket with S3 Object Lock (WORM) and a default retention. Only at bucket creation: changing it replaces the bucket."
  type        = bool
  default     = true
}

variable "object_lock_mode" {
  description = "Default Object Lock mode: GOVERNANCE (s3:BypassGovernanceRetention, which the SCP denies to all but the access role, can lift it) or COMPLIANCE (nobody can, not even root)."
  type        = string
  default     = "GOVERNANCE"

  validation {
    condition     = contains(["GOVERNANCE", "COMPLIANCE"], var.object_lock_mode)
    error_message = "object_lock_mode must be GOVERNANCE or COMPLIANCE."
  }
}

variable "object_lock_retention_days" {
  description = "Default Object Lock retention of every log file, in days."
  type        = number
  default     = 365

  validation {
    condition     = var.object_lock_retention_days >= 1
    error_message = "object_lock_retention_days must be at least 1."
  }
}

variable "access_logs_expiration_days" {
  description = "Days the trail bucket's server access logs are kept."
  type        = number
  default     = 365

  validation {
    condition     = var.access_logs_expiration_days >= 90
    error_message = "Keep access logs at least 90 days."
  }
}

variable "force_destroy_log_buckets" {
  description = "Let terraform destroy delete the trail and access-log buckets with their objects. Only for throw-away test organizations."
  type        = bool
  default     = false
}
