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
  description = "Where the DAG submits training trials."
  value       = module.training.job_queue_arn
}

output "ecr_repository_urls" {
  description = "Push the training and serving images here."
  value       = module.training.ecr_repository_urls
}

output "endpoint_names" {
  description = "SageMaker endpoints per agent."
  value       = module.serving.endpoint_names
}

output "mlflow_tracking_server_arn" {
  description = "FORECOURT_MLFLOW_TRACKING_URI for the registry (null when disabled)."
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
