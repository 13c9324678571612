# One real-time SageMaker endpoint per agent: model (serving image + the agent's champion
# bundle, in the VPC, network-isolated) -> endpoint configuration (KMS, data capture) ->
# endpoint. Model and configuration names carry a hash of their content, so a new image,
# bundle or setting creates new ones first and updates the endpoint in place (SageMaker
# swaps the fleet without downtime), then removes the old ones.

locals {
  agents = toset(var.agents)

  # Nitro instances with NVMe instance storage: SageMaker refuses a volume KMS key there
  # (CreateEndpointConfig fails); their storage is encrypted by the Nitro hardware.
  local_storage_families = [
    "g4dn", "g5", "g6", "g6e", "p4d", "p4de", "p5",
    "m5d", "c5d", "r5d", "m6gd", "c6gd", "r6gd", "m6id", "c6id", "r6id", "trn1", "trn1n",
  ]
  instance_family            = split(".", var.instance_type)[1]
  instance_has_local_storage = coalesce(var.instance_has_local_storage, contains(local.local_storage_families, local.instance_family))
  volume_kms_key_arn         = local.instance_has_local_storage ? null : var.kms_key_arn

  container_environment = {
    for a in var.agents : a => merge(var.container_environment, {
      FORECOURT_AGENT          = a
      FORECOURT_SERVING_SOURCE = "/opt/ml/model"
    })
  }

  model_names = {
    for a in var.agents : a => "${var.name_prefix}-${a}-${substr(sha1(jsonencode({
      image   = var.image_uri
      data    = var.model_data_urls[a]
      env     = local.container_environment[a]
      role    = var.execution_role_arn
      subnets = sort(var.subnet_ids)
      sgs     = sort(var.security_group_ids)
    })), 0, 8)}"
  }

  endpoint_config_names = {
    for a in var.agents : a => "${var.name_prefix}-${a}-${substr(sha1(jsonencode({
      model    = local.model_names[a]
      type     = var.instance_type
      count    = var.instance_count
      kms      = var.kms_key_arn
      local    = local.instance_has_local_storage
      capture  = var.data_capture_s3_uri
      sampling = var.data_capture_sampling_percentage
      startup  = var.container_startup_health_check_timeout_seconds
    })), 0, 8)}"
  }
}

resource "aws_sagemaker_model" "agent" {
  for_each = local.agents

  name                     = local.model_names[each.key]
  execution_role_arn       = var.execution_role_arn
  enable_network_isolation = true

  primary_container {
    image          = var.image_uri
    model_data_url = var.model_data_urls[each.key]
    mode           = "SingleModel"
    environment    = local.container_environment[each.key]
  }

  vpc_config {
    subnets            = var.subnet_ids
    security_group_ids = var.security_group_ids
  }

  tags = merge(var.tags, { Name = local.model_names[each.key], Agent = each.key })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_sagemaker_endpoint_configuration" "agent" {
  for_each = local.agents

  #checkov:skip=CKV_AWS_98:kms_key_arn is set whenever SageMaker accepts one; NVMe instance-storage types (the default ml.g4dn.xlarge) refuse a volume KMS key (CreateEndpointConfig fails) and are encrypted by the Nitro hardware. Data capture is always KMS-encrypted.
  name        = local.endpoint_config_names[each.key]
  kms_key_arn = local.volume_kms_key_arn

  production_variants {
    variant_name                                      = "champion"
    model_name                                        = aws_sagemaker_model.agent[each.key].name
    instance_type                                     = var.instance_type
    initial_instance_count                            = var.instance_count
    initial_variant_weight                            = 1
    container_startup_health_check_timeout_in_seconds = var.container_startup_health_check_timeout_seconds
  }

  data_capture_config {
    enable_capture              = true
    initial_sampling_percentage = var.data_capture_sampling_percentage
    destination_s3_uri          = var.data_capture_s3_uri
    kms_key_id                  = var.kms_key_arn

    capture_options {
      capture_mode = "Input"
    }

    capture_options {
      capture_mode = "Output"
    }

    capture_content_type_header {
      json_content_types = ["application/json"]
    }
  }

  tags = merge(var.tags, { Name = local.endpoint_config_names[each.key], Agent = each.key })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_sagemaker_endpoint" "agent" {
  for_each = local.agents

  name                 = "${var.name_prefix}-${each.key}"
  endpoint_config_name = aws_sagemaker_endpoint_configuration.agent[each.key].name

  tags = merge(var.tags, { Name = "${var.name_prefix}-${each.key}", Agent = each.key })
}
