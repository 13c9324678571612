# One account's Forecourt: every module composed. The env roots (terraform/envs/*) call
# this with their own values; nothing here differs between accounts except through
# variables.

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account   = data.aws_caller_identity.current.account_id
  region    = data.aws_region.current.name
  partition = data.aws_partition.current.partition
  agents    = ["demand", "profit"]
  tags = merge(var.tags, {
    Project     = "forecourt"
    Environment = var.environment
  })

  # Names fixed here so roles can be scoped to resources created later (no cycles):
  # the training module names its repositories, queue and job definition the same way.
  ecr_repository_arns = [
    for r in ["training", "serving"] :
    "arn:${local.partition}:ecr:${local.region}:${local.account}:repository/${var.name_prefix}-${r}"
  ]
  batch_job_queue_arn             = "arn:${local.partition}:batch:${local.region}:${local.account}:job-queue/${var.name_prefix}-training"
  batch_job_definition_arn_prefix = "arn:${local.partition}:batch:${local.region}:${local.account}:job-definition/${var.name_prefix}-training"
  endpoint_names                  = { for a in local.agents : a => "${var.name_prefix}-${a}" }
  mwaa_environment_name           = var.name_prefix

  endpoints_with_nat = ["ecr.api", "ecr.dkr", "logs", "sts"]
  endpoints_without_nat = [
    "ecr.api", "ecr.dkr", "logs", "sts", "monitoring", "kms", "sqs", "sns",
    "ecs", "ecs-agent", "ecs-telemetry", "batch",
    "sagemaker.api", "sagemaker.runtime",
    "airflow.api", "airflow.env", "airflow.ops",
  ]
}

module "kms" {
  source      = "../kms"
  name_prefix = var.name_prefix
  tags        = local.tags
  service_principals = [
    "logs.${local.region}.amazonaws.com",
    "sns.amazonaws.com",
    "events.amazonaws.com",
    "cloudwatch.amazonaws.com",
    "airflow.amazonaws.com",
    "airflow-env.amazonaws.com",
    "sagemaker.amazonaws.com",
    "batch.amazonaws.com",
  ]
  admin_role_arns = []
  # Batch launches the GPU instances through Auto Scaling, whose service-linked role needs
  # the key for the encrypted root volumes (it must exist: docs/deploy.md, step 3)
  key_user_arns = [
    "arn:${local.partition}:iam::${local.account}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling",
  ]
}

module "network" {
  source                   = "../network"
  name_prefix              = var.name_prefix
  tags                     = local.tags
  cidr_block               = var.vpc_cidr
  az_count                 = var.az_count
  enable_nat_gateway       = var.enable_nat_gateway
  single_nat_gateway       = var.single_nat_gateway
  flow_logs_retention_days = 365
  kms_key_arn              = module.kms.key_arn
  permissions_boundary_arn = module.iam.permission_boundary_arn
  # with a NAT gateway, only the endpoints that keep the heavy traffic private (image
  # pulls, logs, credentials; S3 has its free gateway endpoint); without, everything the
  # jobs call (the module's default list)
  interface_endpoint_services = var.enable_nat_gateway ? local.endpoints_with_nat : local.endpoints_without_nat
}

module "storage" {
  source                             = "../storage"
  name_prefix                        = var.name_prefix
  tags                               = local.tags
  kms_key_arn                        = module.kms.key_arn
  noncurrent_version_expiration_days = 90
}

module "monitoring" {
  source                = "../monitoring"
  name_prefix           = var.name_prefix
  tags                  = local.tags
  environment           = var.environment
  kms_key_arn           = module.kms.key_arn
  alarm_emails          = var.alarm_emails
  batch_job_queue_arn   = local.batch_job_queue_arn
  endpoint_names        = local.endpoint_names
  mwaa_environment_name = local.mwaa_environment_name
}

module "iam" {
  source                          = "../iam"
  name_prefix                     = var.name_prefix
  tags                            = local.tags
  data_bucket_arn                 = module.storage.bucket_arns["data"]
  artifacts_bucket_arn            = module.storage.bucket_arns["artifacts"]
  dags_bucket_arn                 = module.storage.bucket_arns["dags"]
  kms_key_arn                     = module.kms.key_arn
  ecr_repository_arns             = local.ecr_repository_arns
  sns_topic_arn                   = module.monitoring.sns_topic_arn
  batch_job_queue_arn             = local.batch_job_queue_arn
  batch_job_definition_arn_prefix = local.batch_job_definition_arn_prefix
  admin_principal_arns            = var.admin_principal_arns
  trusted_account_id              = var.deploy_account_id
}

module "training" {
  source               = "../training"
  name_prefix          = var.name_prefix
  tags                 = local.tags
  subnet_ids           = module.network.private_subnet_ids
  security_group_ids   = [module.network.workload_security_group_id]
  instance_types       = var.training_instance_types
  max_vcpus            = var.training_max_vcpus
  job_role_arn         = module.iam.training_job_role_arn
  instance_profile_arn = module.iam.batch_instance_profile_arn
  service_role_arn     = module.iam.batch_service_role_arn
  kms_key_arn          = module.kms.key_arn
  image_tag            = var.image_tag
}

module "serving" {
  source              = "../serving"
  name_prefix         = var.name_prefix
  tags                = local.tags
  agents              = local.agents
  image_uri           = "${module.training.ecr_repository_urls["serving"]}:${var.image_tag}"
  model_data_urls     = { for a in local.agents : a => "s3://${module.storage.bucket_names["artifacts"]}/models/${a}/model.tar.gz" }
  execution_role_arn  = module.iam.sagemaker_execution_role_arn
  instance_type       = var.serving_instance_type
  instance_count      = var.serving_instance_count
  kms_key_arn         = module.kms.key_arn
  data_capture_s3_uri = "s3://${module.storage.bucket_names["artifacts"]}/data-capture"
  subnet_ids          = module.network.private_subnet_ids
  security_group_ids  = [module.network.workload_security_group_id]
}

module "mlflow" {
  count                = var.enable_mlflow ? 1 : 0
  source               = "../mlflow"
  name_prefix          = var.name_prefix
  tags                 = local.tags
  artifact_store_uri   = "s3://${module.storage.bucket_names["artifacts"]}/mlflow"
  role_arn             = module.iam.mlflow_role_arn
  tracking_server_size = var.mlflow_tracking_server_size
  mlflow_version       = "3.0"
}

# The DAGs, the plugin and the MWAA requirements file, uploaded from this checkout.
locals {
  repo_root = "${path.module}/../../.."
  dag_files = {
    for f in fileset("${local.repo_root}/dags", "*.py") : "dags/${f}" => "${local.repo_root}/dags/${f}"
  }
  plugin_files = {
    for f in fileset("${local.repo_root}/plugins", "*.py") : "plugins/${f}" => "${local.repo_root}/plugins/${f}"
  }
  airflow_files = merge(local.dag_files, local.plugin_files, {
    "requirements.txt" = "${local.repo_root}/docker/mwaa/requirements.txt"
  })
}

resource "aws_s3_object" "airflow" {
  for_each    = var.upload_airflow_files ? local.airflow_files : {}
  bucket      = module.storage.bucket_names["dags"]
  key         = each.key
  source      = each.value
  source_hash = filemd5(each.value)
  kms_key_id  = module.kms.key_arn
  tags        = local.tags
}

module "mwaa" {
  count                           = var.enable_mwaa ? 1 : 0
  source                          = "../mwaa"
  name_prefix                     = var.name_prefix
  tags                            = local.tags
  environment                     = var.environment
  subnet_ids                      = slice(module.network.private_subnet_ids, 0, 2)
  security_group_ids              = [module.network.workload_security_group_id]
  dags_bucket_arn                 = module.storage.bucket_arns["dags"]
  kms_key_arn                     = module.kms.key_arn
  webserver_access_mode           = var.mwaa_webserver_access_mode
  environment_class               = var.mwaa_environment_class
  airflow_version                 = var.airflow_version
  requirements_s3_path            = "requirements.txt"
  batch_job_queue_arn             = module.training.job_queue_arn
  batch_job_definition_arn_prefix = local.batch_job_definition_arn_prefix
  data_bucket_arn                 = module.storage.bucket_arns["data"]
  artifacts_bucket_arn            = module.storage.bucket_arns["artifacts"]
  sns_topic_arn                   = module.monitoring.sns_topic_arn
  permission_boundary_arn         = module.iam.permission_boundary_arn

  depends_on = [aws_s3_object.airflow] # the DAGs and requirements are there first
}

# the training module must name what the roles were scoped to
check "scoped_names_match" {
  assert {
    condition     = module.training.job_queue_arn == local.batch_job_queue_arn
    error_message = "the Batch job queue is not named ${var.name_prefix}-training: the roles are scoped to that name"
  }
}
