output "kms_key_arn" {
  description = "The account's customer-managed key."
  value       = module.kms.key_arn
}

output "vpc_id" {
  description = "The account's VPC."
  value       = module.network.vpc_id
}

output "bucket_names" {
  description = "The data, artifacts and dags buckets."
  value       = module.storage.bucket_names
}

output "sns_topic_arn" {
  description = "Alarms, job failures and DAG failure notifications (FORECOURT_SNS_TOPIC_ARN)."
  value       = module.monitoring.sns_topic_arn
}

output "dashboard_name" {
  description = "The CloudWatch dashboard."
  value       = module.monitoring.dashboard_name
}

output "batch_job_queue_arn" {
  description = "ARN of the Batch job queue the DAG submits the torch steps to."
  value       = module.training.job_queue_arn
}

output "batch_job_queue_name" {
  description = "Name of the Batch job queue (FORECOURT_BATCH_JOB_QUEUE; MWAA's forecourt.batch_job_queue)."
  value       = module.training.job_queue_name
}

output "batch_job_definition_arn" {
  description = "ARN of the current revision of the Batch job definition (the step contract on the training image at image_tag)."
  value       = module.training.job_definition_arn
}

output "batch_job_definition_name" {
  description = "Name of the Batch job definition (FORECOURT_BATCH_JOB_DEFINITION; MWAA's forecourt.batch_job_definition): SubmitJob by name runs its latest ACTIVE revision."
  value       = module.training.job_definition_name
}

output "batch_job_command" {
  description = "The job definition's command: forecourt pipeline step Ref::step --plan Ref::plan --agent Ref::agent --trial Ref::trial."
  value       = module.training.job_command
}

output "batch_job_environment" {
  description = "Environment of every Batch job (FORECOURT_* settings and AWS_DEFAULT_REGION): name -> value."
  value       = module.training.job_environment
}

output "batch_log_group_name" {
  description = "CloudWatch log group of the Batch jobs (the Batch operator shows these logs in the Airflow task log)."
  value       = module.training.log_group_name
}

output "store_uri" {
  description = "The pricing data store, a folder of the data bucket (FORECOURT_STORE): deliveries land in <store_uri>/landing/date=YYYY-MM-DD/."
  value       = local.store_uri
}

output "runs_uri" {
  description = "Where the daily runs keep their folders, a folder of the artifacts bucket (FORECOURT_RUNS): plans, step records, checkpoints, bundles, reports."
  value       = local.runs_uri
}

output "mlflow_tracking_uri" {
  description = "The MLflow server every step uses (FORECOURT_MLFLOW_TRACKING_URI): mlflow_tracking_uri when set, else the managed tracking server's ARN."
  value       = local.mlflow_tracking_uri
}

output "metrics_namespace" {
  description = "CloudWatch namespace of Forecourt's metrics (FORECOURT_METRICS_NAMESPACE; FORECOURT_METRICS is cloudwatch)."
  value       = local.metrics_namespace
}

output "environment" {
  description = "The environment name (FORECOURT_ENV; the Environment dimension of every metric)."
  value       = var.environment
}

output "region" {
  description = "The stack's region (AWS_DEFAULT_REGION of the jobs)."
  value       = local.region
}

output "dags_bucket" {
  description = "The MWAA source bucket: dags/, plugins.zip, requirements.txt, startup.sh."
  value       = module.storage.bucket_names["dags"]
}

output "mwaa_environment_name" {
  description = "The MWAA environment (null when MWAA is disabled)."
  value       = var.enable_mwaa ? module.mwaa[0].environment_name : null
}

output "mwaa_airflow_configuration_options" {
  description = "The Airflow configuration options of the MWAA environment, forecourt.* included (null when MWAA is disabled)."
  value       = var.enable_mwaa ? module.mwaa[0].airflow_configuration_options : null
}

output "mwaa_object_versions" {
  description = "S3 object versions MWAA is pinned to: plugins.zip, requirements.txt, startup.sh (empty when the files are not uploaded)."
  value       = { for k, o in aws_s3_object.airflow : k => o.version_id if !startswith(k, "dags/") }
}

output "ecr_repository_urls" {
  description = "Push the training and serving images here."
  value       = module.training.ecr_repository_urls
}

output "endpoint_names" {
  description = "SageMaker endpoints per agent (<name_prefix>-<agent>; created by the deploy step when a champion is promoted)."
  value       = module.serving.endpoint_names
}

output "sagemaker_deploy_config" {
  description = "Settings of the deploy step (rl_core.serving.deploy): jsonencode() into FORECOURT_SAGEMAKER for the process that promotes champions."
  value       = module.serving.deploy_config
}

output "sagemaker_rollback_alarm_names" {
  description = "Per agent, the CloudWatch alarms SageMaker watches to roll a blue/green endpoint update back."
  value       = module.serving.rollback_alarm_names
}

output "mlflow_tracking_server_arn" {
  description = "The managed SageMaker MLflow tracking server (null when enable_mlflow is off); the tracking URI in use is mlflow_tracking_uri."
  value       = var.enable_mlflow ? module.mlflow[0].tracking_server_arn : null
}

output "mwaa_webserver_url" {
  description = "The Airflow UI (null when MWAA is disabled)."
  value       = var.enable_mwaa ? module.mwaa[0].webserver_url : null
}

output "admin_role_arn" {
  description = "The MFA-protected admin role."
  value       = module.iam.admin_role_arn
}

output "deploy_role_arn" {
  description = "The role CI assumes to apply this root."
  value       = module.iam.deploy_role_arn
}

output "security_baseline" {
  description = "The account's security baseline: which parts are on, the GuardDuty detector, the Config recorder, bucket and rules, the Security Hub standards, the Access Analyzer and the budget."
  value = {
    enabled                    = module.security_baseline.enabled
    guardduty_detector_id      = module.security_baseline.guardduty_detector_id
    config_recorder_name       = module.security_baseline.config_recorder_name
    config_bucket_name         = module.security_baseline.config_bucket_name
    config_rule_names          = module.security_baseline.config_rule_names
    security_hub_standard_arns = module.security_baseline.security_hub_standard_arns
    access_analyzer_arn        = module.security_baseline.access_analyzer_arn
    budget_name                = module.security_baseline.budget_name
  }
}

output "promotion_outbox_uri" {
  description = "This account's promotion outbox, s3://<artifacts bucket>/promotions (FORECOURT_PROMOTION_OUTBOX): what it hands to the next account."
  value       = module.storage.promotion_outbox_uri
}

output "promotion_source_uri" {
  description = "The upstream account's outbox this account reads, s3://<bucket>/<prefix> (FORECOURT_PROMOTION_SOURCE); null without promotion_source."
  value       = local.promotion_source_uri
}

output "promotion_source_read_statements" {
  description = "The statements the training job role gets on the upstream outbox (policy promotion-source-read), as built: give the same to any other role that must read it."
  value       = local.promotion_source_statements
}
