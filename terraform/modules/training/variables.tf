variable "name_prefix" {
  description = "Prefix of every name this module creates (e.g. \"forecourt-dev\")."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,30}$", var.name_prefix))
    error_message = "name_prefix must match ^[a-z][a-z0-9-]{2,30}$."
  }

  validation {
    # ECR repository names allow single separators only
    condition     = !endswith(var.name_prefix, "-") && !strcontains(var.name_prefix, "--")
    error_message = "name_prefix must not end with \"-\" or contain \"--\" (ECR repository names)."
  }
}

variable "tags" {
  description = "Tags merged into every taggable resource."
  type        = map(string)
  default     = {}
}

variable "subnet_ids" {
  description = "Private subnets the GPU instances are launched in (no public IPs)."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 1 && alltrue([for s in var.subnet_ids : can(regex("^subnet-[0-9a-f]+$", s))])
    error_message = "subnet_ids needs at least one subnet id (subnet-...)."
  }
}

variable "security_group_ids" {
  description = "Security groups of the GPU instances."
  type        = list(string)

  validation {
    condition     = length(var.security_group_ids) >= 1 && alltrue([for s in var.security_group_ids : can(regex("^sg-[0-9a-f]+$", s))])
    error_message = "security_group_ids needs at least one security group id (sg-...)."
  }
}

variable "allow_cpu_instances" {
  description = "Allow non-GPU instance types in instance_types (tests and cost experiments only; set gpus_per_job = 0 with it)."
  type        = bool
  default     = false
}

variable "instance_types" {
  description = "EC2 instance types of the compute environment. GPU families only (g4dn, g5, g6, p3, p4d) unless allow_cpu_instances is true."
  type        = list(string)
  default     = ["g5.xlarge", "g4dn.xlarge"]

  validation {
    condition     = length(var.instance_types) >= 1 && alltrue([for t in var.instance_types : can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", t))])
    error_message = "instance_types needs at least one EC2 instance type (family.size)."
  }

  validation {
    condition = var.allow_cpu_instances || alltrue([
      for t in var.instance_types : contains(["g4dn", "g5", "g6", "p3", "p4d"], split(".", t)[0])
    ])
    error_message = "instance_types must be GPU families (g4dn, g5, g6, p3, p4d); set allow_cpu_instances = true to allow others."
  }
}

variable "max_vcpus" {
  description = "Most vCPUs the compute environment scales to (4 concurrent trials x 4 vCPUs = 16). It scales to 0 when idle."
  type        = number
  default     = 16

  validation {
    condition     = var.max_vcpus >= 1 && var.max_vcpus <= 1024 && floor(var.max_vcpus) == var.max_vcpus
    error_message = "max_vcpus must be a whole number between 1 and 1024."
  }
}

variable "job_role_arn" {
  description = "IAM role the training container runs as (jobRoleArn): S3 data/artifacts, MLflow, CloudWatch metrics."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", var.job_role_arn))
    error_message = "job_role_arn must be an IAM role ARN."
  }
}

variable "execution_role_arn" {
  description = "Optional ECS task execution role (executionRoleArn), e.g. for secrets; null on EC2 uses the instance role to pull images and write logs."
  type        = string
  default     = null

  validation {
    condition     = var.execution_role_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", var.execution_role_arn))
    error_message = "execution_role_arn must be null or an IAM role ARN."
  }
}

variable "instance_profile_arn" {
  description = "Instance profile of the ECS container instances (AmazonEC2ContainerServiceforEC2Role-like permissions, ECR pull, logs)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:instance-profile/.+$", var.instance_profile_arn))
    error_message = "instance_profile_arn must be an IAM instance profile ARN."
  }
}

variable "service_role_arn" {
  description = "Batch service role; null uses the AWSServiceRoleForBatch service-linked role (recommended)."
  type        = string
  default     = null

  validation {
    condition     = var.service_role_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", var.service_role_arn))
    error_message = "service_role_arn must be null or an IAM role ARN."
  }
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key: EBS root volumes, the job log group and the ECR repositories."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "image_tag" {
  description = "Tag of the training image in the training ECR repository (immutable tags: use the build's git SHA or version, never \"latest\")."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", var.image_tag)) && var.image_tag != "latest"
    error_message = "image_tag must be a valid Docker tag other than \"latest\" (the repositories are IMMUTABLE)."
  }
}

variable "job_vcpus" {
  description = "vCPUs per training job (g4dn.xlarge / g5.xlarge have 4)."
  type        = number
  default     = 4

  validation {
    condition     = var.job_vcpus >= 1 && floor(var.job_vcpus) == var.job_vcpus
    error_message = "job_vcpus must be a whole number >= 1."
  }
}

variable "job_memory_mib" {
  description = "Memory per training job in MiB (leave room for the ECS agent: a 16 GiB instance offers about 15,300 MiB)."
  type        = number
  default     = 14336

  validation {
    condition     = var.job_memory_mib >= 512 && floor(var.job_memory_mib) == var.job_memory_mib
    error_message = "job_memory_mib must be a whole number >= 512."
  }
}

variable "gpus_per_job" {
  description = "GPUs per training job (resourceRequirements GPU). 0 only together with allow_cpu_instances."
  type        = number
  default     = 1

  validation {
    condition     = var.gpus_per_job >= 0 && var.gpus_per_job <= 8 && floor(var.gpus_per_job) == var.gpus_per_job
    error_message = "gpus_per_job must be a whole number between 0 and 8."
  }

  validation {
    condition     = var.gpus_per_job >= 1 || var.allow_cpu_instances
    error_message = "gpus_per_job = 0 needs allow_cpu_instances = true."
  }
}

variable "job_parameter_defaults" {
  description = "Defaults of the job definition's parameters (Ref::step, Ref::plan, Ref::agent, Ref::trial in the command), merged over the module's own: agent = \"-\" and trial = \"-\" (\"-\" is \"not given\"). step and plan have none on purpose: the DAG passes both on every SubmitJob."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.job_parameter_defaults) : contains(["step", "plan", "agent", "trial"], k)])
    error_message = "job_parameter_defaults keys must be among step, plan, agent and trial (the command's Ref:: names)."
  }

  validation {
    condition     = alltrue([for v in values(var.job_parameter_defaults) : length(v) > 0 && length(v) <= 1024])
    error_message = "job_parameter_defaults values must be 1 to 1024 characters."
  }
}

variable "job_environment" {
  description = "Environment of the training container, besides AWS_DEFAULT_REGION (the module sets it to the provider's region): the settings rl_core reads, e.g. FORECOURT_STORE, FORECOURT_RUNS, FORECOURT_MLFLOW_TRACKING_URI, FORECOURT_METRICS, FORECOURT_ENV, FORECOURT_SNS_TOPIC_ARN. Values are stored in the job definition in clear: no secrets."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.job_environment) : can(regex("^[A-Z_][A-Z0-9_]*$", k)) && !startswith(k, "AWS_BATCH") && !startswith(k, "ECS_")])
    error_message = "job_environment keys must be UPPER_SNAKE_CASE and must not start with AWS_BATCH or ECS_ (reserved by Batch and ECS)."
  }

  validation {
    condition     = alltrue([for v in values(var.job_environment) : v != null && length(v) <= 4096])
    error_message = "job_environment values must be set (no null) and at most 4096 characters."
  }

  validation {
    condition     = !anytrue([for k in keys(var.job_environment) : can(regex("(SECRET|PASSWORD|TOKEN|ACCESS_KEY)", k))])
    error_message = "job_environment must not carry secrets (job definitions are readable in clear): use the job role, or a secret reference."
  }
}

variable "job_attempts" {
  description = "Attempts per job (retry only when the host EC2 instance went away; every other failure exits)."
  type        = number
  default     = 3

  validation {
    condition     = var.job_attempts >= 1 && var.job_attempts <= 10 && floor(var.job_attempts) == var.job_attempts
    error_message = "job_attempts must be a whole number between 1 and 10."
  }
}

variable "job_timeout_seconds" {
  description = "Attempt timeout of a training job in seconds (Batch kills the attempt after it)."
  type        = number
  default     = 14400

  validation {
    condition     = var.job_timeout_seconds >= 60 && floor(var.job_timeout_seconds) == var.job_timeout_seconds
    error_message = "job_timeout_seconds must be a whole number >= 60 (Batch's minimum)."
  }
}

variable "root_volume_size_gb" {
  description = "Size of the encrypted gp3 root volume of each GPU instance (the ECS GPU AMI and the CUDA image need room)."
  type        = number
  default     = 100

  validation {
    condition     = var.root_volume_size_gb >= 30 && var.root_volume_size_gb <= 16384
    error_message = "root_volume_size_gb must be between 30 and 16384."
  }
}

variable "log_retention_days" {
  description = "Retention of the job log group, in days."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a CloudWatch Logs retention value (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)."
  }
}

variable "ecr_keep_last_images" {
  description = "The ECR lifecycle policy keeps this many most recent images per repository and expires older ones."
  type        = number
  default     = 30

  validation {
    condition     = var.ecr_keep_last_images >= 1 && floor(var.ecr_keep_last_images) == var.ecr_keep_last_images
    error_message = "ecr_keep_last_images must be a whole number >= 1."
  }
}

variable "ecr_untagged_expiry_days" {
  description = "Untagged images (failed or superseded pushes) expire after this many days."
  type        = number
  default     = 7

  validation {
    condition     = var.ecr_untagged_expiry_days >= 1 && floor(var.ecr_untagged_expiry_days) == var.ecr_untagged_expiry_days
    error_message = "ecr_untagged_expiry_days must be a whole number >= 1."
  }
}

variable "ecr_force_delete" {
  description = "Let terraform destroy delete the ECR repositories even when they still hold images (dev/test only)."
  type        = bool
  default     = false
}

variable "ami_image_type" {
  description = "Batch ec2_configuration image_type: the ECS GPU AMI (Amazon Linux 2 by default; ECS_AL2023_NVIDIA when moving to AL2023)."
  type        = string
  default     = "ECS_AL2_NVIDIA"

  validation {
    condition     = contains(["ECS_AL2_NVIDIA", "ECS_AL2023_NVIDIA"], var.ami_image_type)
    error_message = "ami_image_type must be ECS_AL2_NVIDIA or ECS_AL2023_NVIDIA (a GPU AMI)."
  }
}
