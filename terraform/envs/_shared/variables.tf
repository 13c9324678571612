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
