variable "name_prefix" {
  description = "Prefix of every name this module creates (e.g. forecourt-dev)."
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
  description = "The account's customer-managed key: encrypts the AWS Config delivery bucket and its snapshots. Its policy must let config.amazonaws.com use it (aws:SourceAccount), as modules/platform's call of modules/kms does."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (not an alias)."
  }
}

variable "sns_topic_arn" {
  description = "The account's alarm topic (modules/monitoring output sns_topic_arn): budget notifications go there. Its topic policy must allow budgets.amazonaws.com to publish and its key must let budgets.amazonaws.com use it."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]+$", var.sns_topic_arn))
    error_message = "sns_topic_arn must be an SNS topic ARN."
  }
}

variable "enable_guardduty" {
  description = "GuardDuty detector with S3 protection (S3_DATA_EVENTS)."
  type        = bool
  default     = true
}

variable "guardduty_finding_publishing_frequency" {
  description = "How often GuardDuty publishes updated findings: FIFTEEN_MINUTES, ONE_HOUR or SIX_HOURS."
  type        = string
  default     = "FIFTEEN_MINUTES"

  validation {
    condition     = contains(["FIFTEEN_MINUTES", "ONE_HOUR", "SIX_HOURS"], var.guardduty_finding_publishing_frequency)
    error_message = "guardduty_finding_publishing_frequency must be FIFTEEN_MINUTES, ONE_HOUR or SIX_HOURS."
  }
}

variable "enable_aws_config" {
  description = "AWS Config: a recorder of every supported resource type (global types included), a delivery channel into a KMS-encrypted bucket of its own, and the managed rules in config_managed_rules."
  type        = bool
  default     = true
}

variable "create_config_service_linked_role" {
  description = "Create AWSServiceRoleForConfig, the role the recorder uses. Set false when the account already has it (it exists once per account; creating it twice fails)."
  type        = bool
  default     = true
}

variable "config_managed_rules" {
  description = "AWS Config managed rules to evaluate: rule name suffix -> managed rule identifier (source_identifier)."
  type        = map(string)
  default = {
    s3-bucket-ssl-requests-only       = "S3_BUCKET_SSL_REQUESTS_ONLY"
    s3-bucket-public-read-prohibited  = "S3_BUCKET_PUBLIC_READ_PROHIBITED"
    s3-default-encryption-kms         = "S3_DEFAULT_ENCRYPTION_KMS"
    encrypted-volumes                 = "ENCRYPTED_VOLUMES"
    iam-root-access-key-check         = "IAM_ROOT_ACCESS_KEY_CHECK"
    cmk-backing-key-rotation-enabled  = "CMK_BACKING_KEY_ROTATION_ENABLED"
    vpc-flow-logs-enabled             = "VPC_FLOW_LOGS_ENABLED"
    cloudwatch-log-group-encrypted    = "CLOUDWATCH_LOG_GROUP_ENCRYPTED"
    guardduty-enabled-centralized     = "GUARDDUTY_ENABLED_CENTRALIZED"
    restricted-ssh                    = "INCOMING_SSH_DISABLED"
    sagemaker-endpoint-config-kms-key = "SAGEMAKER_ENDPOINT_CONFIGURATION_KMS_KEY_CONFIGURED"
    iam-user-no-policies-check        = "IAM_USER_NO_POLICIES_CHECK"
  }

  validation {
    condition     = alltrue([for k, v in var.config_managed_rules : can(regex("^[a-z0-9-]{1,60}$", k)) && can(regex("^[A-Z0-9_]+$", v))])
    error_message = "config_managed_rules: keys are lower-case rule name suffixes (letters, digits, '-'), values managed rule identifiers in upper case (e.g. S3_BUCKET_SSL_REQUESTS_ONLY)."
  }
}

variable "config_snapshot_frequency" {
  description = "How often AWS Config delivers a configuration snapshot: One_Hour, Three_Hours, Six_Hours, Twelve_Hours or TwentyFour_Hours."
  type        = string
  default     = "TwentyFour_Hours"

  validation {
    condition     = contains(["One_Hour", "Three_Hours", "Six_Hours", "Twelve_Hours", "TwentyFour_Hours"], var.config_snapshot_frequency)
    error_message = "config_snapshot_frequency must be One_Hour, Three_Hours, Six_Hours, Twelve_Hours or TwentyFour_Hours."
  }
}

variable "config_retention_days" {
  description = "Days the Config delivery bucket keeps snapshots and history files (then they expire)."
  type        = number
  default     = 730

  validation {
    condition     = var.config_retention_days >= 365 && floor(var.config_retention_days) == var.config_retention_days
    error_message = "config_retention_days must be a whole number of at least 365."
  }
}

variable "enable_security_hub" {
  description = "Security Hub in the account, subscribed to the AWS Foundational Security Best Practices standard (default standards off: exactly that one)."
  type        = bool
  default     = true
}

variable "enable_access_analyzer" {
  description = "IAM Access Analyzer with the account as zone of trust (findings for resources shared outside the account)."
  type        = bool
  default     = true
}

variable "enable_budget" {
  description = "A monthly cost budget of monthly_budget_usd, notifying sns_topic_arn at 80% actual and 100% forecast spend."
  type        = bool
  default     = true
}

variable "monthly_budget_usd" {
  description = "Monthly cost budget of the account, in USD (enable_budget)."
  type        = number
  default     = 1000

  validation {
    condition     = var.monthly_budget_usd > 0
    error_message = "monthly_budget_usd must be greater than 0."
  }
}

variable "force_destroy" {
  description = "Let terraform destroy delete the Config delivery bucket with its objects. Throwaway environments only."
  type        = bool
  default     = false
}
