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
  description = "Agents to serve, one endpoint each (demand: litres sold; profit: margin)."
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

variable "model_data_urls" {
  description = "Model artifact per agent: s3:// URI of a .tar.gz unpacked into /opt/ml/model (the champion bundle: <agent>/<version>/ and <agent>/CHAMPION)."
  type        = map(string)

  validation {
    condition     = alltrue([for u in values(var.model_data_urls) : can(regex("^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+\\.tar\\.gz$", u))])
    error_message = "every model_data_urls value must be an s3://bucket/key.tar.gz URI."
  }

  validation {
    condition     = alltrue([for a in var.agents : contains(keys(var.model_data_urls), a)])
    error_message = "model_data_urls needs an entry for every agent."
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
  description = "Extra environment variables of the serving container (FORECOURT_AGENT and FORECOURT_SERVING_SOURCE are set by the module)."
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
