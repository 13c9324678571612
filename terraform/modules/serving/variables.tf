variable "name_prefix" {
  description = "Prefix of every name this module creates (e.g. \"forecourt-dev\")."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,30}$", var.name_prefix))
    error_message = "name_prefix must match ^[a-z][a-z0-9-]{2,30}$."
  }

  validation {
    # SageMaker names: alphanumerics separated by single hyphens
    condition     = !endswith(var.name_prefix, "-") && !strcontains(var.name_prefix, "--")
    error_message = "name_prefix must not end with \"-\" or contain \"--\" (SageMaker names)."
  }
}

variable "tags" {
  description = "Tags merged into every taggable resource."
  type        = map(string)
  default     = {}
}

variable "agents" {
  description = "Agents to serve, one endpoint each (demand: litres sold; profit: margin), each with its rollback alarms."
  type        = list(string)
  default     = ["demand", "profit"]

  validation {
    condition     = length(var.agents) >= 1 && length(distinct(var.agents)) == length(var.agents)
    error_message = "agents needs at least one agent, each once."
  }

  validation {
    condition     = alltrue([for a in var.agents : contains(["demand", "profit"], a)])
    error_message = "agents must be among \"demand\" and \"profit\" (rl_core's objectives)."
  }
}

variable "image_uri" {
  description = "Serving image (ECR URI with an immutable tag or digest) implementing SageMaker's GET /ping and POST /invocations on port 8080 (rl_core/serving)."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}\\.dkr\\.ecr\\.[a-z0-9-]+\\.amazonaws\\.com(\\.cn)?/[a-z0-9._/-]+(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[0-9a-f]{64})$", var.image_uri))
    error_message = "image_uri must be an ECR image URI with a tag or a sha256 digest."
  }

  validation {
    condition     = !endswith(var.image_uri, ":latest")
    error_message = "image_uri must not use the \"latest\" tag (the repositories are IMMUTABLE)."
  }
}

variable "model_artifacts_s3_uri" {
  description = "s3:// prefix the deploy step uploads each champion's model.tar.gz under (<prefix>/<agent>/v<version>-<sha12>/model.tar.gz); the SageMaker execution role must be able to read it."
  type        = string

  validation {
    condition     = can(regex("^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$", var.model_artifacts_s3_uri))
    error_message = "model_artifacts_s3_uri must be an s3://bucket[/prefix] URI."
  }
}

variable "execution_role_arn" {
  description = "SageMaker execution role: read the model artifacts, pull the image, write data capture (KMS)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", var.execution_role_arn))
    error_message = "execution_role_arn must be an IAM role ARN."
  }
}

variable "instance_type" {
  description = "Hosting instance type of every endpoint."
  type        = string
  default     = "ml.g4dn.xlarge"

  validation {
    condition     = can(regex("^ml\\.[a-z0-9]+\\.[a-z0-9]+$", var.instance_type))
    error_message = "instance_type must be a SageMaker hosting instance type (ml.family.size)."
  }
}

variable "instance_has_local_storage" {
  description = "Whether instance_type has NVMe instance storage (then SageMaker refuses a volume KMS key: that storage is encrypted by the Nitro hardware). null derives it from the instance family."
  type        = bool
  default     = null
}

variable "instance_count" {
  description = "Initial instance count per endpoint (2 or more for availability-zone redundancy in prod)."
  type        = number
  default     = 1

  validation {
    condition     = var.instance_count >= 1 && floor(var.instance_count) == var.instance_count
    error_message = "instance_count must be a whole number >= 1."
  }
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key: data capture objects and (instance types without local storage) the endpoint's storage volume."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "data_capture_s3_uri" {
  description = "s3:// prefix data capture writes to (each endpoint writes under <prefix>/<endpoint>/...)."
  type        = string

  validation {
    condition     = can(regex("^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$", var.data_capture_s3_uri))
    error_message = "data_capture_s3_uri must be an s3:// URI."
  }
}

variable "data_capture_sampling_percentage" {
  description = "Percentage of requests data capture records (one request a station a day: 100 is cheap)."
  type        = number
  default     = 100

  validation {
    condition     = var.data_capture_sampling_percentage >= 1 && var.data_capture_sampling_percentage <= 100 && floor(var.data_capture_sampling_percentage) == var.data_capture_sampling_percentage
    error_message = "data_capture_sampling_percentage must be a whole number between 1 and 100."
  }
}

variable "subnet_ids" {
  description = "Private subnets of the endpoints' VPC configuration (they need an S3 gateway endpoint to download the model)."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 1 && alltrue([for s in var.subnet_ids : can(regex("^subnet-[0-9a-f]+$", s))])
    error_message = "subnet_ids needs at least one subnet id (subnet-...)."
  }
}

variable "security_group_ids" {
  description = "Security groups of the endpoints' VPC configuration."
  type        = list(string)

  validation {
    condition     = length(var.security_group_ids) >= 1 && alltrue([for s in var.security_group_ids : can(regex("^sg-[0-9a-f]+$", s))])
    error_message = "security_group_ids needs at least one security group id (sg-...)."
  }
}

variable "container_environment" {
  description = "Extra environment variables of the serving container (the deploy step sets FORECOURT_AGENT and FORECOURT_SERVING_SOURCE itself)."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.container_environment) : can(regex("^[A-Z_][A-Z0-9_]*$", k))])
    error_message = "container_environment keys must be UPPER_SNAKE_CASE."
  }
}

variable "container_startup_health_check_timeout_seconds" {
  description = "How long SageMaker waits for the first successful GET /ping (the champion bundle loads and warms up first)."
  type        = number
  default     = 600

  validation {
    condition     = var.container_startup_health_check_timeout_seconds >= 60 && var.container_startup_health_check_timeout_seconds <= 3600
    error_message = "container_startup_health_check_timeout_seconds must be between 60 and 3600."
  }
}

variable "traffic_routing" {
  description = "How a blue/green update shifts traffic to the new fleet: ALL_AT_ONCE, or CANARY (canary_percent of the capacity first, the rest after wait_interval_seconds)."
  type        = string
  default     = "ALL_AT_ONCE"

  validation {
    condition     = contains(["ALL_AT_ONCE", "CANARY"], var.traffic_routing)
    error_message = "traffic_routing must be ALL_AT_ONCE or CANARY."
  }
}

variable "canary_percent" {
  description = "CANARY only: percentage of the new fleet's capacity that takes traffic first."
  type        = number
  default     = 50

  validation {
    condition     = var.canary_percent >= 1 && var.canary_percent <= 99 && floor(var.canary_percent) == var.canary_percent
    error_message = "canary_percent must be a whole number between 1 and 99."
  }
}

variable "wait_interval_seconds" {
  description = "Seconds between traffic shifts of a blue/green update (the canary's baking time; SageMaker watches the rollback alarms meanwhile)."
  type        = number
  default     = 300

  validation {
    condition     = var.wait_interval_seconds >= 0 && var.wait_interval_seconds <= 3600 && floor(var.wait_interval_seconds) == var.wait_interval_seconds
    error_message = "wait_interval_seconds must be a whole number between 0 and 3600."
  }
}

variable "termination_wait_seconds" {
  description = "Seconds the old fleet is kept after all traffic moved (the final baking period: an alarm then still rolls back)."
  type        = number
  default     = 600

  validation {
    condition     = var.termination_wait_seconds >= 0 && var.termination_wait_seconds <= 3600 && floor(var.termination_wait_seconds) == var.termination_wait_seconds
    error_message = "termination_wait_seconds must be a whole number between 0 and 3600."
  }
}

variable "maximum_execution_timeout_seconds" {
  description = "SageMaker rolls an update back when it has not finished after this many seconds."
  type        = number
  default     = 3600

  validation {
    condition     = var.maximum_execution_timeout_seconds >= 600 && var.maximum_execution_timeout_seconds <= 14400 && floor(var.maximum_execution_timeout_seconds) == var.maximum_execution_timeout_seconds
    error_message = "maximum_execution_timeout_seconds must be a whole number between 600 and 14400."
  }
}

variable "rollback_5xx_threshold" {
  description = "Rollback alarm: 5XX answers per minute (Invocation5XXErrors, Sum) at or above which SageMaker rolls an update back."
  type        = number
  default     = 1

  validation {
    condition     = var.rollback_5xx_threshold >= 1 && floor(var.rollback_5xx_threshold) == var.rollback_5xx_threshold
    error_message = "rollback_5xx_threshold must be a whole number >= 1."
  }
}

variable "rollback_latency_p99_threshold_ms" {
  description = "Rollback alarm: p99 ModelLatency in milliseconds at or above which SageMaker rolls an update back (one request prices one station: milliseconds, not seconds)."
  type        = number
  default     = 1000

  validation {
    condition     = var.rollback_latency_p99_threshold_ms > 0 && var.rollback_latency_p99_threshold_ms <= 60000
    error_message = "rollback_latency_p99_threshold_ms must be between 0 (exclusive) and 60000."
  }
}

variable "rollback_alarm_evaluation_periods" {
  description = "Consecutive one-minute periods a rollback alarm's metric must breach before it goes to ALARM."
  type        = number
  default     = 2

  validation {
    condition     = var.rollback_alarm_evaluation_periods >= 1 && var.rollback_alarm_evaluation_periods <= 10 && floor(var.rollback_alarm_evaluation_periods) == var.rollback_alarm_evaluation_periods
    error_message = "rollback_alarm_evaluation_periods must be a whole number between 1 and 10."
  }
}
