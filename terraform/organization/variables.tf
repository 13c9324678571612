variable "region" {
  description = "Home region of the organization trail, its bucket and key (must be in allowed_regions)."
  type        = string
  default     = "eu-west-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as eu-west-1."
  }
}

variable "name_prefix" {
  description = "Prefix of every name this root creates (account names are <name_prefix>-<key>)."
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
  default     = { project = "forecourt", managed-by = "terraform", root = "organization" }
}

variable "accounts" {
  description = "Member accounts to create under the workloads OU: short name (dev, preprod, prod) -> root email address (unique across AWS)."
  type        = map(string)

  validation {
    condition     = length(var.accounts) > 0
    error_message = "accounts must name at least one account."
  }

  validation {
    condition     = alltrue([for k, e in var.accounts : can(regex("^[a-z][a-z0-9-]{1,20}$", k)) && can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", e))])
    error_message = "accounts keys must match ^[a-z][a-z0-9-]{1,20}$ and every value must be an email address."
  }

  validation {
    condition     = length(distinct([for e in values(var.accounts) : lower(e)])) == length(var.accounts)
    error_message = "Every account needs its own email address."
  }
}

variable "allowed_regions" {
  description = "Regions member accounts may use (the region allow-list SCP); global services are exempt."
  type        = list(string)
  default     = ["eu-west-1"]

  validation {
    condition     = length(var.allowed_regions) > 0
    error_message = "allowed_regions must not be empty: it would deny every regional service."
  }

  validation {
    condition     = alltrue([for r in var.allowed_regions : can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", r))])
    error_message = "Every allowed_regions entry must be an AWS region name such as eu-west-1."
  }
}

variable "org_trail_name" {
  description = "Name of the organization CloudTrail trail."
  type        = string
  default     = "forecourt-org-trail"

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9._-]{2,127}$", var.org_trail_name))
    error_message = "org_trail_name must be 3-128 letters, digits, '.', '_' or '-', starting with a letter or digit."
  }
}

variable "service_access_principals" {
  description = "Services integrated with the organization (cloudtrail.amazonaws.com is always added)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for s in var.service_access_principals : endswith(s, ".amazonaws.com")])
    error_message = "Every service access principal ends with .amazonaws.com."
  }
}

variable "kms_admin_role_arns" {
  description = "Roles that administer (not use) the trail key, besides the account root."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.kms_admin_role_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", a))])
    error_message = "Every kms_admin_role_arns entry must be an IAM role ARN."
  }
}

variable "enable_cloudwatch_logs" {
  description = "Also deliver the trail to a KMS-encrypted CloudWatch Logs group (for metric filters and alarms; CloudWatch ingestion is paid per GB for every account's events)."
  type        = bool
  default     = false
}

variable "cloudwatch_logs_retention_days" {
  description = "Retention of the trail's CloudWatch Logs group."
  type        = number
  default     = 365

  validation {
    condition     = contains([365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.cloudwatch_logs_retention_days)
    error_message = "cloudwatch_logs_retention_days must be a CloudWatch retention of at least a year (365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)."
  }
}

variable "log_archive_account_email" {
  description = "Root email address of the log-archive member account (security OU) that holds the organization trail's bucket and key (unique across AWS)."
  type        = string

  validation {
    condition     = can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.log_archive_account_email))
    error_message = "log_archive_account_email must be an email address."
  }
}

variable "trail_bucket_name" {
  description = "The organization trail's bucket in the log-archive account: terraform/log-archive's output trail_bucket_name. null (first apply, before terraform/log-archive exists): no trail yet."
  type        = string
  default     = null

  validation {
    condition     = var.trail_bucket_name == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", coalesce(var.trail_bucket_name, "-")))
    error_message = "trail_bucket_name must be a bucket name (not an ARN)."
  }
}

variable "trail_kms_key_arn" {
  description = "The key (log-archive account) the trail encrypts its log files with: terraform/log-archive's output trail_kms_key_arn. Set together with trail_bucket_name."
  type        = string
  default     = null

  validation {
    condition     = (var.trail_kms_key_arn == null) == (var.trail_bucket_name == null)
    error_message = "Set trail_bucket_name and trail_kms_key_arn together (both from terraform/log-archive's outputs), or neither."
  }

  validation {
    condition     = var.trail_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", coalesce(var.trail_kms_key_arn, "-")))
    error_message = "trail_kms_key_arn must be a KMS key ARN (not an alias)."
  }
}
