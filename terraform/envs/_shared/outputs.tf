output "stack" {
  description = "Everything the account's stack exposes (see modules/platform/outputs.tf)."
  value = {
    kms_key_arn                = module.forecourt.kms_key_arn
    vpc_id                     = module.forecourt.vpc_id
    bucket_names               = module.forecourt.bucket_names
    sns_topic_arn              = module.forecourt.sns_topic_arn
    dashboard_name             = module.forecourt.dashboard_name
    batch_job_queue_arn        = module.forecourt.batch_job_queue_arn
    batch_job_definition_arn   = module.forecourt.batch_job_definition_arn
    ecr_repository_urls        = module.forecourt.ecr_repository_urls
    endpoint_names             = module.forecourt.endpoint_names
    mlflow_tracking_server_arn = module.forecourt.mlflow_tracking_server_arn
    mwaa_webserver_url         = module.forecourt.mwaa_webserver_url
    admin_role_arn             = module.forecourt.admin_role_arn
    deploy_role_arn            = module.forecourt.deploy_role_arn
  }
}

# ---- the settings the DAG, the jobs and the rehearsal read (docs/deploy.md, "Settings") ---
# `terraform -chdir=terraform/envs/<account> output -raw <name>`

output "batch_job_queue_name" {
  description = "FORECOURT_BATCH_JOB_QUEUE: the Batch job queue of the torch steps (by name)."
  value       = module.forecourt.batch_job_queue_name
}

output "batch_job_queue_arn" {
  description = "ARN of the Batch job queue."
  value       = module.forecourt.batch_job_queue_arn
}

output "batch_job_definition_name" {
  description = "FORECOURT_BATCH_JOB_DEFINITION: the Batch job definition running the step contract (by name: its latest revision)."
  value       = module.forecourt.batch_job_definition_name
}

output "batch_job_definition_arn" {
  description = "ARN of the job definition's current revision."
  value       = module.forecourt.batch_job_definition_arn
}

output "store_uri" {
  description = "FORECOURT_STORE: the pricing data store (s3://<data bucket>/store); deliveries go to <store_uri>/landing/date=YYYY-MM-DD/."
  value       = module.forecourt.store_uri
}

output "runs_uri" {
  description = "FORECOURT_RUNS: the run folders (s3://<artifacts bucket>/runs)."
  value       = module.forecourt.runs_uri
}

output "mlflow_tracking_uri" {
  description = "FORECOURT_MLFLOW_TRACKING_URI: var.mlflow_tracking_uri when set, else the managed tracking server's ARN."
  value       = module.forecourt.mlflow_tracking_uri
}

output "metrics_namespace" {
  description = "FORECOURT_METRICS_NAMESPACE (FORECOURT_METRICS=cloudwatch)."
  value       = module.forecourt.metrics_namespace
}

output "environment" {
  description = "FORECOURT_ENV: dev, preprod or prod."
  value       = module.forecourt.environment
}

output "sns_topic_arn" {
  description = "FORECOURT_SNS_TOPIC_ARN: alarms, failed jobs and failed tasks."
  value       = module.forecourt.sns_topic_arn
}

output "region" {
  description = "AWS_DEFAULT_REGION of the jobs: the stack's region."
  value       = module.forecourt.region
}

output "dags_bucket" {
  description = "The MWAA source bucket (dags/, plugins.zip, requirements.txt, startup.sh)."
  value       = module.forecourt.dags_bucket
}

output "batch_job_environment" {
  description = "Every Batch job's environment, as set in the job definition."
  value       = module.forecourt.batch_job_environment
}

output "sagemaker_deploy_config" {
  description = "FORECOURT_SAGEMAKER, decoded: where and how the deploy step (rl_core.serving.deploy) serves a promoted champion. The Batch jobs get it jsonencoded in their environment."
  value       = module.forecourt.sagemaker_deploy_config
}

output "mwaa_airflow_configuration_options" {
  description = "The MWAA environment's Airflow configuration options, forecourt.* included (null without MWAA)."
  value       = module.forecourt.mwaa_airflow_configuration_options
}

output "promotion_outbox_uri" {
  description = "FORECOURT_PROMOTION_OUTBOX: this account's promotion outbox, s3://<artifacts bucket>/promotions (readable by promotion_reader_account_ids)."
  value       = module.forecourt.promotion_outbox_uri
}

output "promotion_source_uri" {
  description = "FORECOURT_PROMOTION_SOURCE: the upstream account's outbox this account reads, s3://<bucket>/<prefix>; null without promotion_source (dev)."
  value       = module.forecourt.promotion_source_uri
}

output "security_baseline" {
  description = "The account's security baseline (modules/security_baseline): what is on, and its detector, recorder, bucket, rules, standards, analyzer and budget."
  value       = module.forecourt.security_baseline
}
