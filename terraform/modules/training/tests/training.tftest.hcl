# terraform test (mock provider, no AWS): cd terraform/modules/training && terraform test

mock_provider "aws" {
  mock_data "aws_region" {
    defaults = {
      name = "eu-west-1"
    }
  }

  mock_resource "aws_ecr_repository" {
    defaults = {
      repository_url = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/forecourt-dev/training"
      arn            = "arn:aws:ecr:eu-west-1:123456789012:repository/forecourt-dev/training"
    }
  }

  mock_resource "aws_launch_template" {
    defaults = {
      id             = "lt-0123456789abcdef0"
      latest_version = 1
    }
  }

  mock_resource "aws_batch_compute_environment" {
    defaults = {
      arn = "arn:aws:batch:eu-west-1:123456789012:compute-environment/forecourt-dev-training-1"
    }
  }
}

variables {
  name_prefix          = "forecourt-dev"
  tags                 = { Project = "forecourt" }
  subnet_ids           = ["subnet-0a1b2c3d", "subnet-0e1f2a3b"]
  security_group_ids   = ["sg-0a1b2c3d"]
  job_role_arn         = "arn:aws:iam::123456789012:role/forecourt-dev-training-job"
  instance_profile_arn = "arn:aws:iam::123456789012:instance-profile/forecourt-dev-batch"
  kms_key_arn          = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
  image_tag            = "1.2.3"
  job_environment = {
    FORECOURT_STORE = "s3://forecourt-dev-123456789012-data/store"
    FORECOURT_RUNS  = "s3://forecourt-dev-123456789012-artifacts/runs"
  }
}

run "gpu_compute_environment_scales_to_zero" {
  command = plan

  assert {
    condition = alltrue([
      for t in aws_batch_compute_environment.gpu.compute_resources[0].instance_type :
      contains(["g4dn", "g5", "g6", "p3", "p4d"], split(".", t)[0])
    ])
    error_message = "every instance type of the compute environment must be a GPU family"
  }

  assert {
    condition     = toset(aws_batch_compute_environment.gpu.compute_resources[0].instance_type) == toset(["g5.xlarge", "g4dn.xlarge"])
    error_message = "default instance types must be g5.xlarge and g4dn.xlarge"
  }

  assert {
    condition     = aws_batch_compute_environment.gpu.compute_resources[0].min_vcpus == 0
    error_message = "min_vcpus must be 0 (no idle GPU instances)"
  }

  assert {
    condition     = aws_batch_compute_environment.gpu.compute_resources[0].desired_vcpus == 0
    error_message = "desired_vcpus must start at 0"
  }

  assert {
    condition     = aws_batch_compute_environment.gpu.compute_resources[0].max_vcpus == 16
    error_message = "max_vcpus must default to 16"
  }

  assert {
    condition     = aws_batch_compute_environment.gpu.compute_resources[0].allocation_strategy == "BEST_FIT_PROGRESSIVE"
    error_message = "allocation strategy must be BEST_FIT_PROGRESSIVE"
  }

  assert {
    condition     = aws_batch_compute_environment.gpu.compute_resources[0].ec2_configuration[0].image_type == "ECS_AL2_NVIDIA"
    error_message = "the compute environment must use the ECS GPU AMI"
  }

  assert {
    condition     = toset(aws_batch_compute_environment.gpu.compute_resources[0].subnets) == toset(var.subnet_ids)
    error_message = "instances must launch in the given private subnets"
  }

  assert {
    condition     = toset(aws_batch_compute_environment.gpu.compute_resources[0].security_group_ids) == toset(var.security_group_ids)
    error_message = "instances must use the given security groups"
  }

  assert {
    condition     = aws_batch_compute_environment.gpu.type == "MANAGED" && aws_batch_compute_environment.gpu.compute_resources[0].type == "EC2"
    error_message = "the compute environment must be a managed EC2 environment"
  }
}

run "launch_template_encrypts_and_requires_imdsv2" {
  command = plan

  assert {
    condition     = aws_launch_template.gpu.metadata_options[0].http_tokens == "required"
    error_message = "IMDSv2 must be required"
  }

  assert {
    condition     = aws_launch_template.gpu.metadata_options[0].http_put_response_hop_limit == 1
    error_message = "containers must not reach the instance metadata (hop limit 1)"
  }

  assert {
    condition     = aws_launch_template.gpu.block_device_mappings[0].ebs[0].encrypted == "true"
    error_message = "the root volume must be encrypted"
  }

  assert {
    condition     = aws_launch_template.gpu.block_device_mappings[0].ebs[0].kms_key_id == var.kms_key_arn
    error_message = "the root volume must use the customer-managed key"
  }
}

run "ecr_repositories_are_immutable_scanned_and_encrypted" {
  command = plan

  assert {
    condition     = toset(keys(aws_ecr_repository.this)) == toset(["training", "serving"])
    error_message = "there must be a training and a serving repository"
  }

  assert {
    condition     = alltrue([for r in aws_ecr_repository.this : r.image_tag_mutability == "IMMUTABLE"])
    error_message = "every repository must have immutable tags"
  }

  assert {
    condition     = alltrue([for r in aws_ecr_repository.this : r.image_scanning_configuration[0].scan_on_push])
    error_message = "every repository must scan on push"
  }

  assert {
    condition = alltrue([
      for r in aws_ecr_repository.this :
      r.encryption_configuration[0].encryption_type == "KMS" && r.encryption_configuration[0].kms_key == var.kms_key_arn
    ])
    error_message = "every repository must be encrypted with the customer-managed key"
  }

  assert {
    condition = alltrue([
      for p in aws_ecr_lifecycle_policy.this :
      anytrue([for rule in jsondecode(p.policy).rules : rule.selection.countType == "imageCountMoreThan" && rule.selection.countNumber == 30])
    ])
    error_message = "every repository must keep only the last 30 images"
  }

  assert {
    condition     = aws_cloudwatch_log_group.jobs.kms_key_id == var.kms_key_arn
    error_message = "the job log group must be encrypted with the customer-managed key"
  }
}

run "job_definition_runs_the_step_contract_on_one_gpu" {
  command = apply

  assert {
    condition     = jsondecode(aws_batch_job_definition.training.container_properties).command == ["forecourt", "pipeline", "step", "Ref::step", "--plan", "Ref::plan", "--agent", "Ref::agent", "--trial", "Ref::trial"]
    error_message = "the job must run the step contract: forecourt pipeline step Ref::step --plan Ref::plan --agent Ref::agent --trial Ref::trial"
  }

  assert {
    condition     = output.job_command == jsondecode(aws_batch_job_definition.training.container_properties).command
    error_message = "the job_command output must be the job definition's command"
  }

  assert {
    condition     = jsondecode(aws_batch_job_definition.training.container_properties).image == "123456789012.dkr.ecr.eu-west-1.amazonaws.com/forecourt-dev/training:1.2.3"
    error_message = "the job must run the training image at image_tag"
  }

  assert {
    condition = contains(
      jsondecode(aws_batch_job_definition.training.container_properties).resourceRequirements,
      { type = "GPU", value = "1" }
    )
    error_message = "the job must ask for one GPU"
  }

  assert {
    condition     = jsondecode(aws_batch_job_definition.training.container_properties).jobRoleArn == var.job_role_arn
    error_message = "the job must run as the job role"
  }

  assert {
    condition     = !jsondecode(aws_batch_job_definition.training.container_properties).privileged
    error_message = "the job container must not be privileged"
  }

  assert {
    condition     = jsondecode(aws_batch_job_definition.training.container_properties).logConfiguration.options["awslogs-group"] == aws_cloudwatch_log_group.jobs.name
    error_message = "the job must log to the KMS-encrypted log group"
  }

  assert {
    condition     = aws_batch_job_definition.training.parameters == tomap({ agent = "-", trial = "-" })
    error_message = "agent and trial default to \"-\" (not given); step and plan have no default (the DAG passes both)"
  }

  assert {
    condition = jsondecode(aws_batch_job_definition.training.container_properties).environment == [
      { name = "AWS_DEFAULT_REGION", value = "eu-west-1" },
      { name = "FORECOURT_RUNS", value = var.job_environment["FORECOURT_RUNS"] },
      { name = "FORECOURT_STORE", value = var.job_environment["FORECOURT_STORE"] },
    ]
    error_message = "the container gets job_environment, sorted by name, and AWS_DEFAULT_REGION"
  }

  assert {
    condition = (
      aws_batch_job_definition.training.retry_strategy[0].evaluate_on_exit[0].on_status_reason == "Host EC2*" &&
      aws_batch_job_definition.training.retry_strategy[0].evaluate_on_exit[0].action == "RETRY" &&
      aws_batch_job_definition.training.retry_strategy[0].evaluate_on_exit[1].on_reason == "*" &&
      aws_batch_job_definition.training.retry_strategy[0].evaluate_on_exit[1].action == "EXIT"
    )
    error_message = "retry only on host EC2 termination, exit on everything else"
  }

  assert {
    condition     = aws_batch_job_definition.training.timeout[0].attempt_duration_seconds == 14400
    error_message = "the job must have an attempt timeout"
  }

  assert {
    condition     = aws_batch_job_queue.training.compute_environment_order[0].compute_environment == aws_batch_compute_environment.gpu.arn
    error_message = "the queue must feed the GPU compute environment"
  }
}

run "cpu_instance_type_is_rejected" {
  command = plan

  variables {
    instance_types = ["g5.xlarge", "m5.xlarge"]
  }

  expect_failures = [var.instance_types]
}

run "cpu_instances_only_when_allowed" {
  command = apply

  variables {
    instance_types      = ["m5.large"]
    allow_cpu_instances = true
    gpus_per_job        = 0
  }

  assert {
    condition     = !contains([for r in jsondecode(aws_batch_job_definition.training.container_properties).resourceRequirements : r.type], "GPU")
    error_message = "a CPU-only job definition must not ask for a GPU"
  }
}

run "latest_tag_is_rejected" {
  command = plan

  variables {
    image_tag = "latest"
  }

  expect_failures = [var.image_tag]
}

run "parameter_defaults_are_the_commands_ref_names" {
  command = plan

  variables {
    job_parameter_defaults = { step = "train_trial", plan = "s3://bucket/plan.json", trial = "0" }
  }

  assert {
    condition     = aws_batch_job_definition.training.parameters == tomap({ step = "train_trial", plan = "s3://bucket/plan.json", agent = "-", trial = "0" })
    error_message = "job_parameter_defaults are merged over agent = trial = \"-\""
  }
}

run "unknown_parameter_is_rejected" {
  command = plan

  variables {
    job_parameter_defaults = { stage = "train" }
  }

  expect_failures = [var.job_parameter_defaults]
}

run "reserved_environment_is_rejected" {
  command = plan

  variables {
    job_environment = { AWS_BATCH_JOB_ID = "x" }
  }

  expect_failures = [var.job_environment]
}

run "secrets_in_environment_are_rejected" {
  command = plan

  variables {
    job_environment = { MLFLOW_TRACKING_PASSWORD = "hunter2" }
  }

  expect_failures = [var.job_environment]
}
