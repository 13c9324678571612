# Amazon MWAA (Airflow 3) running the Forecourt DAG, with its execution role.
#
# The execution role's policy is built from local.policy_statements, a plain list that is
# also an output, so tests and reviewers can inspect every statement (no wildcard action on
# a wildcard resource anywhere).

data "aws_caller_identity" "current" {}

data "aws_region" "current" {}

data "aws_partition" "current" {}

locals {
  name = "${var.name_prefix}-mwaa"

  partition = data.aws_partition.current.partition
  region    = data.aws_region.current.name
  account   = data.aws_caller_identity.current.account_id

  environment_arn = "arn:${local.partition}:airflow:${local.region}:${local.account}:environment/${local.name}"
  log_groups_arn  = "arn:${local.partition}:logs:${local.region}:${local.account}:log-group:airflow-${local.name}-*"

  dags_bucket_arn  = var.dags_bucket_arn
  data_bucket_name = split(":::", var.data_bucket_arn)[1]
  runs_bucket_name = split(":::", var.artifacts_bucket_arn)[1]
  dags_object_keys = compact([var.requirements_s3_path, var.plugins_s3_path, var.startup_script_s3_path])
  dags_object_arns = concat(["${local.dags_bucket_arn}/${var.dag_s3_path}/*"], [for k in local.dags_object_keys : "${local.dags_bucket_arn}/${k}"])

  # The store (FORECOURT_STORE) is a folder of the data bucket: the tasks read all of it
  # (the sensor lists landing/, calibrate reads pricing/) and write only where validate
  # accepts (pricing/), quarantines (quarantine/) and removes (landing/) deliveries.
  # The run folders (FORECOURT_RUNS) are a folder of the artifacts bucket, read and written.
  store_uri            = "s3://${local.data_bucket_name}/${trimsuffix(var.store_prefix, "/")}"
  runs_uri             = "s3://${local.runs_bucket_name}/${trimsuffix(var.runs_prefix, "/")}"
  store_read_arns      = ["${var.data_bucket_arn}/${var.store_prefix}*"]
  store_write_arns     = [for f in var.store_write_folders : "${var.data_bucket_arn}/${var.store_prefix}${f}*"]
  runs_object_arns     = ["${var.artifacts_bucket_arn}/${var.runs_prefix}*"]
  store_list_prefixes  = [trimsuffix(var.store_prefix, "/"), "${var.store_prefix}*"]
  runs_list_prefixes   = [trimsuffix(var.runs_prefix, "/"), "${var.runs_prefix}*"]
  batch_job_queue_name = element(split("/", var.batch_job_queue_arn), 1)
  batch_job_def_name   = element(split("/", var.batch_job_definition_arn_prefix), 1)

  # a SageMaker tracking server ARN as tracking URI: grant reading its registry (an
  # http(s) URL is a server outside AWS IAM: nothing to grant)
  mlflow_server_arn  = can(regex(local.mlflow_arn_pattern, coalesce(var.mlflow_tracking_uri, "-"))) ? var.mlflow_tracking_uri : null
  mlflow_arn_pattern = "^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:[0-9]{12}:mlflow-tracking-server/[A-Za-z0-9-]+$"

  # MWAA publishes its own environment metrics (namespace AmazonMWAA) with this role;
  # Forecourt's tasks publish theirs under var.metrics_namespace.
  metric_namespaces = distinct([var.metrics_namespace, "AmazonMWAA"])

  # Every permission of the execution role. conditions: list of {test, variable, values}.
  policy_statements = concat(
    [
      {
        sid        = "AirflowPublishMetrics"
        effect     = "Allow"
        actions    = ["airflow:PublishMetrics"]
        resources  = [local.environment_arn]
        conditions = []
      },
      {
        sid    = "DagsBucketMetadata"
        effect = "Allow"
        actions = [
          "s3:ListBucket",
          "s3:GetBucketLocation",
          "s3:GetBucketVersioning",
          "s3:GetBucketPublicAccessBlock",
          "s3:GetEncryptionConfiguration",
        ]
        resources  = [local.dags_bucket_arn]
        conditions = []
      },
      {
        sid        = "DagsBucketRead"
        effect     = "Allow"
        actions    = ["s3:GetObject", "s3:GetObjectVersion"]
        resources  = local.dags_object_arns
        conditions = []
      },
      {
        # MWAA checks that the account blocks public access; the action has no resource type
        sid        = "AccountPublicAccessBlock"
        effect     = "Allow"
        actions    = ["s3:GetAccountPublicAccessBlock"]
        resources  = ["*"]
        conditions = []
      },
      {
        sid    = "AirflowLogs"
        effect = "Allow"
        actions = [
          "logs:CreateLogGroup",
          "logs:CreateLogStream",
          "logs:PutLogEvents",
          "logs:GetLogEvents",
          "logs:GetLogRecord",
          "logs:GetLogGroupFields",
          "logs:GetQueryResults",
        ]
        resources  = [local.log_groups_arn]
        conditions = []
      },
      {
        sid        = "DescribeLogGroups"
        effect     = "Allow"
        actions    = ["logs:DescribeLogGroups"]
        resources  = ["arn:${local.partition}:logs:${local.region}:${local.account}:log-group:*"]
        conditions = []
      },
      {
        # the Celery queue lives in an account owned by MWAA: hence the account wildcard
        sid    = "CeleryQueue"
        effect = "Allow"
        actions = [
          "sqs:ChangeMessageVisibility",
          "sqs:DeleteMessage",
          "sqs:GetQueueAttributes",
          "sqs:GetQueueUrl",
          "sqs:ReceiveMessage",
          "sqs:SendMessage",
        ]
        resources  = ["arn:${local.partition}:sqs:${local.region}:*:airflow-celery-*"]
        conditions = []
      },
      {
        sid        = "KmsViaServices"
        effect     = "Allow"
        actions    = ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*"]
        resources  = [var.kms_key_arn]
        conditions = [{ test = "StringLike", variable = "kms:ViaService", values = ["sqs.${local.region}.amazonaws.com", "s3.${local.region}.amazonaws.com", "sns.${local.region}.amazonaws.com"] }]
      },
      {
        sid     = "BatchSubmit"
        effect  = "Allow"
        actions = ["batch:SubmitJob"]
        resources = [
          var.batch_job_queue_arn,
          var.batch_job_definition_arn_prefix,
          "${var.batch_job_definition_arn_prefix}:*",
        ]
        conditions = []
      },
      {
        # DescribeJobs supports no resource-level permissions
        sid        = "BatchDescribe"
        effect     = "Allow"
        actions    = ["batch:DescribeJobs"]
        resources  = ["*"]
        conditions = []
      },
      {
        sid        = "BatchTerminate"
        effect     = "Allow"
        actions    = ["batch:TerminateJob"]
        resources  = ["arn:${local.partition}:batch:${local.region}:${local.account}:job/*"]
        conditions = []
      },
      {
        sid        = "StoreList"
        effect     = "Allow"
        actions    = ["s3:ListBucket"]
        resources  = [var.data_bucket_arn]
        conditions = [{ test = "StringLike", variable = "s3:prefix", values = local.store_list_prefixes }]
      },
      {
        sid        = "RunsList"
        effect     = "Allow"
        actions    = ["s3:ListBucket"]
        resources  = [var.artifacts_bucket_arn]
        conditions = [{ test = "StringLike", variable = "s3:prefix", values = local.runs_list_prefixes }]
      },
      {
        sid        = "RunBucketsLocation"
        effect     = "Allow"
        actions    = ["s3:GetBucketLocation"]
        resources  = [var.data_bucket_arn, var.artifacts_bucket_arn]
        conditions = []
      },
      {
        sid        = "StoreRead"
        effect     = "Allow"
        actions    = ["s3:GetObject"]
        resources  = local.store_read_arns
        conditions = []
      },
      {
        sid        = "StoreWrite"
        effect     = "Allow"
        actions    = ["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
        resources  = local.store_write_arns
        conditions = []
      },
      {
        sid        = "RunsReadWrite"
        effect     = "Allow"
        actions    = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
        resources  = local.runs_object_arns
        conditions = []
      },
      {
        sid        = "NotifyFailures"
        effect     = "Allow"
        actions    = ["sns:Publish"]
        resources  = [var.sns_topic_arn]
        conditions = []
      },
      {
        # PutMetricData has no resource type: the namespace condition scopes it
        sid        = "PutMetrics"
        effect     = "Allow"
        actions    = ["cloudwatch:PutMetricData"]
        resources  = ["*"]
        conditions = [{ test = "StringEquals", variable = "cloudwatch:namespace", values = local.metric_namespaces }]
      },
    ],
    local.mlflow_server_arn == null ? [] : [
      {
        # the Forecourt plugin's page reads the registry (read-only) from the API server
        sid    = "MlflowRegistryRead"
        effect = "Allow"
        actions = [
          "sagemaker-mlflow:GetExperiment",
          "sagemaker-mlflow:GetExperimentByName",
          "sagemaker-mlflow:GetLatestModelVersions",
          "sagemaker-mlflow:GetMetricHistory",
          "sagemaker-mlflow:GetModelVersion",
          "sagemaker-mlflow:GetModelVersionByAlias",
          "sagemaker-mlflow:GetRegisteredModel",
          "sagemaker-mlflow:GetRun",
          "sagemaker-mlflow:ListArtifacts",
          "sagemaker-mlflow:SearchExperiments",
          "sagemaker-mlflow:SearchModelVersions",
          "sagemaker-mlflow:SearchRegisteredModels",
          "sagemaker-mlflow:SearchRuns",
        ]
        resources  = [local.mlflow_server_arn]
        conditions = []
      },
    ],
    var.batch_log_group_arn == null ? [] : [
      {
        sid        = "BatchJobLogs"
        effect     = "Allow"
        actions    = ["logs:GetLogEvents", "logs:DescribeLogStreams"]
        resources  = [var.batch_log_group_arn, "${var.batch_log_group_arn}:*"]
        conditions = []
      },
    ],
  )

  policy_document = {
    Version = "2012-10-17"
    Statement = [
      for s in local.policy_statements : merge(
        {
          Sid      = s.sid
          Effect   = s.effect
          Action   = s.actions
          Resource = s.resources
        },
        length(s.conditions) == 0 ? {} : {
          Condition = {
            for test in distinct([for c in s.conditions : c.test]) : test => {
              for c in s.conditions : c.variable => c.values if c.test == test
            }
          }
        },
      )
    ]
  }

  assume_role_policy = {
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "MwaaAssumeRole"
        Effect    = "Allow"
        Principal = { Service = ["airflow.amazonaws.com", "airflow-env.amazonaws.com"] }
        Action    = "sts:AssumeRole"
        Condition = {
          StringEquals = { "aws:SourceAccount" = local.account }
          ArnLike      = { "aws:SourceArn" = local.environment_arn }
        }
      },
    ]
  }

  # Custom options reach every Airflow component as AIRFLOW__FORECOURT__<KEY> environment
  # variables (and through airflow.configuration.conf.get("forecourt", "<key>")).
  forecourt_options = merge(
    {
      "forecourt.runner"               = "batch"
      "forecourt.batch_job_queue"      = local.batch_job_queue_name
      "forecourt.batch_job_definition" = local.batch_job_def_name
      "forecourt.batch_deferrable"     = var.batch_deferrable ? "true" : "false"
      "forecourt.store"                = local.store_uri
      "forecourt.runs"                 = local.runs_uri
      "forecourt.metrics"              = "cloudwatch"
      "forecourt.metrics_namespace"    = var.metrics_namespace
      "forecourt.env"                  = var.environment
      "forecourt.sns_topic_arn"        = var.sns_topic_arn
    },
    var.mlflow_tracking_uri == null ? {} : { "forecourt.mlflow_tracking_uri" = var.mlflow_tracking_uri },
    # the promotion DAG's outboxes (dags/forecourt_promotion.py): MWAA refuses an empty
    # option value, so an account without one (dev has no source, prod no outbox) leaves
    # the option out and the DAG reads it as empty
    coalesce(var.promotion_source_uri, "-") == "-" ? {} : { "forecourt.promotion_source" = var.promotion_source_uri },
    coalesce(var.promotion_outbox_uri, "-") == "-" ? {} : { "forecourt.promotion_outbox" = var.promotion_outbox_uri },
  )

  airflow_configuration_options = merge(var.airflow_configuration_options, local.forecourt_options)
}

resource "aws_iam_role" "execution" {
  name                 = "${local.name}-execution"
  description          = "Execution role of the ${local.name} MWAA environment"
  assume_role_policy   = jsonencode(local.assume_role_policy)
  permissions_boundary = var.permission_boundary_arn
  max_session_duration = 3600

  tags = merge(var.tags, { Name = "${local.name}-execution" })
}

resource "aws_iam_role_policy" "execution" {
  name   = "${local.name}-execution"
  role   = aws_iam_role.execution.id
  policy = jsonencode(local.policy_document)
}

# A PRIVATE_ONLY web server is an interface endpoint in the environment's security groups:
# HTTPS from the allowed CIDRs (a VPN, a bastion) reaches the UI; nothing else comes in.
resource "aws_vpc_security_group_ingress_rule" "ui" {
  for_each = toset(var.mwaa_ui_allowed_cidrs)

  security_group_id = var.security_group_ids[0]
  description       = "Airflow UI (HTTPS) from ${each.value}"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = each.value
  tags              = merge(var.tags, { Name = "${local.name}-ui" })
}

resource "aws_mwaa_environment" "this" {
  #checkov:skip=CKV2_AWS_66:PUBLIC_ONLY is a dev choice (the UI still signs in through IAM); the webserver_access_mode validation makes PRIVATE_ONLY mandatory in prod, and the prod plan has it
  name               = local.name
  airflow_version    = var.airflow_version
  environment_class  = var.environment_class
  execution_role_arn = aws_iam_role.execution.arn
  kms_key            = var.kms_key_arn

  source_bucket_arn                = var.dags_bucket_arn
  dag_s3_path                      = var.dag_s3_path
  requirements_s3_path             = var.requirements_s3_path
  requirements_s3_object_version   = var.requirements_s3_path == null ? null : var.requirements_s3_object_version
  plugins_s3_path                  = var.plugins_s3_path
  plugins_s3_object_version        = var.plugins_s3_path == null ? null : var.plugins_s3_object_version
  startup_script_s3_path           = var.startup_script_s3_path
  startup_script_s3_object_version = var.startup_script_s3_path == null ? null : var.startup_script_s3_object_version

  webserver_access_mode           = var.webserver_access_mode
  min_workers                     = var.min_workers
  max_workers                     = var.max_workers
  schedulers                      = var.schedulers
  weekly_maintenance_window_start = var.weekly_maintenance_window_start

  airflow_configuration_options = local.airflow_configuration_options

  network_configuration {
    subnet_ids         = var.subnet_ids
    security_group_ids = var.security_group_ids
  }

  logging_configuration {
    dag_processing_logs {
      enabled   = true
      log_level = var.log_level
    }

    scheduler_logs {
      enabled   = true
      log_level = var.log_level
    }

    task_logs {
      enabled   = true
      log_level = var.log_level
    }

    webserver_logs {
      enabled   = true
      log_level = var.log_level
    }

    worker_logs {
      enabled   = true
      log_level = var.log_level
    }
  }

  tags = merge(var.tags, { Name = local.name })

  # the role's policy must exist before MWAA validates the role
  depends_on = [aws_iam_role_policy.execution]
}
