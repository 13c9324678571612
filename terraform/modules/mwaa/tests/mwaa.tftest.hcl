# terraform test (mock provider, no AWS; moto has no MWAA): cd terraform/modules/mwaa && terraform test

mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
    }
  }

  mock_data "aws_region" {
    defaults = {
      name = "eu-west-1"
    }
  }

  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }
}

variables {
  name_prefix                     = "forecourt-prod"
  tags                            = { Project = "forecourt" }
  environment                     = "prod"
  subnet_ids                      = ["subnet-0a1b2c3d", "subnet-0e1f2a3b"]
  security_group_ids              = ["sg-0a1b2c3d"]
  dags_bucket_arn                 = "arn:aws:s3:::forecourt-prod-dags"
  data_bucket_arn                 = "arn:aws:s3:::forecourt-prod-data"
  artifacts_bucket_arn            = "arn:aws:s3:::forecourt-prod-artifacts"
  kms_key_arn                     = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
  batch_job_queue_arn             = "arn:aws:batch:eu-west-1:123456789012:job-queue/forecourt-prod-training"
  batch_job_definition_arn_prefix = "arn:aws:batch:eu-west-1:123456789012:job-definition/forecourt-prod-training"
  sns_topic_arn                   = "arn:aws:sns:eu-west-1:123456789012:forecourt-prod-alerts"
  permission_boundary_arn         = "arn:aws:iam::123456789012:policy/forecourt-prod-boundary"
}

run "prod_webserver_is_private" {
  command = plan

  assert {
    condition     = aws_mwaa_environment.this.webserver_access_mode == "PRIVATE_ONLY"
    error_message = "prod must use PRIVATE_ONLY"
  }

  assert {
    condition     = aws_mwaa_environment.this.name == "forecourt-prod-mwaa"
    error_message = "environment name must be <name_prefix>-mwaa"
  }

  assert {
    condition     = aws_mwaa_environment.this.airflow_version == "3.0.6" && aws_mwaa_environment.this.environment_class == "mw1.small"
    error_message = "defaults must be Airflow 3.0.6 on mw1.small"
  }
}

run "prod_public_webserver_is_rejected" {
  command = plan

  variables {
    webserver_access_mode = "PUBLIC_ONLY"
  }

  expect_failures = [var.webserver_access_mode]
}

run "dev_may_be_public" {
  command = plan

  variables {
    name_prefix           = "forecourt-dev"
    environment           = "dev"
    webserver_access_mode = "PUBLIC_ONLY"
  }

  assert {
    condition     = aws_mwaa_environment.this.webserver_access_mode == "PUBLIC_ONLY"
    error_message = "dev may choose PUBLIC_ONLY"
  }
}

run "all_logs_enabled_at_info" {
  command = plan

  assert {
    condition = alltrue([
      for l in [
        aws_mwaa_environment.this.logging_configuration[0].dag_processing_logs[0],
        aws_mwaa_environment.this.logging_configuration[0].scheduler_logs[0],
        aws_mwaa_environment.this.logging_configuration[0].task_logs[0],
        aws_mwaa_environment.this.logging_configuration[0].webserver_logs[0],
        aws_mwaa_environment.this.logging_configuration[0].worker_logs[0],
      ] : l.enabled && l.log_level == "INFO"
    ])
    error_message = "all five log types (task logs included) must be enabled at INFO"
  }
}

run "kms_network_and_sources" {
  command = plan

  assert {
    condition     = aws_mwaa_environment.this.kms_key == var.kms_key_arn
    error_message = "the environment must be encrypted with the customer-managed key"
  }

  assert {
    condition     = toset(aws_mwaa_environment.this.network_configuration[0].subnet_ids) == toset(var.subnet_ids)
    error_message = "the environment must run in the given private subnets"
  }

  assert {
    condition     = toset(aws_mwaa_environment.this.network_configuration[0].security_group_ids) == toset(var.security_group_ids)
    error_message = "the environment must use the given security groups"
  }

  assert {
    condition = (
      aws_mwaa_environment.this.source_bucket_arn == var.dags_bucket_arn &&
      aws_mwaa_environment.this.dag_s3_path == "dags" &&
      aws_mwaa_environment.this.requirements_s3_path == "requirements.txt" &&
      aws_mwaa_environment.this.plugins_s3_path == "plugins.zip"
    )
    error_message = "dags/, requirements.txt and plugins.zip must come from the dags bucket"
  }

  assert {
    condition     = aws_iam_role.execution.permissions_boundary == var.permission_boundary_arn
    error_message = "the execution role must carry the permissions boundary"
  }
}

run "forecourt_settings_reach_airflow" {
  command = plan

  assert {
    condition = (
      aws_mwaa_environment.this.airflow_configuration_options["forecourt.env"] == "prod" &&
      aws_mwaa_environment.this.airflow_configuration_options["forecourt.metrics"] == "cloudwatch" &&
      aws_mwaa_environment.this.airflow_configuration_options["forecourt.metrics_namespace"] == "Forecourt" &&
      aws_mwaa_environment.this.airflow_configuration_options["forecourt.sns_topic_arn"] == var.sns_topic_arn &&
      aws_mwaa_environment.this.airflow_configuration_options["forecourt.store"] == "s3://forecourt-prod-data/store" &&
      aws_mwaa_environment.this.airflow_configuration_options["forecourt.runs"] == "s3://forecourt-prod-artifacts/runs"
    )
    error_message = "FORECOURT_ENV, _METRICS, _METRICS_NAMESPACE, _SNS_TOPIC_ARN, _STORE and _RUNS must be passed as forecourt.* options"
  }

  assert {
    condition = (
      aws_mwaa_environment.this.airflow_configuration_options["forecourt.runner"] == "batch" &&
      aws_mwaa_environment.this.airflow_configuration_options["forecourt.batch_job_queue"] == "forecourt-prod-training" &&
      aws_mwaa_environment.this.airflow_configuration_options["forecourt.batch_job_definition"] == "forecourt-prod-training" &&
      aws_mwaa_environment.this.airflow_configuration_options["forecourt.batch_deferrable"] == "true"
    )
    error_message = "on MWAA the torch steps run as Batch jobs: runner=batch, the queue and job definition by name, deferrable"
  }

  assert {
    condition     = !contains(keys(aws_mwaa_environment.this.airflow_configuration_options), "forecourt.mlflow_tracking_uri")
    error_message = "without a tracking URI no forecourt.mlflow_tracking_uri option is set"
  }

  assert {
    condition     = alltrue([for k in keys(aws_mwaa_environment.this.airflow_configuration_options) : can(regex("^[a-z][a-z0-9_]*\\.[a-z][a-z0-9_]*$", k))])
    error_message = "every configuration option key must look like section.key"
  }

  assert {
    condition     = alltrue([for v in values(aws_mwaa_environment.this.airflow_configuration_options) : can(regex("^[ -~]+$", v))])
    error_message = "every configuration option value must be non-empty printable ASCII (MWAA's value pattern)"
  }
}

run "promotion_settings_reach_airflow" {
  command = plan

  variables {
    promotion_source_uri = "s3://forecourt-preprod-222222222222-artifacts/promotions"
    promotion_outbox_uri = ""
  }

  assert {
    condition     = aws_mwaa_environment.this.airflow_configuration_options["forecourt.promotion_source"] == "s3://forecourt-preprod-222222222222-artifacts/promotions"
    error_message = "the upstream outbox must reach the promotion DAG as forecourt.promotion_source"
  }

  assert {
    condition     = !contains(keys(aws_mwaa_environment.this.airflow_configuration_options), "forecourt.promotion_outbox")
    error_message = "an empty outbox (prod) must leave forecourt.promotion_outbox out: MWAA refuses empty values"
  }
}

run "no_promotion_settings_by_default" {
  command = plan

  assert {
    condition     = length([for k in keys(aws_mwaa_environment.this.airflow_configuration_options) : k if startswith(k, "forecourt.promotion_")]) == 0
    error_message = "without promotion URIs no forecourt.promotion_* option is set"
  }
}

run "rejects_promotion_uri_with_trailing_slash" {
  command = plan

  variables {
    promotion_outbox_uri = "s3://forecourt-dev-artifacts/promotions/"
  }

  expect_failures = [var.promotion_outbox_uri]
}

run "execution_role_is_least_privilege" {
  command = plan

  assert {
    condition = !anytrue([
      for s in output.policy_statements :
      contains(s.resources, "*") && anytrue([for a in s.actions : a == "*" || endswith(a, ":*")])
    ])
    error_message = "no statement may allow a wildcard action on a wildcard resource"
  }

  assert {
    condition = alltrue(flatten([
      for s in output.policy_statements : [
        for a in s.actions : contains(["s3:GetAccountPublicAccessBlock", "batch:DescribeJobs", "cloudwatch:PutMetricData"], a)
      ] if contains(s.resources, "*")
    ]))
    error_message = "only actions without resource-level permissions may use Resource \"*\""
  }

  assert {
    condition     = alltrue([for s in output.policy_statements : s.effect == "Allow" && !anytrue([for a in s.actions : a == "*"])])
    error_message = "statements must name their actions"
  }

  assert {
    condition     = length(jsondecode(aws_iam_role_policy.execution.policy).Statement) == length(output.policy_statements)
    error_message = "the attached policy must be exactly policy_statements"
  }

  assert {
    condition = anytrue([
      for s in jsondecode(aws_iam_role_policy.execution.policy).Statement :
      contains(try(s.Condition.StringEquals["cloudwatch:namespace"], []), "Forecourt") if s.Action == ["cloudwatch:PutMetricData"]
    ])
    error_message = "PutMetricData must be limited to the Forecourt namespace by condition"
  }

  assert {
    condition = anytrue([
      for s in output.policy_statements :
      s.actions == ["batch:SubmitJob"] && toset(s.resources) == toset([var.batch_job_queue_arn, var.batch_job_definition_arn_prefix, "${var.batch_job_definition_arn_prefix}:*"])
    ])
    error_message = "SubmitJob must be limited to the training queue and job definition"
  }

  assert {
    condition     = anytrue([for s in output.policy_statements : s.actions == ["batch:TerminateJob"] && !contains(s.resources, "*")])
    error_message = "TerminateJob must be scoped to jobs"
  }

  assert {
    condition     = anytrue([for s in output.policy_statements : s.actions == ["sns:Publish"] && s.resources == [var.sns_topic_arn]])
    error_message = "sns:Publish must be limited to the topic"
  }

  assert {
    condition = alltrue(flatten([
      for s in output.policy_statements : [for r in s.resources : can(regex("^arn:aws:sqs:eu-west-1:\\*:airflow-celery-\\*$", r))] if anytrue([for a in s.actions : startswith(a, "sqs:")])
    ]))
    error_message = "SQS access must be limited to MWAA's airflow-celery-* queues"
  }

  assert {
    condition = alltrue(flatten([
      for s in output.policy_statements : [for r in s.resources : r == "arn:aws:logs:eu-west-1:123456789012:log-group:airflow-forecourt-prod-mwaa-*"] if contains(s.actions, "logs:PutLogEvents")
    ]))
    error_message = "log writes must be limited to the environment's airflow-* log groups"
  }

  assert {
    condition = alltrue(flatten([
      for s in output.policy_statements : [for r in s.resources : r == var.kms_key_arn] if anytrue([for a in s.actions : startswith(a, "kms:")])
    ]))
    error_message = "KMS use must be limited to the key"
  }

  assert {
    condition = toset(flatten([
      for s in output.policy_statements : s.resources if s.sid == "DagsBucketRead"
      ])) == toset([
      "arn:aws:s3:::forecourt-prod-dags/dags/*",
      "arn:aws:s3:::forecourt-prod-dags/requirements.txt",
      "arn:aws:s3:::forecourt-prod-dags/plugins.zip",
    ])
    error_message = "the dags bucket must be readable at dags/, plugins.zip and requirements.txt only"
  }

  assert {
    condition = alltrue(flatten([
      for s in output.policy_statements : [
        for r in s.resources : can(regex("^arn:aws:s3:::forecourt-prod-(data/store/(landing|pricing|quarantine)|artifacts/runs)/\\*$", r))
      ] if contains(s.actions, "s3:PutObject")
    ]))
    error_message = "writes must be limited to the store's landing/pricing/quarantine and the run folders"
  }

  assert {
    condition = toset(flatten([
      for s in output.policy_statements : s.resources if contains(s.actions, "s3:GetObject") && s.sid != "DagsBucketRead"
      ])) == toset([
      "arn:aws:s3:::forecourt-prod-data/store/*",
      "arn:aws:s3:::forecourt-prod-artifacts/runs/*",
    ])
    error_message = "reads must be limited to the store and the run folders"
  }

  assert {
    condition = alltrue([
      for s in output.policy_statements : alltrue([for c in s.conditions : c.variable == "s3:prefix" && alltrue([for v in c.values : can(regex("^(store|runs)(/\\*)?$", v))])])
      if contains(s.actions, "s3:ListBucket") && s.resources != [var.dags_bucket_arn]
    ])
    error_message = "listing the data and artifacts buckets must be limited to the store and the run folders"
  }

  assert {
    condition = (
      jsondecode(aws_iam_role.execution.assume_role_policy).Statement[0].Condition.StringEquals["aws:SourceAccount"] == "123456789012" &&
      toset(jsondecode(aws_iam_role.execution.assume_role_policy).Statement[0].Principal.Service) == toset(["airflow.amazonaws.com", "airflow-env.amazonaws.com"])
    )
    error_message = "only MWAA, from this account, may assume the execution role"
  }
}

run "batch_logs_only_when_asked" {
  command = plan

  variables {
    batch_log_group_arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/batch/forecourt-prod-training"
  }

  assert {
    condition = anytrue([
      for s in output.policy_statements :
      contains(s.actions, "logs:GetLogEvents") && toset(s.resources) == toset([var.batch_log_group_arn, "${var.batch_log_group_arn}:*"])
      if s.sid == "BatchJobLogs"
    ])
    error_message = "a batch_log_group_arn must grant reading the job logs (the Batch operator shows them), on that group only"
  }
}

run "no_batch_logs_by_default" {
  command = plan

  assert {
    condition     = !anytrue([for s in output.policy_statements : s.sid == "BatchJobLogs"])
    error_message = "without batch_log_group_arn no job-log statement"
  }
}

run "mlflow_registry_read_only_when_asked" {
  command = plan

  variables {
    mlflow_tracking_uri = "arn:aws:sagemaker:eu-west-1:123456789012:mlflow-tracking-server/forecourt-prod-mlflow"
  }

  assert {
    condition = anytrue([
      for s in output.policy_statements :
      s.resources == [var.mlflow_tracking_uri] && alltrue([for a in s.actions : can(regex("^sagemaker-mlflow:(Get|Search|List)[A-Za-z]+$", a))])
      if s.sid == "MlflowRegistryRead"
    ])
    error_message = "a tracking server ARN must grant read-only registry access to that server only"
  }

  assert {
    condition     = aws_mwaa_environment.this.airflow_configuration_options["forecourt.mlflow_tracking_uri"] == var.mlflow_tracking_uri
    error_message = "the tracking URI must reach the tasks as forecourt.mlflow_tracking_uri"
  }
}

run "mlflow_url_reaches_airflow_without_grants" {
  command = plan

  variables {
    mlflow_tracking_uri = "https://mlflow.forecourt.internal:5000"
  }

  assert {
    condition     = aws_mwaa_environment.this.airflow_configuration_options["forecourt.mlflow_tracking_uri"] == "https://mlflow.forecourt.internal:5000"
    error_message = "an http(s) tracking URI must reach the tasks as forecourt.mlflow_tracking_uri"
  }

  assert {
    condition     = !anytrue([for s in output.policy_statements : anytrue([for a in s.actions : startswith(a, "sagemaker-mlflow:")])])
    error_message = "an MLflow server outside SageMaker needs no IAM grant"
  }
}

run "bad_mlflow_uri_is_rejected" {
  command = plan

  variables {
    mlflow_tracking_uri = "sqlite:///mlflow.db"
  }

  expect_failures = [var.mlflow_tracking_uri]
}

run "startup_script_is_wired_and_readable" {
  command = plan

  variables {
    startup_script_s3_path           = "startup.sh"
    startup_script_s3_object_version = "v3"
    plugins_s3_object_version        = "v2"
    requirements_s3_object_version   = "v1"
  }

  assert {
    condition = (
      aws_mwaa_environment.this.startup_script_s3_path == "startup.sh" &&
      aws_mwaa_environment.this.startup_script_s3_object_version == "v3" &&
      aws_mwaa_environment.this.plugins_s3_object_version == "v2" &&
      aws_mwaa_environment.this.requirements_s3_object_version == "v1"
    )
    error_message = "the startup script and the object versions must reach the environment"
  }

  assert {
    condition     = contains(flatten([for s in output.policy_statements : s.resources if s.sid == "DagsBucketRead"]), "arn:aws:s3:::forecourt-prod-dags/startup.sh")
    error_message = "the execution role must read the startup script"
  }
}

run "no_mlflow_access_by_default" {
  command = plan

  assert {
    condition     = !anytrue([for s in output.policy_statements : anytrue([for a in s.actions : startswith(a, "sagemaker-mlflow:")])])
    error_message = "without a tracking server the role must not get MLflow access"
  }
}

run "airflow_2_is_rejected" {
  command = plan

  variables {
    airflow_version = "2.10.3"
  }

  expect_failures = [var.airflow_version]
}

run "ui_cidrs_get_https_ingress" {
  command = plan

  variables {
    mwaa_ui_allowed_cidrs = ["10.8.0.0/16", "192.168.10.0/24"]
  }

  assert {
    condition = length(aws_vpc_security_group_ingress_rule.ui) == 2 && alltrue([
      for r in aws_vpc_security_group_ingress_rule.ui :
      r.from_port == 443 && r.to_port == 443 && r.ip_protocol == "tcp" && r.security_group_id == var.security_group_ids[0]
    ])
    error_message = "Each allowed CIDR gets HTTPS ingress on the environment's security group."
  }
}

run "no_ui_ingress_by_default" {
  command = plan

  assert {
    condition     = length(aws_vpc_security_group_ingress_rule.ui) == 0
    error_message = "No UI ingress without mwaa_ui_allowed_cidrs."
  }
}

run "ui_cidrs_reject_the_internet" {
  command = plan

  variables {
    mwaa_ui_allowed_cidrs = ["0.0.0.0/0"]
  }

  expect_failures = [var.mwaa_ui_allowed_cidrs]
}

run "ui_cidrs_reject_non_cidrs" {
  command = plan

  variables {
    mwaa_ui_allowed_cidrs = ["10.8.0.0"]
  }

  expect_failures = [var.mwaa_ui_allowed_cidrs]
}
