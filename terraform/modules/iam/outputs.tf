output "training_job_role_arn" {
  description = "ARN of the Batch training job role (ECS task role)."
  value       = aws_iam_role.workload["training_job"].arn
}

output "batch_instance_role_arn" {
  description = "ARN of the Batch EC2 instance role."
  value       = aws_iam_role.workload["batch_instance"].arn
}

output "batch_instance_profile_arn" {
  description = "ARN of the Batch EC2 instance profile."
  value       = aws_iam_instance_profile.batch.arn
}

output "batch_service_role_arn" {
  description = "ARN of the AWS Batch service role (AWSBatchServiceRole)."
  value       = aws_iam_role.workload["batch_service"].arn
}

output "sagemaker_execution_role_arn" {
  description = "ARN of the SageMaker execution role (endpoints)."
  value       = aws_iam_role.workload["sagemaker_execution"].arn
}

output "mlflow_role_arn" {
  description = "ARN of the SageMaker MLflow tracking server role."
  value       = aws_iam_role.workload["mlflow"].arn
}

output "admin_role_arn" {
  description = "ARN of the admin role (MFA required, 1 h sessions)."
  value       = aws_iam_role.admin.arn
}

output "deploy_role_arn" {
  description = "ARN of the CI/Terraform deploy role."
  value       = aws_iam_role.deploy.arn
}

output "permission_boundary_arn" {
  description = "ARN of the permission boundary policy on every workload role (pass it to modules that create their own workload roles, e.g. mwaa)."
  value       = aws_iam_policy.boundary.arn
}

output "pipeline_operator_policy_arn" {
  description = "ARN of the pipeline-operator policy (submit/inspect/stop training jobs, publish notifications), or null when batch_job_queue_arn/batch_job_definition_arn_prefix are not set."
  value       = one(aws_iam_policy.pipeline_operator[*].arn)
}

output "workload_role_names" {
  description = "Names of the workload roles (all carry the permission boundary), by component."
  value       = { for k, r in aws_iam_role.workload : k => r.name }
}

output "policy_statements" {
  description = "Every permission policy's statements as built, by policy (training_job, sagemaker_execution, mlflow, pipeline_operator, permission_boundary, deploy)."
  value       = local.policy_statements
}

output "trust_statements" {
  description = "Every role's trust policy statements as built, by role."
  value       = local.trust_statements
}
