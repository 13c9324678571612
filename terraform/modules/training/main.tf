# GPU training on AWS Batch: ECR repositories (training, serving), a managed EC2 compute
# environment on the ECS GPU AMI that scales to zero, a job queue and the training job
# definition the Airflow DAG submits: the step contract
# `forecourt pipeline step <step> --plan <plan URI> --agent <agent> --trial <n>`.

data "aws_region" "current" {}

locals {
  name = "${var.name_prefix}-training"

  repositories = toset(["training", "serving"])

  image = "${aws_ecr_repository.this["training"].repository_url}:${var.image_tag}"

  # The step contract (rl_core/pipeline/contract.py): every DAG step that needs torch is
  # this command; Ref:: values come from SubmitJob's parameters, or from the defaults
  # below. "-" means "not given" (a step that takes no agent or trial).
  command = [
    "forecourt", "pipeline", "step", "Ref::step",
    "--plan", "Ref::plan",
    "--agent", "Ref::agent",
    "--trial", "Ref::trial",
  ]
  # step and plan have no default: the DAG passes both on every SubmitJob, and a job
  # submitted without them fails at once on the literal "Ref::step" instead of running a
  # step nobody asked for.
  parameters = merge({ agent = "-", trial = "-" }, var.job_parameter_defaults)

  # boto3 (s3fs, CloudWatch, SNS, the sagemaker-mlflow plugin) needs a region
  environment = merge({ AWS_DEFAULT_REGION = data.aws_region.current.name }, var.job_environment)

  resource_requirements = concat(
    [
      { type = "VCPU", value = tostring(var.job_vcpus) },
      { type = "MEMORY", value = tostring(var.job_memory_mib) },
    ],
    var.gpus_per_job > 0 ? [{ type = "GPU", value = tostring(var.gpus_per_job) }] : [],
  )

  container_properties = merge(
    {
      image                = local.image
      command              = local.command
      jobRoleArn           = var.job_role_arn
      resourceRequirements = local.resource_requirements
      privileged           = false
      environment = [
        for k in sort(keys(local.environment)) : { name = k, value = local.environment[k] }
      ]
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          "awslogs-group"         = aws_cloudwatch_log_group.jobs.name
          "awslogs-region"        = data.aws_region.current.name
          "awslogs-stream-prefix" = "training"
        }
      }
    },
    var.execution_role_arn == null ? {} : { executionRoleArn = var.execution_role_arn },
  )

  lifecycle_policy = {
    rules = [
      {
        rulePriority = 1
        description  = "Expire untagged images after ${var.ecr_untagged_expiry_days} days"
        selection = {
          tagStatus   = "untagged"
          countType   = "sinceImagePushed"
          countUnit   = "days"
          countNumber = var.ecr_untagged_expiry_days
        }
        action = { type = "expire" }
      },
      {
        rulePriority = 2
        description  = "Keep the last ${var.ecr_keep_last_images} images"
        selection = {
          tagStatus   = "any"
          countType   = "imageCountMoreThan"
          countNumber = var.ecr_keep_last_images
        }
        action = { type = "expire" }
      },
    ]
  }
}

# --- images -----------------------------------------------------------------------------

resource "aws_ecr_repository" "this" {
  for_each = local.repositories

  name                 = "${var.name_prefix}/${each.key}"
  image_tag_mutability = "IMMUTABLE"
  force_delete         = var.ecr_force_delete

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = var.kms_key_arn
  }

  tags = merge(var.tags, { Name = "${var.name_prefix}/${each.key}", Image = each.key })
}

resource "aws_ecr_lifecycle_policy" "this" {
  for_each = local.repositories

  repository = aws_ecr_repository.this[each.key].name
  policy     = jsonencode(local.lifecycle_policy)
}

# --- logs ---------------------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "jobs" {
  name              = "/aws/batch/${local.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn

  tags = merge(var.tags, { Name = "/aws/batch/${local.name}" })
}

# --- compute ------------------------------------------------------------------------------

resource "aws_launch_template" "gpu" {
  name_prefix            = "${local.name}-"
  description            = "Forecourt GPU training instances: encrypted root volume, IMDSv2 only"
  update_default_version = true
  ebs_optimized          = true

  block_device_mappings {
    # root device of the Amazon Linux 2 ECS (GPU) AMIs
    device_name = "/dev/xvda"

    ebs {
      volume_size           = var.root_volume_size_gb
      volume_type           = "gp3"
      encrypted             = true
      kms_key_id            = var.kms_key_arn
      delete_on_termination = true
    }
  }

  metadata_options {
    http_endpoint = "enabled"
    http_tokens   = "required"
    # 1: containers (one hop further, on the docker bridge) cannot reach the instance's
    # credentials; jobs get theirs from the job role through the ECS agent instead.
    http_put_response_hop_limit = 1
    instance_metadata_tags      = "disabled"
  }

  monitoring {
    enabled = true
  }

  tag_specifications {
    resource_type = "instance"
    tags          = merge(var.tags, { Name = local.name })
  }

  tag_specifications {
    resource_type = "volume"
    tags          = merge(var.tags, { Name = local.name })
  }

  tags = merge(var.tags, { Name = local.name })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_batch_compute_environment" "gpu" {
  compute_environment_name_prefix = "${local.name}-"
  type                            = "MANAGED"
  state                           = "ENABLED"
  service_role                    = var.service_role_arn

  compute_resources {
    type                = "EC2"
    allocation_strategy = "BEST_FIT_PROGRESSIVE"
    instance_type       = var.instance_types
    instance_role       = var.instance_profile_arn
    min_vcpus           = 0
    desired_vcpus       = 0
    max_vcpus           = var.max_vcpus
    subnets             = var.subnet_ids
    security_group_ids  = var.security_group_ids

    ec2_configuration {
      # the ECS-optimized Amazon Linux AMI with NVIDIA drivers and the container toolkit
      image_type = var.ami_image_type
    }

    launch_template {
      launch_template_id = aws_launch_template.gpu.id
      version            = aws_launch_template.gpu.latest_version
    }

    tags = merge(var.tags, { Name = local.name })
  }

  tags = merge(var.tags, { Name = local.name })

  lifecycle {
    create_before_destroy = true
    # Batch moves desired_vcpus itself as jobs come and go
    ignore_changes = [compute_resources[0].desired_vcpus]
  }
}

resource "aws_batch_job_queue" "training" {
  name     = local.name
  state    = "ENABLED"
  priority = 1

  compute_environment_order {
    order               = 1
    compute_environment = aws_batch_compute_environment.gpu.arn
  }

  tags = merge(var.tags, { Name = local.name })
}

resource "aws_batch_job_definition" "training" {
  name                  = local.name
  type                  = "container"
  platform_capabilities = ["EC2"]
  propagate_tags        = true
  container_properties  = jsonencode(local.container_properties)
  parameters            = local.parameters

  retry_strategy {
    attempts = var.job_attempts

    # a job whose host went away (Spot reclaim, scale-in, hardware) is retried...
    evaluate_on_exit {
      on_status_reason = "Host EC2*"
      action           = "RETRY"
    }

    # ...every other failure (a bug, bad data, a timeout) exits: Airflow owns task retries
    evaluate_on_exit {
      on_reason = "*"
      action    = "EXIT"
    }
  }

  timeout {
    attempt_duration_seconds = var.job_timeout_seconds
  }

  tags = merge(var.tags, { Name = local.name })
}
