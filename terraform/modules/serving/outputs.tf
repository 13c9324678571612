output "endpoint_names" {
  description = "Endpoint name per agent, <name_prefix>-<agent> (InvokeEndpoint's EndpointName; CloudWatch's EndpointName dimension). The endpoints themselves are created by the deploy step (rl_core.serving.deploy)."
  value       = local.endpoint_names
}

output "variant_name" {
  description = "Production variant name of every endpoint (CloudWatch's VariantName dimension)."
  value       = local.variant_name
}

output "volume_kms_key_arn" {
  description = "KMS key on the endpoints' storage volume; null when the instance type has NVMe instance storage (Nitro hardware encryption)."
  value       = local.volume_kms_key_arn
}

output "rollback_alarm_names" {
  description = "Per agent, the CloudWatch alarms SageMaker watches during a blue/green update (AutoRollbackConfiguration): 5XX errors and p99 model latency."
  value       = local.rollback_alarm_names
}

output "rollback_alarm_arns" {
  description = "ARNs of the rollback alarms, by <agent>-<5xx|latency>."
  value       = { for k, a in aws_cloudwatch_metric_alarm.rollback : k => a.arn }
}

output "deploy_config" {
  description = "The deploy step's settings (rl_core.serving.deploy_config.DeployConfig): jsonencode it into FORECOURT_SAGEMAKER."
  value = {
    endpoint_prefix                                = var.name_prefix
    execution_role_arn                             = var.execution_role_arn
    image_uri                                      = var.image_uri
    model_artifacts_uri                            = trimsuffix(var.model_artifacts_s3_uri, "/")
    instance_type                                  = var.instance_type
    instance_count                                 = var.instance_count
    instance_has_local_storage                     = local.instance_has_local_storage
    subnet_ids                                     = var.subnet_ids
    security_group_ids                             = var.security_group_ids
    kms_key_arn                                    = var.kms_key_arn
    data_capture_uri                               = var.data_capture_s3_uri
    data_capture_sampling_percentage               = var.data_capture_sampling_percentage
    container_startup_health_check_timeout_seconds = var.container_startup_health_check_timeout_seconds
    container_environment                          = var.container_environment
    variant_name                                   = local.variant_name
    rollback_alarm_names                           = local.rollback_alarm_names
    traffic_routing                                = var.traffic_routing
    canary_percent                                 = var.canary_percent
    wait_interval_seconds                          = var.wait_interval_seconds
    termination_wait_seconds                       = var.termination_wait_seconds
    maximum_execution_timeout_seconds              = var.maximum_execution_timeout_seconds
    region                                         = data.aws_region.current.name
    tags                                           = var.tags
  }
}
