variable "name_prefix" {
  description = "Prefix of every name this module creates (e.g. \"forecourt-prod\"); the environment is \"<name_prefix>-mwaa\"."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,30}$", var.name_prefix))
    error_message = "name_prefix must match ^[a-z][a-z0-9-]{2,30}$."
  }
}

variable "tags" {
  description = "Tags merged into every taggable resource."
  type        = map(string)
  default     = {}
}

variable "environment" {
  description = "Deployment stage: dev, preprod or prod (FORECOURT_ENV, the Environment metric dimension)."
  type        = string

  validation {
    condition     = contains(["dev", "preprod", "prod"], var.environment)
    error_message = "environment must be dev, preprod or prod."
  }
}

variable "webserver_access_mode" {
  description = "Airflow UI/API access: PRIVATE_ONLY (VPC endpoint, default) or PUBLIC_ONLY. prod requires PRIVATE_ONLY."
  type        = string
  default     = "PRIVATE_ONLY"

  validation {
    condition     = contains(["PRIVATE_ONLY", "PUBLIC_ONLY"], var.webserver_access_mode)
    error_message = "webserver_access_mode must be PRIVATE_ONLY or PUBLIC_ONLY."
  }

  validation {
    condition     = var.environment != "prod" || var.webserver_access_mode == "PRIVATE_ONLY"
    error_message = "environment \"prod\" requires webserver_access_mode = \"PRIVATE_ONLY\"."
  }
}

variable "subnet_ids" {
  description = "Exactly two private subnets in different availability zones (MWAA's requirement)."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) == 2 && length(distinct(var.subnet_ids)) == 2 && alltrue([for s in var.subnet_ids : can(regex("^subnet-[0-9a-f]+$", s))])
    error_message = "subnet_ids must be two distinct subnet ids (subnet-...)."
  }
}

variable "security_group_ids" {
  description = "Security groups of the environment (1 to 5; must allow traffic among themselves)."
  type        = list(string)

  validation {
    condition     = length(var.security_group_ids) >= 1 && length(var.security_group_ids) <= 5 && alltrue([for s in var.security_group_ids : can(regex("^sg-[0-9a-f]+$", s))])
    error_message = "security_group_ids must be 1 to 5 security group ids (sg-...)."
  }
}

variable "mwaa_ui_allowed_cidrs" {
  description = "CIDRs (a VPN, a bastion subnet, a peered network) that may reach the Airflow UI of a PRIVATE_ONLY environment: HTTPS (443) ingress on the environment's first security group, where MWAA's web server endpoint sits. Empty: only members of that group. Never 0.0.0.0/0 or ::/0."
  type        = list(string)
  default     = []

  validation {
    condition = alltrue([
      for c in var.mwaa_ui_allowed_cidrs : can(cidrhost(c, 0)) && !contains(["0.0.0.0/0", "::/0"], c) && !strcontains(c, ":")
    ])
    error_message = "mwaa_ui_allowed_cidrs must be IPv4 CIDRs (e.g. 10.8.0.0/16), never 0.0.0.0/0."
  }
}

variable "dags_bucket_arn" {
  description = "ARN of the versioned, non-public bucket holding dags/, plugins.zip and requirements.txt."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.dags_bucket_arn))
    error_message = "dags_bucket_arn must be an S3 bucket ARN."
  }
}

variable "dag_s3_path" {
  description = "Folder of the DAGs (and the rl_core package beside them) in the dags bucket."
  type        = string
  default     = "dags"

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+$", var.dag_s3_path))
    error_message = "dag_s3_path must be a single folder name without slashes."
  }
}

variable "requirements_s3_path" {
  description = "Key of requirements.txt in the dags bucket (docker/mwaa/requirements.txt); null for none."
  type        = string
  default     = "requirements.txt"

  validation {
    condition     = var.requirements_s3_path == null || can(regex("^[A-Za-z0-9_./-]+\\.txt$", var.requirements_s3_path))
    error_message = "requirements_s3_path must be null or an object key ending in .txt."
  }
}

variable "requirements_s3_object_version" {
  description = "S3 object version of requirements.txt to install (set it to roll out a new file); null for the latest at creation."
  type        = string
  default     = null
}

variable "plugins_s3_path" {
  description = "Key of plugins.zip in the dags bucket (the Forecourt plugin); null for none."
  type        = string
  default     = "plugins.zip"

  validation {
    condition     = var.plugins_s3_path == null || can(regex("^[A-Za-z0-9_./-]+\\.zip$", var.plugins_s3_path))
    error_message = "plugins_s3_path must be null or an object key ending in .zip."
  }
}

variable "plugins_s3_object_version" {
  description = "S3 object version of plugins.zip (set it to roll out a new file); null for the latest at creation."
  type        = string
  default     = null
}

variable "startup_script_s3_path" {
  description = "Optional key of a startup shell script in the dags bucket; null for none."
  type        = string
  default     = null

  validation {
    condition     = var.startup_script_s3_path == null || can(regex("^[A-Za-z0-9_./-]+\\.sh$", var.startup_script_s3_path))
    error_message = "startup_script_s3_path must be null or an object key ending in .sh."
  }
}

variable "startup_script_s3_object_version" {
  description = "S3 object version of the startup script; null for the latest at creation."
  type        = string
  default     = null
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key of the environment (metadata database, logs, Celery queue) and of the buckets and topic it uses."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (MWAA needs the ARN, not an alias)."
  }
}

variable "environment_class" {
  description = "MWAA environment class."
  type        = string
  default     = "mw1.small"

  validation {
    condition     = contains(["mw1.micro", "mw1.small", "mw1.medium", "mw1.large", "mw1.xlarge", "mw1.2xlarge"], var.environment_class)
    error_message = "environment_class must be one of mw1.micro, mw1.small, mw1.medium, mw1.large, mw1.xlarge, mw1.2xlarge."
  }
}

variable "airflow_version" {
  description = "Apache Airflow version; Airflow 3 only (the DAG uses airflow.sdk). 3.0.6 is MWAA's oldest Airflow 3 (see docker/mwaa/README.md)."
  type        = string
  default     = "3.0.6"

  validation {
    condition     = can(regex("^3\\.[0-9]+\\.[0-9]+$", var.airflow_version))
    error_message = "airflow_version must be an Airflow 3 version string such as \"3.0.6\"."
  }
}

variable "min_workers" {
  description = "Fewest Celery workers."
  type        = number
  default     = 1

  validation {
    condition     = var.min_workers >= 1 && floor(var.min_workers) == var.min_workers
    error_message = "min_workers must be a whole number >= 1."
  }
}

variable "max_workers" {
  description = "Most Celery workers (autoscaling)."
  type        = number
  default     = 5

  validation {
    condition     = var.max_workers >= 1 && var.max_workers <= 25 && floor(var.max_workers) == var.max_workers && var.max_workers >= var.min_workers
    error_message = "max_workers must be a whole number between min_workers and 25."
  }
}

variable "schedulers" {
  description = "Number of schedulers (2 to 5 on mw1.small and larger; 1 on mw1.micro)."
  type        = number
  default     = 2

  validation {
    condition     = var.schedulers >= 1 && var.schedulers <= 5 && floor(var.schedulers) == var.schedulers
    error_message = "schedulers must be a whole number between 1 and 5."
  }
}

variable "weekly_maintenance_window_start" {
  description = "Start of the weekly maintenance window, UTC, DAY:HH:MM in 30-minute steps (the DAG runs at 02:00 UTC)."
  type        = string
  default     = "SUN:22:00"

  validation {
    condition     = can(regex("^(MON|TUE|WED|THU|FRI|SAT|SUN):([01][0-9]|2[0-3]):(00|30)$", var.weekly_maintenance_window_start))
    error_message = "weekly_maintenance_window_start must look like SUN:22:00 (minutes 00 or 30)."
  }
}

variable "log_level" {
  description = "Level of all five Airflow log types (DAG processing, scheduler, task, webserver, worker) in CloudWatch."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG"], var.log_level)
    error_message = "log_level must be CRITICAL, ERROR, WARNING, INFO or DEBUG."
  }
}

variable "batch_job_queue_arn" {
  description = "The training job queue the DAG submits to (forecourt.batch_job_queue gets its name)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:batch:[a-z0-9-]+:[0-9]{12}:job-queue/.+$", var.batch_job_queue_arn))
    error_message = "batch_job_queue_arn must be a Batch job queue ARN."
  }
}

variable "batch_job_definition_arn_prefix" {
  description = "The training job definition's ARN without revision (training module output job_definition_arn_prefix); forecourt.batch_job_definition gets its name, so SubmitJob runs the latest ACTIVE revision and a new image tag needs no MWAA update."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:batch:[a-z0-9-]+:[0-9]{12}:job-definition/[A-Za-z0-9_-]+$", var.batch_job_definition_arn_prefix))
    error_message = "batch_job_definition_arn_prefix must be a Batch job definition ARN without a revision."
  }
}

variable "batch_log_group_arn" {
  description = "Optional: the training jobs' log group ARN, to let Airflow show Batch job logs (logs:GetLogEvents); null grants nothing."
  type        = string
  default     = null

  validation {
    condition     = var.batch_log_group_arn == null || can(regex("^arn:aws[a-z-]*:logs:[a-z0-9-]+:[0-9]{12}:log-group:[^*]+$", var.batch_log_group_arn))
    error_message = "batch_log_group_arn must be null or a CloudWatch Logs log group ARN without wildcards."
  }
}

variable "batch_deferrable" {
  description = "forecourt.batch_deferrable: the DAG's Batch operators wait for their jobs in the triggerer (deferrable) instead of holding a worker slot per running job."
  type        = bool
  default     = true
}

variable "data_bucket_arn" {
  description = "ARN of the data bucket (the store: landing/, pricing/, quarantine/)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.data_bucket_arn))
    error_message = "data_bucket_arn must be an S3 bucket ARN."
  }
}

variable "store_prefix" {
  description = "Folder of the data bucket that holds the store (FORECOURT_STORE = s3://<data bucket>/<store_prefix>): the tasks read all of it."
  type        = string
  default     = "store/"

  validation {
    condition     = can(regex("^[A-Za-z0-9_=.-]+(/[A-Za-z0-9_=.-]+)*/$", var.store_prefix))
    error_message = "store_prefix must be a folder prefix ending in \"/\", without wildcards or a leading \"/\"."
  }
}

variable "store_write_folders" {
  description = "Folders of the store the MWAA tasks write: validate moves a delivery out of landing/ into pricing/ (accepted) or quarantine/ (rejected). Relative to store_prefix."
  type        = list(string)
  default     = ["landing/", "pricing/", "quarantine/"]

  validation {
    condition     = length(var.store_write_folders) >= 1 && alltrue([for p in var.store_write_folders : can(regex("^[A-Za-z0-9_=.-]+(/[A-Za-z0-9_=.-]+)*/$", p))])
    error_message = "store_write_folders must be folder prefixes ending in \"/\", without wildcards or a leading \"/\"."
  }
}

variable "artifacts_bucket_arn" {
  description = "ARN of the artifacts bucket (run folders and reports)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.artifacts_bucket_arn))
    error_message = "artifacts_bucket_arn must be an S3 bucket ARN."
  }
}

variable "runs_prefix" {
  description = "Folder of the artifacts bucket that holds the run folders (FORECOURT_RUNS = s3://<artifacts bucket>/<runs_prefix>): plans, step records, reports; read and written."
  type        = string
  default     = "runs/"

  validation {
    condition     = can(regex("^[A-Za-z0-9_=.-]+(/[A-Za-z0-9_=.-]+)*/$", var.runs_prefix))
    error_message = "runs_prefix must be a folder prefix ending in \"/\", without wildcards or a leading \"/\"."
  }
}

variable "sns_topic_arn" {
  description = "SNS topic of task-failure notifications (FORECOURT_SNS_TOPIC_ARN)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]+$", var.sns_topic_arn))
    error_message = "sns_topic_arn must be an SNS topic ARN."
  }
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of Forecourt's metrics (rl_core/telemetry/catalogue.py NAMESPACE)."
  type        = string
  default     = "Forecourt"

  validation {
    condition     = can(regex("^[A-Za-z0-9_./#:-]{1,255}$", var.metrics_namespace)) && !startswith(var.metrics_namespace, "AWS/")
    error_message = "metrics_namespace must be a custom CloudWatch namespace (not AWS/...)."
  }
}

variable "mlflow_tracking_uri" {
  description = "FORECOURT_MLFLOW_TRACKING_URI for the MWAA tasks and the plugin's page: a SageMaker MLflow tracking server ARN (the role then gets read-only registry access to that server) or the http(s) URL of an MLflow server reachable from the VPC (nothing to grant); null leaves it unset."
  type        = string
  default     = null

  validation {
    condition     = var.mlflow_tracking_uri == null || can(regex("^(arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:[0-9]{12}:mlflow-tracking-server/[A-Za-z0-9-]+|https?://[^\\s/]+(/[^\\s]*)?)$", coalesce(var.mlflow_tracking_uri, "-")))
    error_message = "mlflow_tracking_uri must be null, a SageMaker MLflow tracking server ARN or an http(s) URL."
  }
}

variable "promotion_source_uri" {
  description = "FORECOURT_PROMOTION_SOURCE for the promotion DAG (option forecourt.promotion_source): the upstream account's outbox, s3://<bucket>/<prefix> (the account stack's output promotion_source_uri). null or \"\" leaves the option out (dev: nothing upstream)."
  type        = string
  default     = null

  validation {
    condition     = var.promotion_source_uri == null || var.promotion_source_uri == "" || can(regex("^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[A-Za-z0-9!_.*'()=-]+)*$", coalesce(var.promotion_source_uri, "-")))
    error_message = "promotion_source_uri must be null, empty or an s3://bucket[/prefix] URI without a trailing /."
  }
}

variable "promotion_outbox_uri" {
  description = "FORECOURT_PROMOTION_OUTBOX for the promotion DAG (option forecourt.promotion_outbox): this account's outbox, s3://<artifacts bucket>/promotions (the account stack's output promotion_outbox_uri), when a next account reads it. null or \"\" leaves the option out (prod: nobody downstream)."
  type        = string
  default     = null

  validation {
    condition     = var.promotion_outbox_uri == null || var.promotion_outbox_uri == "" || can(regex("^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[A-Za-z0-9!_.*'()=-]+)*$", coalesce(var.promotion_outbox_uri, "-")))
    error_message = "promotion_outbox_uri must be null, empty or an s3://bucket[/prefix] URI without a trailing /."
  }
}

variable "permission_boundary_arn" {
  description = "Permissions boundary attached to the execution role (iam module output permission_boundary_arn); null for none."
  type        = string
  default     = null

  validation {
    condition     = var.permission_boundary_arn == null || can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/.+$", var.permission_boundary_arn))
    error_message = "permission_boundary_arn must be null or an IAM policy ARN."
  }
}

variable "airflow_configuration_options" {
  description = "Extra Airflow configuration options (\"section.key\" = value). The module's forecourt.* options win over keys given here."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.airflow_configuration_options) : can(regex("^[a-z][a-z0-9_]*\\.[a-z][a-z0-9_]*$", k)) && length(k) <= 64])
    error_message = "airflow_configuration_options keys must look like \"section.key\" (lower case, at most 64 characters)."
  }

  validation {
    condition     = alltrue([for v in values(var.airflow_configuration_options) : can(regex("^[ -~]+$", v))])
    error_message = "airflow_configuration_options values must be non-empty printable ASCII (MWAA's value pattern)."
  }
}
