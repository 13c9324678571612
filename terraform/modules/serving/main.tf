# What must exist before the first champion is deployed, and nothing that needs a model:
# the endpoint names (deterministic, <name_prefix>-<agent>), the per-agent rollback alarms
# SageMaker watches during a blue/green update, and the settings the deploy step reads
# (output deploy_config -> FORECOURT_SAGEMAKER). The SageMaker Model, EndpointConfig and
# Endpoint are created and updated by rl_core.serving.deploy when a champion is promoted:
# Terraform cannot create them before a model.tar.gz exists (docs/serving.md).

data "aws_region" "current" {}

locals {
  agents = toset(var.agents)

  # Nitro instances with NVMe instance storage: SageMaker refuses a volume KMS key there
  # (CreateEndpointConfig fails); their storage is encrypted by the Nitro hardware.
  # The same list as rl_core/serving/deploy_config.py LOCAL_STORAGE_FAMILIES.
  local_storage_families = [
    "g4dn", "g5", "g6", "g6e", "p4d", "p4de", "p5",
    "m5d", "c5d", "r5d", "m6gd", "c6gd", "r6gd", "m6id", "c6id", "r6id", "trn1", "trn1n",
  ]
  instance_family            = split(".", var.instance_type)[1]
  instance_has_local_storage = coalesce(var.instance_has_local_storage, contains(local.local_storage_families, local.instance_family))
  volume_kms_key_arn         = local.instance_has_local_storage ? null : var.kms_key_arn

  variant_name   = "champion"
  endpoint_names = { for a in var.agents : a => "${var.name_prefix}-${a}" }

  rollback_alarms = {
    for pair in setproduct(var.agents, ["5xx", "latency"]) :
    "${pair[0]}-${pair[1]}" => { agent = pair[0], kind = pair[1] }
  }
  rollback_alarm_names = {
    for a in var.agents : a => [for k in ["5xx", "latency"] : "${var.name_prefix}-${a}-rollback-${k}"]
  }
}

# SageMaker's auto-rollback watches these while a blue/green update bakes: any of them in
# ALARM rolls the endpoint back to the previous fleet. Missing data (no endpoint yet, no
# traffic) is not breaching, so an idle or not yet deployed endpoint never blocks a deploy.
resource "aws_cloudwatch_metric_alarm" "rollback" {
  for_each = local.rollback_alarms

  alarm_name = "${var.name_prefix}-${each.value.agent}-rollback-${each.value.kind}"
  alarm_description = (
    each.value.kind == "5xx"
    ? "Auto-rollback of ${local.endpoint_names[each.value.agent]}: ${var.rollback_5xx_threshold} or more 5XX answers a minute (SageMaker rolls a blue/green update back while this is in ALARM)."
    : "Auto-rollback of ${local.endpoint_names[each.value.agent]}: p99 model latency above ${var.rollback_latency_p99_threshold_ms} ms (SageMaker rolls a blue/green update back while this is in ALARM)."
  )
  namespace           = "AWS/SageMaker"
  metric_name         = each.value.kind == "5xx" ? "Invocation5XXErrors" : "ModelLatency"
  dimensions          = { EndpointName = local.endpoint_names[each.value.agent], VariantName = local.variant_name }
  statistic           = each.value.kind == "5xx" ? "Sum" : null
  extended_statistic  = each.value.kind == "latency" ? "p99" : null
  period              = 60
  evaluation_periods  = var.rollback_alarm_evaluation_periods
  datapoints_to_alarm = var.rollback_alarm_evaluation_periods
  comparison_operator = "GreaterThanOrEqualToThreshold"
  # ModelLatency is in microseconds
  threshold          = each.value.kind == "5xx" ? var.rollback_5xx_threshold : var.rollback_latency_p99_threshold_ms * 1000
  treat_missing_data = "notBreaching"

  tags = merge(var.tags, { Agent = each.value.agent })
}
