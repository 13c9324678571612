variable "region" {
  description = "Region of the state bucket and its key."
  type        = string
  default     = "eu-west-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as eu-west-1."
  }
}

variable "name_prefix" {
  description = "Prefix of every name this root creates."
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
  default     = { project = "forecourt", managed-by = "terraform", root = "bootstrap" }
}

variable "state_bucket_name" {
  description = "Name of the state bucket; null for <name_prefix>-terraform-state-<account id> (globally unique)."
  type        = string
  default     = null

  validation {
    condition     = var.state_bucket_name == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.state_bucket_name))
    error_message = "state_bucket_name must be a valid S3 bucket name."
  }
}

variable "noncurrent_version_expiration_days" {
  description = "Days a superseded state version is kept before it expires."
  type        = number
  default     = 90

  validation {
    condition     = var.noncurrent_version_expiration_days >= 7
    error_message = "Keep superseded state versions at least 7 days."
  }
}

variable "state_access_principal_arns" {
  description = "IAM principals (e.g. the operators' or CI's roles, any account) allowed to assume the state-access role that the other roots' backends use; [] for no role (same-account IAM only)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.state_access_principal_arns : can(regex("^arn:aws[a-z-]*:(iam|sts)::[0-9]{12}:.+$", a))])
    error_message = "Every state_access_principal_arns entry must be an IAM principal ARN."
  }
}

variable "access_log_bucket" {
  description = "Existing bucket that receives the state bucket's server access logs; null for none."
  type        = string
  default     = null
}
