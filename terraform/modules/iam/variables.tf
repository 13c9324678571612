variable "name_prefix" {
  description = "Prefix of every name this module creates (e.g. forecourt-dev). Roles are <name_prefix>-<component>; the deploy role's rights are scoped to resources named <name_prefix>*."
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

variable "data_bucket_arn" {
  description = "ARN of the data bucket (daily pricing store): the training job reads it."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.data_bucket_arn))
    error_message = "data_bucket_arn must be an S3 bucket ARN."
  }
}

variable "artifacts_bucket_arn" {
  description = "ARN of the artifacts bucket (models, reports, MLflow artifacts, data capture)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.artifacts_bucket_arn))
    error_message = "artifacts_bucket_arn must be an S3 bucket ARN."
  }
}

variable "dags_bucket_arn" {
  description = "ARN of the MWAA DAGs bucket: the permission boundary denies every workload role writes to it (only the deploy role/CI ships DAGs), so a workload cannot inject code into Airflow."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.dags_bucket_arn))
    error_message = "dags_bucket_arn must be an S3 bucket ARN."
  }
}

variable "kms_key_arn" {
  description = "ARN of the customer-managed KMS key that encrypts the buckets, logs and topics."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "ecr_repository_arns" {
  description = "ECR repository ARNs the training job and SageMaker pull from (training, serving)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.ecr_repository_arns : can(regex("^arn:aws[a-z-]*:ecr:[a-z0-9-]+:[0-9]{12}:repository/.+$", a))])
    error_message = "Each ecr_repository_arns entry must be an ECR repository ARN."
  }
}

variable "sns_topic_arn" {
  description = "Optional SNS topic for pipeline notifications: the training job and the pipeline-operator policy may publish to it."
  type        = string
  default     = null

  validation {
    condition     = var.sns_topic_arn == null ? true : can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:.+$", var.sns_topic_arn))
    error_message = "sns_topic_arn must be an SNS topic ARN."
  }
}

variable "batch_job_queue_arn" {
  description = "Optional Batch job queue ARN; with batch_job_definition_arn_prefix it enables the pipeline-operator policy (submit/describe/terminate training jobs)."
  type        = string
  default     = null

  validation {
    condition     = var.batch_job_queue_arn == null ? true : can(regex("^arn:aws[a-z-]*:batch:[a-z0-9-]+:[0-9]{12}:job-queue/.+$", var.batch_job_queue_arn))
    error_message = "batch_job_queue_arn must be a Batch job queue ARN."
  }
}

variable "batch_job_definition_arn_prefix" {
  description = "Optional Batch job definition ARN without the revision (arn:...:job-definition/<name>); the operator may submit any revision of it."
  type        = string
  default     = null

  validation {
    condition     = var.batch_job_definition_arn_prefix == null ? true : can(regex("^arn:aws[a-z-]*:batch:[a-z0-9-]+:[0-9]{12}:job-definition/[^:]+$", var.batch_job_definition_arn_prefix))
    error_message = "batch_job_definition_arn_prefix must be a Batch job definition ARN without the :revision."
  }
}

variable "admin_principal_arns" {
  description = "IAM principals (users/roles, e.g. the SSO or identity-account roles) that may assume the admin role, with MFA."
  type        = list(string)

  validation {
    condition     = length(var.admin_principal_arns) > 0 && alltrue([for a in var.admin_principal_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(root|user/.+|role/.+)$", a))])
    error_message = "admin_principal_arns must list at least one IAM user, role or account-root ARN."
  }
}

variable "trusted_account_id" {
  description = "Account (CI/tooling) whose principals may assume the deploy role."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.trusted_account_id))
    error_message = "trusted_account_id must be a 12-digit AWS account id."
  }
}

variable "deploy_principal_arns" {
  description = "Optional CI/Terraform role ARNs in trusted_account_id that may assume the deploy role; empty means trusted_account_id's root (its IAM decides)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.deploy_principal_arns : can(regex("^arn:aws[a-z-]*:iam::${var.trusted_account_id}:role/.+$", a))])
    error_message = "deploy_principal_arns must be role ARNs in trusted_account_id."
  }
}

variable "deploy_external_id" {
  description = "Optional sts:ExternalId the deploy role's callers must present (an identifier against the confused-deputy problem, not a secret)."
  type        = string
  default     = null

  validation {
    condition     = var.deploy_external_id == null ? true : (length(var.deploy_external_id) >= 2 && length(var.deploy_external_id) <= 1224 && can(regex("^[A-Za-z0-9+=,.@:/-]+$", var.deploy_external_id)))
    error_message = "deploy_external_id must be 2-1224 characters of [A-Za-z0-9+=,.@:/-]."
  }
}

variable "allowed_regions" {
  description = "Regions workloads and the deploy role may act in (aws:RequestedRegion). Empty means the provider's region."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for r in var.allowed_regions : can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", r))])
    error_message = "allowed_regions entries must be region names such as eu-west-1."
  }
}

variable "training_artifact_prefixes" {
  description = "Prefixes of the artifacts bucket the training job may read and write: runs/ (FORECOURT_RUNS: plans, step records, checkpoints, bundles, reports), models/ (exported policies), checkpoints/, reports/ and mlflow/ (MLflow artifacts, which the client writes to S3 itself)."
  type        = list(string)
  default     = ["runs/", "models/", "checkpoints/", "reports/", "mlflow/"]

  validation {
    condition     = length(var.training_artifact_prefixes) > 0 && alltrue([for p in var.training_artifact_prefixes : can(regex("^[A-Za-z0-9][A-Za-z0-9._-]*/$", p))])
    error_message = "training_artifact_prefixes must be non-empty top-level prefixes ending in / (no wildcard, not the bucket root)."
  }
}

variable "training_data_write_prefixes" {
  description = "Prefixes of the data bucket the training job may write (and delete, for atomic replaces): the store's recommendations/ (write_recommendations). It reads the whole data bucket."
  type        = list(string)
  default     = ["store/recommendations/"]

  validation {
    condition     = length(var.training_data_write_prefixes) > 0 && alltrue([for p in var.training_data_write_prefixes : can(regex("^[A-Za-z0-9][A-Za-z0-9._=-]*(/[A-Za-z0-9._=-]+)*/$", p))])
    error_message = "training_data_write_prefixes must be non-empty folder prefixes ending in / (no wildcard, not the bucket root)."
  }
}

variable "sagemaker_model_prefixes" {
  description = "Prefixes of the artifacts bucket SageMaker reads model data from."
  type        = list(string)
  default     = ["models/"]

  validation {
    condition     = length(var.sagemaker_model_prefixes) > 0 && alltrue([for p in var.sagemaker_model_prefixes : can(regex("^[A-Za-z0-9][A-Za-z0-9._-]*/$", p))])
    error_message = "sagemaker_model_prefixes must be non-empty top-level prefixes ending in /."
  }
}

variable "training_job_deploys_to_sagemaker" {
  description = "Let the training job role deploy champions (rl_core.serving.deploy, FORECOURT_SAGEMAKER): create, update, describe and prune SageMaker models, endpoint configurations and endpoints named <name_prefix>-* (List* on \"*\"), pass only the SageMaker execution role and only to sagemaker.amazonaws.com, read and write model tarballs under sagemaker_deploy_model_prefix."
  type        = bool
  default     = false
}

variable "sagemaker_deploy_model_prefix" {
  description = "Prefix of the artifacts bucket the deploy step uploads model.tar.gz under (modules/serving model_artifacts_s3_uri, as a key prefix ending in /); within sagemaker_model_prefixes, so the execution role can read what is deployed. Used when training_job_deploys_to_sagemaker is on."
  type        = string
  default     = "models/serving/"

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9._-]+)*/$", var.sagemaker_deploy_model_prefix))
    error_message = "sagemaker_deploy_model_prefix must be a folder prefix ending in / (no wildcard, not the bucket root)."
  }

  validation {
    condition     = anytrue([for p in var.sagemaker_model_prefixes : startswith(var.sagemaker_deploy_model_prefix, p)])
    error_message = "sagemaker_deploy_model_prefix must lie under one of sagemaker_model_prefixes: the execution role must be able to read the deployed tarballs."
  }
}

variable "sagemaker_data_capture_prefix" {
  description = "Prefix of the artifacts bucket SageMaker endpoints write data capture to."
  type        = string
  default     = "data-capture/"

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9._-]*/$", var.sagemaker_data_capture_prefix))
    error_message = "sagemaker_data_capture_prefix must be a top-level prefix ending in /."
  }
}

variable "mlflow_artifact_prefix" {
  description = "Prefix of the artifacts bucket the MLflow tracking server owns (its artifact_store_uri)."
  type        = string
  default     = "mlflow/"

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9._-]*/$", var.mlflow_artifact_prefix))
    error_message = "mlflow_artifact_prefix must be a top-level prefix ending in /."
  }
}

variable "mlflow_tracking_server_arn" {
  description = "ARN of the SageMaker MLflow tracking server the training job logs to; null means any tracking server named <name_prefix>* in this account and region."
  type        = string
  default     = null

  validation {
    condition     = var.mlflow_tracking_server_arn == null ? true : can(regex("^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:[0-9]{12}:mlflow-tracking-server/.+$", var.mlflow_tracking_server_arn))
    error_message = "mlflow_tracking_server_arn must be a SageMaker MLflow tracking server ARN."
  }
}

variable "training_log_group_name" {
  description = "CloudWatch log group the training job writes to (Batch's default is /aws/batch/job)."
  type        = string
  default     = "/aws/batch/job"

  validation {
    condition     = can(regex("^[A-Za-z0-9_/.#-]{1,512}$", var.training_log_group_name))
    error_message = "training_log_group_name must be a CloudWatch log group name."
  }
}

variable "metrics_namespace" {
  description = "CloudWatch namespace the training job may put metrics into (rl_core.telemetry: Forecourt)."
  type        = string
  default     = "Forecourt"

  validation {
    condition     = length(var.metrics_namespace) > 0 && !startswith(var.metrics_namespace, "AWS/")
    error_message = "metrics_namespace must be non-empty and not an AWS/ namespace."
  }
}

variable "admin_managed_policy_names" {
  description = "AWS-managed policies (names under arn:aws:iam::aws:policy/) for the admin role. AdministratorAccess is refused: IAM changes go through the deploy role (Terraform)."
  type        = list(string)
  default     = ["PowerUserAccess", "IAMReadOnlyAccess"]

  validation {
    condition     = length(var.admin_managed_policy_names) > 0 && !contains(var.admin_managed_policy_names, "AdministratorAccess")
    error_message = "admin_managed_policy_names must be non-empty and must not contain AdministratorAccess."
  }
}

variable "admin_mfa_max_age_seconds" {
  description = "Maximum age of the MFA authentication with which the admin role may be assumed."
  type        = number
  default     = 3600

  validation {
    condition     = var.admin_mfa_max_age_seconds >= 300 && var.admin_mfa_max_age_seconds <= 43200
    error_message = "admin_mfa_max_age_seconds must be between 300 and 43200."
  }
}

variable "deploy_max_session_duration" {
  description = "Maximum session duration of the deploy role, in seconds."
  type        = number
  default     = 3600

  validation {
    condition     = var.deploy_max_session_duration >= 3600 && var.deploy_max_session_duration <= 14400
    error_message = "deploy_max_session_duration must be between 3600 and 14400."
  }
}

variable "boundary_allowed_services" {
  description = "Service prefixes the permission boundary lets workload roles use at all (what each role may actually do is its own policy)."
  type        = list(string)
  default = [
    "s3", "kms", "logs", "cloudwatch", "ecr", "ecs", "ec2", "autoscaling", "batch",
    "sagemaker", "sagemaker-mlflow", "sns", "sqs", "airflow", "events", "lambda", "tag",
  ]

  validation {
    condition     = length(var.boundary_allowed_services) > 0 && alltrue([for s in var.boundary_allowed_services : can(regex("^[a-z0-9-]+$", s)) && !contains(["iam", "organizations", "cloudtrail", "sts", "account"], s)])
    error_message = "boundary_allowed_services must be service prefixes, and never iam, organizations, cloudtrail, sts or account."
  }
}

variable "protected_role_names" {
  description = "Roles outside this stack's names the deploy role (and every bounded role) may never change or pass: the break-glass roles. The stack's own <name_prefix>-deploy and <name_prefix>-admin are always protected."
  type        = list(string)
  default     = ["OrganizationAccountAccessRole"]

  validation {
    condition     = alltrue([for r in var.protected_role_names : can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", r))])
    error_message = "protected_role_names must be IAM role names (no path, no ARN)."
  }
}

variable "extra_passable_roles" {
  description = "Roles created by other modules (name => the services it is passed to, iam:PassedToService) that the deploy role may pass, besides this module's workload roles; e.g. { \"<name_prefix>-mwaa-execution\" = [\"airflow.amazonaws.com\"] }. Each must be named <name_prefix>-* and carry the permission boundary."
  type        = map(list(string))
  default     = {}

  validation {
    condition = alltrue([
      for name, services in var.extra_passable_roles :
      startswith(name, "${var.name_prefix}-") && !contains(["${var.name_prefix}-deploy", "${var.name_prefix}-admin"], name) &&
      length(services) > 0 && alltrue([for s in services : can(regex("^[a-z0-9.-]+\\.amazonaws\\.com$", s))])
    ])
    error_message = "extra_passable_roles: names must start with <name_prefix>- (never the deploy or admin role), each with at least one service principal (*.amazonaws.com)."
  }
}

variable "extra_log_group_name_prefixes" {
  description = "Further log group name prefixes the deploy role manages, besides /aws/batch/<name_prefix>-*, /aws/sagemaker/Endpoints/<name_prefix>-*, airflow-<name_prefix>-* and /aws/vpc/flow-logs/<name_prefix>*."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for g in var.extra_log_group_name_prefixes : can(regex("^[A-Za-z0-9_/.#-]{3,512}$", g))])
    error_message = "extra_log_group_name_prefixes must be log group name prefixes without wildcards."
  }
}

variable "stack_tag" {
  description = "Tag every EC2 resource of the stack carries (the providers' default_tags set Project = forecourt): the deploy role creates EC2 resources only with it and changes only those carrying it."
  type        = object({ key = string, value = string })
  default     = { key = "Project", value = "forecourt" }

  validation {
    condition     = length(var.stack_tag.key) > 0 && length(var.stack_tag.value) > 0 && !startswith(var.stack_tag.key, "aws:")
    error_message = "stack_tag needs a non-empty key (not aws:*) and value."
  }
}

variable "vpc_arn" {
  description = "Optional ARN of the stack's VPC: when set, the SageMaker execution role may create and delete network interfaces only in it (ec2:Vpc)."
  type        = string
  default     = null

  validation {
    condition     = var.vpc_arn == null ? true : can(regex("^arn:aws[a-z-]*:ec2:[a-z0-9-]+:[0-9]{12}:vpc/vpc-[0-9a-f]+$", var.vpc_arn))
    error_message = "vpc_arn must be a VPC ARN."
  }
}
