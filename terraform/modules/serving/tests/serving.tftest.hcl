# terraform test (mock provider, no AWS): cd terraform/modules/serving && terraform test

mock_provider "aws" {}

variables {
  name_prefix = "forecourt-dev"
  tags        = { Project = "forecourt" }
  image_uri   = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/forecourt-dev/serving:1.2.3"
  model_data_urls = {
    demand = "s3://forecourt-dev-artifacts/serving/demand/model.tar.gz"
    profit = "s3://forecourt-dev-artifacts/serving/profit/model.tar.gz"
  }
  execution_role_arn  = "arn:aws:iam::123456789012:role/forecourt-dev-sagemaker"
  kms_key_arn         = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
  data_capture_s3_uri = "s3://forecourt-dev-artifacts/data-capture"
  subnet_ids          = ["subnet-0a1b2c3d", "subnet-0e1f2a3b"]
  security_group_ids  = ["sg-0a1b2c3d"]
}

run "one_endpoint_per_agent" {
  command = plan

  assert {
    condition     = toset(keys(aws_sagemaker_endpoint.agent)) == toset(["demand", "profit"])
    error_message = "there must be exactly one endpoint per agent"
  }

  assert {
    condition     = length(aws_sagemaker_model.agent) == 2 && length(aws_sagemaker_endpoint_configuration.agent) == 2
    error_message = "there must be one model and one endpoint configuration per agent"
  }

  assert {
    condition     = aws_sagemaker_endpoint.agent["demand"].name == "forecourt-dev-demand" && aws_sagemaker_endpoint.agent["profit"].name == "forecourt-dev-profit"
    error_message = "endpoint names must be <name_prefix>-<agent>"
  }

  assert {
    condition     = alltrue([for a, c in aws_sagemaker_endpoint_configuration.agent : c.production_variants[0].model_name == aws_sagemaker_model.agent[a].name])
    error_message = "each endpoint configuration must serve its own agent's model"
  }

  assert {
    condition     = alltrue([for a, m in aws_sagemaker_model.agent : m.primary_container[0].model_data_url == var.model_data_urls[a]])
    error_message = "each model must load its own agent's bundle"
  }

  assert {
    condition     = alltrue([for a, m in aws_sagemaker_model.agent : m.primary_container[0].environment["FORECOURT_AGENT"] == a])
    error_message = "each container must be told which agent it serves"
  }

  assert {
    condition     = alltrue([for c in aws_sagemaker_endpoint_configuration.agent : c.production_variants[0].instance_type == "ml.g4dn.xlarge"])
    error_message = "endpoints must default to ml.g4dn.xlarge"
  }
}

run "models_are_isolated_in_the_vpc" {
  command = plan

  assert {
    condition     = alltrue([for m in aws_sagemaker_model.agent : m.enable_network_isolation])
    error_message = "every model must have network isolation"
  }

  assert {
    condition = alltrue([
      for m in aws_sagemaker_model.agent :
      toset(m.vpc_config[0].subnets) == toset(var.subnet_ids) && toset(m.vpc_config[0].security_group_ids) == toset(var.security_group_ids)
    ])
    error_message = "every model must run in the given subnets and security groups"
  }

  assert {
    condition     = alltrue([for m in aws_sagemaker_model.agent : m.execution_role_arn == var.execution_role_arn])
    error_message = "every model must use the execution role"
  }
}

run "data_capture_enabled_with_kms" {
  command = plan

  assert {
    condition     = alltrue([for c in aws_sagemaker_endpoint_configuration.agent : c.data_capture_config[0].enable_capture])
    error_message = "data capture must be enabled on every endpoint"
  }

  assert {
    condition     = alltrue([for c in aws_sagemaker_endpoint_configuration.agent : c.data_capture_config[0].kms_key_id == var.kms_key_arn])
    error_message = "data capture must be encrypted with the customer-managed key"
  }

  assert {
    condition     = alltrue([for c in aws_sagemaker_endpoint_configuration.agent : c.data_capture_config[0].destination_s3_uri == var.data_capture_s3_uri])
    error_message = "data capture must write to data_capture_s3_uri"
  }

  assert {
    condition     = alltrue([for c in aws_sagemaker_endpoint_configuration.agent : c.data_capture_config[0].initial_sampling_percentage == 100])
    error_message = "data capture must sample the configured percentage"
  }

  assert {
    condition = alltrue([
      for c in aws_sagemaker_endpoint_configuration.agent :
      toset([for o in c.data_capture_config[0].capture_options : o.capture_mode]) == toset(["Input", "Output"])
    ])
    error_message = "data capture must record requests and responses"
  }
}

run "nvme_instance_type_gets_no_volume_key" {
  # ml.g4dn has NVMe instance storage: SageMaker rejects a volume KMS key there
  command = plan

  assert {
    condition     = alltrue([for c in aws_sagemaker_endpoint_configuration.agent : c.kms_key_arn == null])
    error_message = "an NVMe instance type must not get a volume KMS key (CreateEndpointConfig would fail)"
  }
}

run "kms_on_endpoint_config" {
  command = plan

  variables {
    instance_type = "ml.m5.xlarge"
  }

  assert {
    condition     = alltrue([for c in aws_sagemaker_endpoint_configuration.agent : c.kms_key_arn == var.kms_key_arn])
    error_message = "an EBS-backed instance type must encrypt the endpoint volume with the customer-managed key"
  }

  assert {
    condition     = alltrue([for c in aws_sagemaker_endpoint_configuration.agent : c.data_capture_config[0].kms_key_id == var.kms_key_arn])
    error_message = "data capture must stay encrypted with the customer-managed key"
  }
}

run "new_bundle_renames_model_and_config" {
  command = plan

  variables {
    model_data_urls = {
      demand = "s3://forecourt-dev-artifacts/serving/demand/model-v2.tar.gz"
      profit = "s3://forecourt-dev-artifacts/serving/profit/model.tar.gz"
    }
  }

  assert {
    condition     = aws_sagemaker_model.agent["demand"].name != run.one_endpoint_per_agent.model_names["demand"]
    error_message = "a new bundle must get a new model name (so the endpoint is updated, not left on the old model)"
  }

  assert {
    condition     = aws_sagemaker_model.agent["profit"].name == run.one_endpoint_per_agent.model_names["profit"]
    error_message = "an unchanged agent must keep its model"
  }
}

run "single_agent" {
  command = plan

  variables {
    agents          = ["profit"]
    model_data_urls = { profit = "s3://forecourt-dev-artifacts/serving/profit/model.tar.gz" }
  }

  assert {
    condition     = keys(aws_sagemaker_endpoint.agent) == ["profit"]
    error_message = "only the requested agent gets an endpoint"
  }
}

run "missing_bundle_is_rejected" {
  command = plan

  variables {
    model_data_urls = { demand = "s3://forecourt-dev-artifacts/serving/demand/model.tar.gz" }
  }

  expect_failures = [var.model_data_urls]
}
