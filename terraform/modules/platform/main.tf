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
  # the training and mlflow modules name their repositories, queue, job definition, log
  # group and tracking server the same way (the checks at the bottom hold them to it).
  ecr_repository_arns = [
    for r in ["training", "serving"] :
    "arn:${local.partition}:ecr:${local.region}:${local.account}:repository/${var.name_prefix}/${r}"
  ]
  batch_job_queue_name            = "${var.name_prefix}-training"
  batch_job_definition_name       = "${var.name_prefix}-training"
  batch_log_group_name            = "/aws/batch/${var.name_prefix}-training"
  batch_job_queue_arn             = "arn:${local.partition}:batch:${local.region}:${local.account}:job-queue/${local.batch_job_queue_name}"
  batch_job_definition_arn_prefix = "arn:${local.partition}:batch:${local.region}:${local.account}:job-definition/${local.batch_job_definition_name}"
  mlflow_tracking_server_arn      = "arn:${local.partition}:sagemaker:${local.region}:${local.account}:mlflow-tracking-server/${var.name_prefix}-mlflow"
  endpoint_names                  = { for a in local.agents : a => "${var.name_prefix}-${a}" }
  mwaa_environment_name           = "${var.name_prefix}-mwaa"

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
    # the security baseline: Config delivers its snapshots encrypted with this key, Budgets
    # publishes to the (encrypted) alarm topic
    "config.amazonaws.com",
    "budgets.amazonaws.com",
  ]
  admin_role_arns = []
  # the next account of dev -> preprod -> prod decrypts the promotion outbox (through S3)
  promotion_reader_account_ids = var.promotion_reader_account_ids
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
  promotion_reader_account_ids       = var.promotion_reader_account_ids
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
  # the security baseline's budget notifies this topic (the key lets budgets use it: kms above)
  allow_budgets_publish = var.enable_budget
}

# ---- the settings every step reads (rl_core: FORECOURT_*) ------------------------------
# One place for the values the Batch jobs (job definition environment) and the MWAA tasks
# (forecourt.* configuration options) get, and the stack's outputs expose.
locals {
  metrics_namespace = "Forecourt" # rl_core/telemetry/catalogue.py NAMESPACE
  store_prefix      = "store/"    # the store: a folder of the data bucket
  runs_prefix       = "runs/"     # the run folders: a folder of the artifacts bucket
  # the deploy step's model.tar.gz uploads (FORECOURT_SAGEMAKER model_artifacts_uri): under
  # models/, which the SageMaker execution role reads
  serving_model_prefix = "models/serving/"
  store_uri            = "s3://${module.storage.bucket_names["data"]}/${trimsuffix(local.store_prefix, "/")}"
  runs_uri             = "s3://${module.storage.bucket_names["artifacts"]}/${trimsuffix(local.runs_prefix, "/")}"

  # an existing MLflow server (var.mlflow_tracking_uri) wins over the managed one; the
  # validation of var.mlflow_tracking_uri makes sure one of the two exists
  mlflow_tracking_uri = coalesce(var.mlflow_tracking_uri, var.enable_mlflow ? local.mlflow_tracking_server_arn : null)
  mlflow_uri_is_arn   = can(regex("^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:[0-9]{12}:mlflow-tracking-server/[A-Za-z0-9-]+$", local.mlflow_tracking_uri))
  # the tracking server the jobs may use (sagemaker-mlflow:*): the URI's, or the managed one
  mlflow_server_arn_for_iam = local.mlflow_uri_is_arn ? local.mlflow_tracking_uri : local.mlflow_tracking_server_arn

  batch_job_environment = {
    FORECOURT_STORE               = local.store_uri
    FORECOURT_RUNS                = local.runs_uri
    FORECOURT_MLFLOW_TRACKING_URI = local.mlflow_tracking_uri
    FORECOURT_METRICS             = "cloudwatch"
    FORECOURT_METRICS_NAMESPACE   = local.metrics_namespace
    FORECOURT_ENV                 = var.environment
    FORECOURT_SNS_TOPIC_ARN       = module.monitoring.sns_topic_arn
    MLFLOW_DISABLE_TELEMETRY      = "true"
    # the deploy step (rl_core.serving.deploy_config.DeployConfig.from_env): where and how a
    # promoted champion is served; the job role may create and update exactly these
    # endpoints (modules/iam training_job_deploys_to_sagemaker)
    FORECOURT_SAGEMAKER = jsonencode(module.serving.deploy_config)
    # AWS_DEFAULT_REGION: set by the training module
  }
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
  mlflow_tracking_server_arn      = local.mlflow_server_arn_for_iam
  training_log_group_name         = local.batch_log_group_name
  metrics_namespace               = local.metrics_namespace
  # promotions/: the outbox the promotion DAG's Batch jobs publish to (dev) and forward to
  # (preprod): forecourt registry propose/receive --outbox (output promotion_outbox_uri)
  training_artifact_prefixes   = [local.runs_prefix, "models/", "checkpoints/", "reports/", "mlflow/", "promotions/"]
  training_data_write_prefixes = ["${local.store_prefix}recommendations/"]
  # the deploy role may pass these (besides the iam module's own) to exactly these services
  extra_passable_roles = {
    "${var.name_prefix}-mwaa-execution" = ["airflow.amazonaws.com"]
    "${var.name_prefix}-vpc-flow-logs"  = ["vpc-flow-logs.amazonaws.com"]
  }
  # the SageMaker execution role's network interfaces: in this VPC only
  vpc_arn = module.network.vpc_arn
  # the Batch jobs deploy promoted champions (FORECOURT_SAGEMAKER): <name_prefix>-* models,
  # endpoint configurations and endpoints, the SageMaker execution role passed to SageMaker
  training_job_deploys_to_sagemaker = true
  sagemaker_deploy_model_prefix     = local.serving_model_prefix
}

module "training" {
  source               = "../training"
  name_prefix          = var.name_prefix
  tags                 = local.tags
  subnet_ids           = module.network.private_subnet_ids
  security_group_ids   = [module.network.batch_security_group_id]
  instance_types       = var.training_instance_types
  max_vcpus            = var.training_max_vcpus
  job_role_arn         = module.iam.training_job_role_arn
  instance_profile_arn = module.iam.batch_instance_profile_arn
  service_role_arn     = module.iam.batch_service_role_arn
  kms_key_arn          = module.kms.key_arn
  image_tag            = var.image_tag
  job_environment      = local.batch_job_environment
}

module "serving" {
  source              = "../serving"
  name_prefix         = var.name_prefix
  tags                = local.tags
  agents              = local.agents
  image_uri           = "${module.training.ecr_repository_urls["serving"]}:${var.image_tag}"
  execution_role_arn  = module.iam.sagemaker_execution_role_arn
  instance_type       = var.serving_instance_type
  instance_count      = var.serving_instance_count
  kms_key_arn         = module.kms.key_arn
  data_capture_s3_uri = "s3://${module.storage.bucket_names["artifacts"]}/data-capture"
  subnet_ids          = module.network.private_subnet_ids
  security_group_ids  = [module.network.sagemaker_security_group_id]

  # The endpoints are created by the deploy step (rl_core.serving.deploy, FORECOURT_SAGEMAKER =
  # jsonencode(module.serving.deploy_config)) when a champion is promoted; it uploads the
  # tarballs here, under models/ (SageMaker's execution role reads models/, the job role
  # writes it).
  model_artifacts_s3_uri = "s3://${module.storage.bucket_names["artifacts"]}/${trimsuffix(local.serving_model_prefix, "/")}"
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

# ---- what MWAA runs, uploaded from this checkout -----------------------------------------
# dags/*.py; plugins.zip (docker/mwaa/build_plugins.py: the Forecourt plugin and the
# torch-free part of rl_core, built before the plan); the requirements file and the startup
# script (docker/mwaa/). The dags bucket is versioned: MWAA is pinned to the object versions
# uploaded here, so a changed zip, requirements file or script rolls out with the apply.
locals {
  repo_root        = "${path.module}/../../.."
  plugins_zip_path = coalesce(var.plugins_zip_path, "${local.repo_root}/build/mwaa/plugins.zip")
  dag_files = {
    for f in fileset("${local.repo_root}/dags", "*.py") : "dags/${f}" => "${local.repo_root}/dags/${f}"
  }
  mwaa_files = {
    "plugins.zip"      = local.plugins_zip_path
    "requirements.txt" = "${local.repo_root}/docker/mwaa/requirements.txt"
    "startup.sh"       = "${local.repo_root}/docker/mwaa/startup.sh"
  }
  airflow_files = var.upload_airflow_files ? merge(local.dag_files, local.mwaa_files) : {}
}

resource "aws_s3_object" "airflow" {
  for_each    = local.airflow_files
  bucket      = module.storage.bucket_names["dags"]
  key         = each.key
  source      = each.value
  source_hash = fileexists(each.value) ? filemd5(each.value) : null
  kms_key_id  = module.kms.key_arn
  tags        = local.tags

  lifecycle {
    precondition {
      condition = fileexists(each.value)
      error_message = (
        each.key == "plugins.zip"
        ? "${abspath(each.value)} does not exist: build MWAA's plugins.zip first. From the repository root, `python3 docker/mwaa/build_plugins.py` writes build/mwaa/plugins.zip (the default), or `python3 docker/mwaa/build_plugins.py --out <path>` with plugins_zip_path = <path>."
        : "${abspath(each.value)} does not exist (uploaded to the dags bucket as ${each.key})."
      )
    }
  }
}

module "mwaa" {
  count                            = var.enable_mwaa ? 1 : 0
  source                           = "../mwaa"
  name_prefix                      = var.name_prefix
  tags                             = local.tags
  environment                      = var.environment
  subnet_ids                       = slice(module.network.private_subnet_ids, 0, 2)
  security_group_ids               = [module.network.mwaa_security_group_id]
  mwaa_ui_allowed_cidrs            = var.mwaa_ui_allowed_cidrs
  dags_bucket_arn                  = module.storage.bucket_arns["dags"]
  kms_key_arn                      = module.kms.key_arn
  webserver_access_mode            = var.mwaa_webserver_access_mode
  environment_class                = var.mwaa_environment_class
  airflow_version                  = var.airflow_version
  requirements_s3_path             = "requirements.txt"
  requirements_s3_object_version   = try(aws_s3_object.airflow["requirements.txt"].version_id, null)
  plugins_s3_path                  = "plugins.zip"
  plugins_s3_object_version        = try(aws_s3_object.airflow["plugins.zip"].version_id, null)
  startup_script_s3_path           = "startup.sh"
  startup_script_s3_object_version = try(aws_s3_object.airflow["startup.sh"].version_id, null)
  batch_job_queue_arn              = module.training.job_queue_arn
  batch_job_definition_arn_prefix  = local.batch_job_definition_arn_prefix
  batch_log_group_arn              = module.training.log_group_arn
  data_bucket_arn                  = module.storage.bucket_arns["data"]
  store_prefix                     = local.store_prefix
  artifacts_bucket_arn             = module.storage.bucket_arns["artifacts"]
  runs_prefix                      = local.runs_prefix
  sns_topic_arn                    = module.monitoring.sns_topic_arn
  metrics_namespace                = local.metrics_namespace
  mlflow_tracking_uri              = local.mlflow_tracking_uri
  permission_boundary_arn          = module.iam.permission_boundary_arn
  # the promotion DAG's settings (outputs promotion_source_uri / promotion_outbox_uri); an
  # account nobody reads from (prod) gets no outbox option
  promotion_source_uri = local.promotion_source_uri
  promotion_outbox_uri = length(var.promotion_reader_account_ids) > 0 ? module.storage.promotion_outbox_uri : null
}

# the training and mlflow modules must name what the roles and settings were scoped to
check "scoped_names_match" {
  assert {
    condition     = module.training.job_queue_arn == local.batch_job_queue_arn && module.training.job_definition_name == local.batch_job_definition_name
    error_message = "the Batch job queue and job definition are not named ${local.batch_job_queue_name}: the roles are scoped to that name"
  }

  assert {
    condition     = module.training.log_group_name == local.batch_log_group_name
    error_message = "the training jobs do not log to ${local.batch_log_group_name}: the job role is scoped to it"
  }

  assert {
    condition     = toset(values(module.training.ecr_repository_arns)) == toset(local.ecr_repository_arns)
    error_message = "the ECR repositories are not ${var.name_prefix}/training and ${var.name_prefix}/serving: the job and SageMaker roles pull from those"
  }

  assert {
    condition     = !var.enable_mwaa || try(module.mwaa[0].environment_name, local.mwaa_environment_name) == local.mwaa_environment_name
    error_message = "the MWAA environment is not named ${local.mwaa_environment_name}: the dashboard's AWS/MWAA widgets search for that name"
  }

  assert {
    condition     = module.serving.deploy_config.endpoint_prefix == var.name_prefix && module.serving.deploy_config.execution_role_arn == module.iam.sagemaker_execution_role_arn
    error_message = "FORECOURT_SAGEMAKER does not name endpoints ${var.name_prefix}-<agent> deployed with ${var.name_prefix}-sagemaker-execution: the training job role may deploy and pass exactly those"
  }

  assert {
    condition     = !var.enable_mlflow || try(module.mlflow[0].tracking_server_arn, local.mlflow_tracking_server_arn) == local.mlflow_tracking_server_arn
    error_message = "the MLflow tracking server is not named ${var.name_prefix}-mlflow: FORECOURT_MLFLOW_TRACKING_URI and the roles point at that ARN"
  }
}

# ---- the account's security baseline (modules/security_baseline) ---------------------------
module "security_baseline" {
  source                 = "../security_baseline"
  name_prefix            = var.name_prefix
  tags                   = local.tags
  kms_key_arn            = module.kms.key_arn
  sns_topic_arn          = module.monitoring.sns_topic_arn
  enable_guardduty       = var.enable_guardduty
  enable_aws_config      = var.enable_aws_config
  enable_security_hub    = var.enable_security_hub
  enable_access_analyzer = var.enable_access_analyzer
  enable_budget          = var.enable_budget
  monthly_budget_usd     = var.monthly_budget_usd
}

# ---- cross-account promotion: read the upstream account's outbox ----------------------------
# dev proposes -> preprod validates -> prod serves exactly preprod's artifact. The upstream
# account's artifacts bucket lets this account read <bucket>/<prefix>/ (modules/storage
# promotion_reader_account_ids) and its key lets it decrypt through S3 (modules/kms); this
# account's training job role gets the matching identity-side statements here, as a policy of
# its own on the role (modules/iam keeps the role's main policy).
locals {
  promotion_source_prefix = var.promotion_source == null ? null : trim(var.promotion_source.prefix, "/")
  promotion_source_uri    = var.promotion_source == null ? null : "s3://${var.promotion_source.bucket}/${local.promotion_source_prefix}"
  promotion_source_statements = var.promotion_source == null ? [] : [
    {
      sid        = "ReadUpstreamOutboxObjects"
      actions    = ["s3:GetObject", "s3:GetObjectVersion"]
      resources  = ["arn:${local.partition}:s3:::${var.promotion_source.bucket}/${local.promotion_source_prefix}/*"]
      conditions = [{ test = "StringEquals", variable = "s3:ResourceAccount", values = [var.promotion_source.account_id] }]
    },
    {
      sid       = "ListUpstreamOutbox"
      actions   = ["s3:ListBucket"]
      resources = ["arn:${local.partition}:s3:::${var.promotion_source.bucket}"]
      conditions = [
        { test = "StringEquals", variable = "s3:ResourceAccount", values = [var.promotion_source.account_id] },
        { test = "StringLike", variable = "s3:prefix", values = [local.promotion_source_prefix, "${local.promotion_source_prefix}/*"] },
      ]
    },
    {
      # the upstream account's key (its ARN is not needed: any key of that account, and only
      # as S3 uses it to decrypt objects read from the outbox)
      sid       = "DecryptUpstreamOutbox"
      actions   = ["kms:Decrypt", "kms:DescribeKey"]
      resources = ["arn:${local.partition}:kms:${local.region}:${var.promotion_source.account_id}:key/*"]
      conditions = [
        { test = "StringEquals", variable = "kms:ViaService", values = ["s3.${local.region}.amazonaws.com"] },
      ]
    },
  ]
}

data "aws_iam_policy_document" "promotion_source_read" {
  count = var.promotion_source == null ? 0 : 1

  dynamic "statement" {
    for_each = local.promotion_source_statements
    content {
      sid       = statement.value.sid
      effect    = "Allow"
      actions   = statement.value.actions
      resources = statement.value.resources

      dynamic "condition" {
        for_each = statement.value.conditions
        content {
          test     = condition.value.test
          variable = condition.value.variable
          values   = condition.value.values
        }
      }
    }
  }
}

resource "aws_iam_role_policy" "promotion_source_read" {
  count = var.promotion_source == null ? 0 : 1

  name   = "promotion-source-read"
  role   = module.iam.workload_role_names["training_job"]
  policy = data.aws_iam_policy_document.promotion_source_read[0].json
}
