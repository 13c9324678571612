output "endpoint_names" {
  description = "Endpoint name per agent (InvokeEndpoint's EndpointName; CloudWatch's EndpointName dimension)."
  value       = { for a, e in aws_sagemaker_endpoint.agent : a => e.name }
}

output "endpoint_arns" {
  description = "Endpoint ARN per agent (for sagemaker:InvokeEndpoint grants)."
  value       = { for a, e in aws_sagemaker_endpoint.agent : a => e.arn }
}

output "model_names" {
  description = "SageMaker model name per agent (content-hashed: changes with the image or bundle)."
  value       = { for a, m in aws_sagemaker_model.agent : a => m.name }
}

output "endpoint_config_names" {
  description = "Endpoint configuration name per agent (content-hashed)."
  value       = { for a, c in aws_sagemaker_endpoint_configuration.agent : a => c.name }
}

output "variant_name" {
  description = "Production variant name of every endpoint (CloudWatch's VariantName dimension)."
  value       = "champion"
}

output "volume_kms_key_arn" {
  description = "KMS key on the endpoints' storage volume; null when the instance type has NVMe instance storage (Nitro hardware encryption)."
  value       = local.volume_kms_key_arn
}
