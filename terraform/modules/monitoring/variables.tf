variable "name_prefix" {
  description = "Prefix of every name this module creates (e.g. forecourt-prod)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,30}$", var.name_prefix))
    error_message = "name_prefix must match ^[a-z][a-z0-9-]{2,30}$."
  }
}

variable "tags" {
  description = "Tags added to every resource that takes tags."
  type        = map(string)
  default     = {}
}

variable "environment" {
  description = "The account's environment: the value of the Environment dimension that the Python code emits (FORECOURT_ENV)."
  type        = string

  validation {
    condition     = contains(["dev", "preprod", "prod"], var.environment)
    error_message = "environment must be one of dev, preprod, prod."
  }
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key that encrypts the SNS topic. Its key policy must let events.amazonaws.com and cloudwatch.amazonaws.com use it (kms:GenerateDataKey*, kms:Decrypt), or EventBridge and alarms cannot publish."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)."
  }
}

variable "alarm_emails" {
  description = "Email addresses subscribed to the alarm topic (each must confirm the subscription)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for e in var.alarm_emails : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", e))])
    error_message = "Every alarm_emails entry must be an email address."
  }
}

variable "agents" {
  description = "The agents whose per-agent metrics (dimension Agent) are shown and alarmed on."
  type        = list(string)
  default     = ["demand", "profit"]

  validation {
    condition     = length(var.agents) > 0 && alltrue([for a in var.agents : contains(["demand", "profit"], a)])
    error_message = "agents must be a non-empty subset of [\"demand\", \"profit\"]."
  }
}

variable "batch_job_queue_arn" {
  description = "AWS Batch job queue whose FAILED jobs are sent to the topic (EventBridge); null for none."
  type        = string
  default     = null

  validation {
    condition     = var.batch_job_queue_arn == null || can(regex("^arn:aws[a-z-]*:batch:[a-z0-9-]+:[0-9]{12}:job-queue/.+$", var.batch_job_queue_arn))
    error_message = "batch_job_queue_arn must be a Batch job queue ARN or null."
  }
}

variable "endpoint_names" {
  description = "SageMaker endpoints to watch, agent -> endpoint name (modules/serving's endpoint_names); {} for none."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for n in values(var.endpoint_names) : can(regex("^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$", n))])
    error_message = "Every endpoint name must be a valid SageMaker endpoint name."
  }
}

variable "endpoint_variant_name" {
  description = "Production variant name of every endpoint (the AWS/SageMaker VariantName dimension): modules/serving's variant_name output."
  type        = string
  default     = "champion"

  validation {
    condition     = can(regex("^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$", var.endpoint_variant_name))
    error_message = "endpoint_variant_name must be a valid SageMaker variant name."
  }
}

variable "model_latency_p99_threshold_ms" {
  description = "Alarm when an endpoint's p99 ModelLatency stays above this many milliseconds for 15 minutes."
  type        = number
  default     = 1000

  validation {
    condition     = var.model_latency_p99_threshold_ms > 0
    error_message = "model_latency_p99_threshold_ms must be positive."
  }
}

variable "mwaa_environment_name" {
  description = "Name of the MWAA environment whose AWS/MWAA metrics the dashboard shows; null for none."
  type        = string
  default     = null

  validation {
    condition     = var.mwaa_environment_name == null || can(regex("^[a-zA-Z][0-9a-zA-Z_-]{0,79}$", var.mwaa_environment_name))
    error_message = "mwaa_environment_name must be a valid MWAA environment name or null."
  }
}

variable "allow_budgets_publish" {
  description = "Let AWS Budgets of this account publish to the topic (a topic policy statement for budgets.amazonaws.com, aws:SourceAccount and aws:SourceArn arn:aws:budgets::<account>:*): on when a budget notifies the topic. The KMS key must also let budgets.amazonaws.com use it (kms:GenerateDataKey*, kms:Decrypt)."
  type        = bool
  default     = false
}

variable "recommendations_alarm_enabled" {
  description = "Alarm when an agent wrote no recommendations for a day (missing data counts as breaching). Turn off where the DAG is not scheduled daily (e.g. a paused dev account)."
  type        = bool
  default     = true
}

variable "recommendations_window_hours" {
  description = "Hours without RecommendationsWritten (missing data counts) before the recommendations alarm fires: a day plus a grace for a daily run that finishes later than the day before."
  type        = number
  default     = 26

  validation {
    condition     = var.recommendations_window_hours >= 24 && var.recommendations_window_hours <= 168 && floor(var.recommendations_window_hours) == var.recommendations_window_hours
    error_message = "recommendations_window_hours must be a whole number of hours from 24 to 168 (CloudWatch evaluates at most 7 days)."
  }
}
