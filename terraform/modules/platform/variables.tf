variable "environment" {
  description = "Which account this stack runs in: dev, preprod or prod."
  type        = string
  validation {
    condition     = contains(["dev", "preprod", "prod"], var.environment)
    error_message = "environment must be dev, preprod or prod."
  }
}

variable "name_prefix" {
  description = "Prefix of every resource name, e.g. forecourt-dev."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,30}$", var.name_prefix))
    error_message = "name_prefix: 3-31 characters, lower-case letters, digits and dashes, starting with a letter."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}

variable "vpc_cidr" {
  description = "CIDR block of the account's VPC."
  type        = string
  default     = "10.20.0.0/16"
  validation {
    condition     = can(cidrnetmask(var.vpc_cidr))
    error_message = "vpc_cidr must be a valid IPv4 CIDR block."
  }
}

variable "az_count" {
  description = "Availability zones to spread the private subnets over (at least 2)."
  type        = number
  default     = 2
  validation {
    condition     = var.az_count >= 2 && var.az_count <= 4
    error_message = "az_count must be between 2 and 4."
  }
}

variable "enable_nat_gateway" {
  description = "NAT for outbound internet from private subnets (about 1 USD/day per gateway plus data). Off: VPC endpoints only."
  type        = bool
  default     = true
}

variable "single_nat_gateway" {
  description = "One NAT gateway for all AZs (cheaper, not AZ-resilient) instead of one per AZ."
  type        = bool
  default     = true
}

variable "alarm_emails" {
  description = "Addresses subscribed to the alarm topic (each must confirm by email)."
  type        = list(string)
  default     = []
}

variable "admin_principal_arns" {
  description = "Principals (users or roles of the identity account) allowed to assume the MFA-protected admin role."
  type        = list(string)
  default     = []
}

variable "deploy_account_id" {
  description = "Account whose CI may assume the deploy role (12 digits)."
  type        = string
  validation {
    condition     = can(regex("^[0-9]{12}$", var.deploy_account_id))
    error_message = "deploy_account_id must be a 12-digit AWS account id."
  }
}

variable "training_instance_types" {
  description = "EC2 instance types of the Batch GPU compute environment."
  type        = list(string)
  default     = ["g5.xlarge", "g4dn.xlarge"]
}

variable "training_max_vcpus" {
  description = "Upper bound of the Batch compute environment (it scales to 0 when idle)."
  type        = number
  default     = 16
}

variable "image_tag" {
  description = "Tag of the training and serving images in ECR, as pushed (docker/README.md; immutable tags: one per release). The Batch job definition and the SageMaker models run it."
  type        = string
  default     = "0.1.0"

  validation {
    condition     = can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", var.image_tag)) && var.image_tag != "latest"
    error_message = "image_tag must be a Docker tag other than \"latest\" (the repositories are IMMUTABLE)."
  }
}

variable "serving_instance_type" {
  description = "SageMaker endpoint instance type."
  type        = string
  default     = "ml.g4dn.xlarge"
}

variable "serving_instance_count" {
  description = "Instances behind each endpoint."
  type        = number
  default     = 1
}

variable "enable_mwaa" {
  description = "Create the MWAA environment (moto cannot: the offline apply test turns it off)."
  type        = bool
  default     = true
}

variable "enable_mlflow" {
  description = "Create the SageMaker managed MLflow tracking server (not in moto: off in the offline apply test). Its ARN is the tracking URI unless mlflow_tracking_uri names another server."
  type        = bool
  default     = true
}

variable "mlflow_tracking_uri" {
  description = "An existing MLflow server to use instead of the managed one: a SageMaker MLflow tracking server ARN, or the http(s) URL of a server the jobs and MWAA reach from the VPC (the offline rehearsal's, say: moto has no SageMaker MLflow). null uses the managed server (enable_mlflow). What is wired everywhere (Batch job environment, MWAA options, output mlflow_tracking_uri) is coalesce(mlflow_tracking_uri, the managed server's ARN)."
  type        = string
  default     = null

  validation {
    condition     = var.mlflow_tracking_uri == null || can(regex("^(arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:[0-9]{12}:mlflow-tracking-server/[A-Za-z0-9-]+|https?://[^\\s/]+(/[^\\s]*)?)$", coalesce(var.mlflow_tracking_uri, "-")))
    error_message = "mlflow_tracking_uri must be null, a SageMaker MLflow tracking server ARN (arn:aws:sagemaker:<region>:<account>:mlflow-tracking-server/<name>) or an http(s) URL."
  }

  validation {
    condition     = var.mlflow_tracking_uri != null || var.enable_mlflow
    error_message = "No MLflow server: set enable_mlflow = true (the managed server) or mlflow_tracking_uri (an existing one); the registry steps need one."
  }
}

variable "mwaa_environment_class" {
  description = "MWAA environment class (mw1.small about 12 USD/day, mw1.medium about 24)."
  type        = string
  default     = "mw1.small"
}

variable "mwaa_webserver_access_mode" {
  description = "PUBLIC_ONLY or PRIVATE_ONLY; prod must be PRIVATE_ONLY."
  type        = string
  default     = "PRIVATE_ONLY"
}

variable "airflow_version" {
  description = "MWAA Airflow version."
  type        = string
  default     = "3.0.6"
}

variable "mlflow_tracking_server_size" {
  description = "SageMaker MLflow tracking server size: Small, Medium or Large."
  type        = string
  default     = "Small"
}

variable "upload_airflow_files" {
  description = "Upload dags/*.py, plugins.zip, docker/mwaa/requirements.txt and docker/mwaa/startup.sh to the dags bucket and pin MWAA to their object versions (off in the moto apply test: moto applies the TLS-only bucket policy's Deny without its condition)."
  type        = bool
  default     = true
}

variable "plugins_zip_path" {
  description = "MWAA's plugins.zip, built by `python3 docker/mwaa/build_plugins.py` (the Forecourt plugin and the torch-free part of rl_core). null means build/mwaa/plugins.zip in the repository. The plan fails, saying so, when the file is missing and upload_airflow_files is on."
  type        = string
  default     = null

  validation {
    condition     = var.plugins_zip_path == null || endswith(coalesce(var.plugins_zip_path, "-"), ".zip")
    error_message = "plugins_zip_path must be null or the path of a .zip file."
  }
}

variable "mwaa_ui_allowed_cidrs" {
  description = "IPv4 CIDRs (VPN, bastion, peered network) allowed HTTPS to a PRIVATE_ONLY MWAA web server (ingress 443 on the MWAA security group). Empty: none."
  type        = list(string)
  default     = []
}

variable "enable_guardduty" {
  description = "Security baseline: GuardDuty detector with S3 protection."
  type        = bool
  default     = true
}

variable "enable_aws_config" {
  description = "Security baseline: AWS Config recorder, delivery channel (KMS-encrypted bucket) and managed rules."
  type        = bool
  default     = true
}

variable "enable_security_hub" {
  description = "Security baseline: Security Hub with the AWS Foundational Security Best Practices standard (moto lacks it: off in the offline apply)."
  type        = bool
  default     = true
}

variable "enable_access_analyzer" {
  description = "Security baseline: IAM Access Analyzer for the account (moto lacks it: off in the offline apply)."
  type        = bool
  default     = true
}

variable "enable_budget" {
  description = "Security baseline: monthly cost budget notifying the alarm topic at 80% actual and 100% forecast (moto lacks part of Budgets: off in the offline apply)."
  type        = bool
  default     = true
}

variable "monthly_budget_usd" {
  description = "Monthly cost budget of the account in USD (enable_budget)."
  type        = number
  default     = 1000

  validation {
    condition     = var.monthly_budget_usd > 0
    error_message = "monthly_budget_usd must be greater than 0."
  }
}

variable "promotion_reader_account_ids" {
  description = "Accounts that may read this account's promotion outbox s3://<artifacts bucket>/promotions/ (and decrypt it through S3): the next account of dev -> preprod -> prod. Empty: none."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.promotion_reader_account_ids : can(regex("^[0-9]{12}$", a))])
    error_message = "Each promotion_reader_account_ids entry must be a 12-digit AWS account id."
  }
}

variable "promotion_source" {
  description = "The upstream account's promotion outbox this account reads (preprod reads dev's, prod reads preprod's): {account_id, bucket, prefix}, e.g. {account_id = \"111111111111\", bucket = \"forecourt-dev-111111111111-artifacts\", prefix = \"promotions\"}. The training job role gets read (s3 + kms via S3) on exactly that prefix. null: none (dev)."
  type = object({
    account_id = string
    bucket     = string
    prefix     = string
  })
  default = null

  validation {
    condition = var.promotion_source == null ? true : (
      can(regex("^[0-9]{12}$", var.promotion_source.account_id)) &&
      can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.promotion_source.bucket)) &&
      can(regex("^[A-Za-z0-9!_.*'()/-]+$", var.promotion_source.prefix)) && trim(var.promotion_source.prefix, "/") != ""
    )
    error_message = "promotion_source: account_id is 12 digits, bucket a bucket name (not an ARN or URI), prefix a non-empty key prefix such as promotions."
  }
}
