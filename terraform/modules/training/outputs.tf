output "job_queue_arn" {
  description = "ARN of the training job queue (SubmitJob's jobQueue)."
  value       = aws_batch_job_queue.training.arn
}

output "job_queue_name" {
  description = "Name of the training job queue."
  value       = aws_batch_job_queue.training.name
}

output "job_definition_arn" {
  description = "ARN of the current revision of the training job definition."
  value       = aws_batch_job_definition.training.arn
}

output "job_definition_arn_prefix" {
  description = "ARN of the training job definition without its revision (for IAM: \"<prefix>\" and \"<prefix>:*\")."
  value       = aws_batch_job_definition.training.arn_prefix
}

output "job_definition_name" {
  description = "Name of the training job definition (SubmitJob's jobDefinition; the latest ACTIVE revision is used)."
  value       = aws_batch_job_definition.training.name
}

output "compute_environment_arn" {
  description = "ARN of the GPU compute environment."
  value       = aws_batch_compute_environment.gpu.arn
}

output "ecr_repository_urls" {
  description = "Repository URLs by image: training, serving."
  value       = { for k, r in aws_ecr_repository.this : k => r.repository_url }
}

output "ecr_repository_arns" {
  description = "Repository ARNs by image: training, serving."
  value       = { for k, r in aws_ecr_repository.this : k => r.arn }
}

output "training_image" {
  description = "The image the job definition runs (training repository URL and image_tag)."
  value       = local.image
}

output "log_group_name" {
  description = "CloudWatch log group of the training jobs (the instance role needs logs:CreateLogStream/PutLogEvents on it)."
  value       = aws_cloudwatch_log_group.jobs.name
}

output "log_group_arn" {
  description = "ARN of the training jobs' log group."
  value       = aws_cloudwatch_log_group.jobs.arn
}

output "launch_template_id" {
  description = "ID of the GPU instances' launch template."
  value       = aws_launch_template.gpu.id
}

output "job_command" {
  description = "The job definition's command: the step contract `forecourt pipeline step Ref::step --plan Ref::plan --agent Ref::agent --trial Ref::trial`."
  value       = local.command
}

output "job_parameter_defaults" {
  description = "Defaults of the job parameters (agent and trial \"-\", i.e. not given; step and plan come with every SubmitJob)."
  value       = local.parameters
}

output "job_environment" {
  description = "Environment of the training container (AWS_DEFAULT_REGION and the FORECOURT_* settings): name -> value."
  value       = local.environment
}
