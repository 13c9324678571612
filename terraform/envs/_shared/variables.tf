# Shared by every account root (linked into envs/<account>/); values in terraform.tfvars.

variable "region" {
  description = "AWS region of the account's stack."
  type        = string
  default     = "eu-west-1"
}

variable "account_id" {
  description = "The member account this root manages (12 digits; from terraform/organization outputs)."
  type        = string
  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be a 12-digit AWS account id."
  }
}

variable "deploy_role_name" {
  description = "Role assumed in the account: OrganizationAccountAccessRole, or the stack's deploy role once it exists."
  type        = string
  default     = "OrganizationAccountAccessRole"
}

variable "deploy_account_id" {
  description = "Account whose CI may assume the stack's deploy role (12 digits)."
  type        = string
}

variable "alarm_emails" {
  description = "Addresses that get alarms and job failures."
  type        = list(string)
  default     = []
}

variable "admin_principal_arns" {
  description = "Principals allowed to assume the MFA-protected admin role."
  type        = list(string)
  default     = []
}

variable "enable_mwaa" {
  description = "Create the MWAA environment (the offline apply test against moto turns it off)."
  type        = bool
  default     = true
}

variable "enable_mlflow" {
  description = "Create the SageMaker MLflow tracking server (off in the offline apply test)."
  type        = bool
  default     = true
}

variable "upload_airflow_files" {
  description = "Upload the DAGs, plugin and MWAA requirements file (off in the offline apply test)."
  type        = bool
  default     = true
}

variable "image_tag" {
  description = "Tag of the training and serving images pushed to ECR for this release (docker/README.md); the Batch job definition and the SageMaker models run it."
  type        = string
  default     = "0.1.0"
}

variable "mlflow_tracking_uri" {
  description = "An existing MLflow server instead of the managed one (a SageMaker MLflow tracking server ARN or an http(s) URL); null uses the managed server."
  type        = string
  default     = null
}

variable "plugins_zip_path" {
  description = "MWAA's plugins.zip from `python3 docker/mwaa/build_plugins.py`; null means build/mwaa/plugins.zip in the repository."
  type        = string
  default     = null
}

variable "mwaa_ui_allowed_cidrs" {
  description = "IPv4 CIDRs (VPN, bastion subnet, peered network) that may reach the private MWAA UI over HTTPS: ingress 443 on the MWAA security group. Empty (default): none; never 0.0.0.0/0."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.mwaa_ui_allowed_cidrs : can(cidrhost(c, 0)) && !strcontains(c, ":") && c != "0.0.0.0/0"])
    error_message = "mwaa_ui_allowed_cidrs must be IPv4 CIDRs such as 10.8.0.0/16, never 0.0.0.0/0."
  }
}

# ---- the account's security baseline (modules/security_baseline) -------------------------
# each part on by default; the offline apply against moto turns off what moto lacks
# (Security Hub, Access Analyzer, Budgets)

variable "enable_guardduty" {
  description = "GuardDuty detector with S3 protection."
  type        = bool
  default     = true
}

variable "enable_aws_config" {
  description = "AWS Config recorder, delivery channel (KMS-encrypted bucket) and managed rules."
  type        = bool
  default     = true
}

variable "enable_security_hub" {
  description = "Security Hub with the AWS Foundational Security Best Practices standard (off in the offline apply: moto lacks it)."
  type        = bool
  default     = true
}

variable "enable_access_analyzer" {
  description = "IAM Access Analyzer for the account (off in the offline apply: moto lacks it)."
  type        = bool
  default     = true
}

variable "enable_budget" {
  description = "Monthly cost budget notifying the alarm topic at 80% actual and 100% forecast (off in the offline apply: moto lacks part of Budgets)."
  type        = bool
  default     = true
}

variable "monthly_budget_usd" {
  description = "Monthly cost budget of the account in USD."
  type        = number
  default     = 1000

  validation {
    condition     = var.monthly_budget_usd > 0
    error_message = "monthly_budget_usd must be greater than 0."
  }
}

# ---- cross-account promotion: dev proposes -> preprod validates -> prod serves -------------

variable "promotion_reader_account_ids" {
  description = "Accounts that may read this account's promotion outbox (s3://<artifacts bucket>/promotions/): dev's is [preprod], preprod's is [prod], prod's is []."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.promotion_reader_account_ids : can(regex("^[0-9]{12}$", a))])
    error_message = "Each promotion_reader_account_ids entry must be a 12-digit AWS account id."
  }
}

variable "promotion_source" {
  description = "The upstream account's outbox this account reads: {account_id, bucket, prefix} (preprod: dev's artifacts bucket, prefix promotions; prod: preprod's). null in dev."
  type = object({
    account_id = string
    bucket     = string
    prefix     = string
  })
  default = null

  validation {
    condition     = var.promotion_source == null ? true : can(regex("^[0-9]{12}$", var.promotion_source.account_id))
    error_message = "promotion_source.account_id must be a 12-digit AWS account id."
  }
}
