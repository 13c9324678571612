output "environment_arn" {
  description = "ARN of the MWAA environment."
  value       = aws_mwaa_environment.this.arn
}

output "environment_name" {
  description = "Name of the MWAA environment (CloudWatch's AmazonMWAA Environment dimension; log groups airflow-<name>-*)."
  value       = aws_mwaa_environment.this.name
}

output "webserver_url" {
  description = "Host name of the Airflow UI and REST API (reachable inside the VPC when PRIVATE_ONLY)."
  value       = aws_mwaa_environment.this.webserver_url
}

output "webserver_vpc_endpoint_service" {
  description = "VPC endpoint service of the web server (for a private DNS or a load balancer in front of it)."
  value       = aws_mwaa_environment.this.webserver_vpc_endpoint_service
}

output "execution_role_arn" {
  description = "ARN of the environment's execution role."
  value       = aws_iam_role.execution.arn
}

output "execution_role_name" {
  description = "Name of the environment's execution role."
  value       = aws_iam_role.execution.name
}

output "policy_statements" {
  description = "Every statement of the execution role's policy: {sid, effect, actions, resources, conditions}."
  value       = local.policy_statements
}

output "airflow_configuration_options" {
  description = "The Airflow configuration options set on the environment, forecourt.* included (none are secret)."
  value       = local.airflow_configuration_options
}

output "log_group_arns" {
  description = "CloudWatch log group ARN per Airflow log type."
  value = {
    dag_processing = aws_mwaa_environment.this.logging_configuration[0].dag_processing_logs[0].cloud_watch_log_group_arn
    scheduler      = aws_mwaa_environment.this.logging_configuration[0].scheduler_logs[0].cloud_watch_log_group_arn
    task           = aws_mwaa_environment.this.logging_configuration[0].task_logs[0].cloud_watch_log_group_arn
    webserver      = aws_mwaa_environment.this.logging_configuration[0].webserver_logs[0].cloud_watch_log_group_arn
    worker         = aws_mwaa_environment.this.logging_configuration[0].worker_logs[0].cloud_watch_log_group_arn
  }
}
