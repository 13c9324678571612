variable "name_prefix" {
  description = "Prefix of every name this module creates (e.g. forecourt-dev)."
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

variable "cidr_block" {
  description = "IPv4 CIDR of the VPC, /16 to /24. Subnets are carved with 4 extra bits: private subnets take indexes 0..az_count-1, public subnets 8..8+az_count-1."
  type        = string
  default     = "10.0.0.0/16"

  validation {
    condition = (
      can(cidrhost(var.cidr_block, 0)) &&
      tonumber(split("/", var.cidr_block)[1]) >= 16 &&
      tonumber(split("/", var.cidr_block)[1]) <= 24
    )
    error_message = "cidr_block must be a valid IPv4 CIDR between /16 and /24."
  }
}

variable "az_count" {
  description = "Number of availability zones to spread subnets over (2 to 6); one private subnet per AZ."
  type        = number
  default     = 2

  validation {
    condition     = var.az_count >= 2 && var.az_count <= 6 && floor(var.az_count) == var.az_count
    error_message = "az_count must be a whole number between 2 and 6."
  }
}

variable "availability_zones" {
  description = "Optional explicit AZ names to use (the first az_count of them); empty means the first az_count available AZs of the region, in name order."
  type        = list(string)
  default     = []

  validation {
    condition     = length(distinct(var.availability_zones)) == length(var.availability_zones)
    error_message = "availability_zones must not repeat a zone."
  }
}

variable "enable_nat_gateway" {
  description = "Cost switch: create public subnets, an internet gateway and NAT gateway(s) for outbound internet from the private subnets. Off, the private subnets reach AWS only through the VPC endpoints."
  type        = bool
  default     = false
}

variable "single_nat_gateway" {
  description = "With enable_nat_gateway: one shared NAT gateway (cheaper, one AZ is a single point of failure) instead of one per AZ."
  type        = bool
  default     = true
}

variable "flow_logs_retention_days" {
  description = "Retention of the VPC flow log group, in days (a value CloudWatch Logs accepts)."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.flow_logs_retention_days)
    error_message = "flow_logs_retention_days must be one of the values CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)."
  }
}

variable "flow_logs_traffic_type" {
  description = "Traffic captured by the VPC flow log: ALL, ACCEPT or REJECT."
  type        = string
  default     = "ALL"

  validation {
    condition     = contains(["ALL", "ACCEPT", "REJECT"], var.flow_logs_traffic_type)
    error_message = "flow_logs_traffic_type must be ALL, ACCEPT or REJECT."
  }
}

variable "kms_key_arn" {
  description = "ARN of the customer-managed KMS key that encrypts the flow log group (its key policy must let logs.<region>.amazonaws.com use it)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "interface_endpoint_services" {
  description = <<-EOT
    Short names of the interface VPC endpoints to create in the private subnets
    (com.amazonaws.<region>.<name>). The default is what Batch (ECS on EC2), SageMaker
    endpoints/MLflow and MWAA need to run in private subnets without a NAT gateway; see
    the README for which component needs which. Each endpoint costs per AZ-hour: trim
    the list where a NAT gateway is on and cost matters more than keeping traffic private.
  EOT
  type        = list(string)
  default = [
    "ecr.api", "ecr.dkr", "logs", "sts", "monitoring", "kms", "sqs", "sns",
    "ecs", "ecs-agent", "ecs-telemetry", "batch",
    "sagemaker.api", "sagemaker.runtime",
    "airflow.api", "airflow.env", "airflow.ops",
  ]

  validation {
    condition     = alltrue([for s in var.interface_endpoint_services : can(regex("^[a-z0-9][a-z0-9.-]*$", s))]) && length(distinct(var.interface_endpoint_services)) == length(var.interface_endpoint_services)
    error_message = "interface_endpoint_services must be distinct short service names such as ecr.api or logs."
  }
}

variable "permissions_boundary_arn" {
  description = "Optional permissions boundary (e.g. the iam module's permission_boundary_arn) for the flow log role."
  type        = string
  default     = null
}
