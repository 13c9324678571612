variable "name_prefix" {
  description = "Prefix of every name this module creates (e.g. \"forecourt-dev\"); the server is \"<name_prefix>-mlflow\"."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,30}$", var.name_prefix))
    error_message = "name_prefix must match ^[a-z][a-z0-9-]{2,30}$."
  }

  validation {
    # tracking server names: alphanumerics separated by hyphens, ending alphanumeric
    condition     = !endswith(var.name_prefix, "-")
    error_message = "name_prefix must not end with \"-\"."
  }
}

variable "tags" {
  description = "Tags merged into every taggable resource."
  type        = map(string)
  default     = {}
}

variable "artifact_store_uri" {
  description = "s3:// URI of the artifact store: the artifacts bucket's mlflow/ prefix (e.g. s3://forecourt-dev-artifacts/mlflow)."
  type        = string

  validation {
    condition     = can(regex("^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[^*?]*)?$", var.artifact_store_uri))
    error_message = "artifact_store_uri must be an s3://bucket[/prefix] URI."
  }
}

variable "role_arn" {
  description = "IAM role the tracking server assumes to read and write the artifact store (iam module output mlflow_role_arn; trusted by sagemaker.amazonaws.com)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", var.role_arn))
    error_message = "role_arn must be an IAM role ARN."
  }
}

variable "tracking_server_size" {
  description = "Tracking server size: Small (up to 25 users), Medium (50) or Large (100)."
  type        = string
  default     = "Small"

  validation {
    condition     = contains(["Small", "Medium", "Large"], var.tracking_server_size)
    error_message = "tracking_server_size must be Small, Medium or Large."
  }
}

variable "mlflow_version" {
  description = "MLflow version of the server, as MAJOR.MINOR (provider 5.100.0 stores the version normalised to MAJOR.MINOR, so \"3.0.0\" would plan a replacement every time). Changing it replaces the server."
  type        = string
  default     = "3.0"

  validation {
    condition     = can(regex("^[0-9]+\\.[0-9]+$", var.mlflow_version))
    error_message = "mlflow_version must be MAJOR.MINOR, e.g. \"3.0\"."
  }
}

variable "weekly_maintenance_window_start" {
  description = "Start of the weekly maintenance window, UTC, Day:HH:MM with the day as Mon..Sun (SageMaker's format; the DAG runs at 02:00 UTC)."
  type        = string
  default     = "Sun:23:00"

  validation {
    condition     = can(regex("^(Mon|Tue|Wed|Thu|Fri|Sat|Sun):([01][0-9]|2[0-3]):[0-5][0-9]$", var.weekly_maintenance_window_start))
    error_message = "weekly_maintenance_window_start must look like Sun:23:00 (Mon..Sun, 24-hour UTC)."
  }
}
