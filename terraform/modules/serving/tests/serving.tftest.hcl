# terraform test (mock provider, no AWS): cd terraform/modules/serving && terraform test

mock_provider "aws" {
  override_data {
    target = data.aws_region.current
    values = { name = "eu-west-1" }
  }
}

variables {
  name_prefix            = "forecourt-dev"
  tags                   = { Project = "forecourt" }
  image_uri              = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/forecourt-dev/serving:1.2.3"
  model_artifacts_s3_uri = "s3://forecourt-dev-artifacts/models/serving"
  execution_role_arn     = "arn:aws:iam::123456789012:role/forecourt-dev-sagemaker"
  kms_key_arn            = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
  data_capture_s3_uri    = "s3://forecourt-dev-artifacts/data-capture"
  subnet_ids             = ["subnet-0a1b2c3d", "subnet-0e1f2a3b"]
  security_group_ids     = ["sg-0a1b2c3d"]
}

run "names_and_rollback_alarms_per_agent" {
  command = plan

  assert {
    condition     = output.endpoint_names == { demand = "forecourt-dev-demand", profit = "forecourt-dev-profit" }
    error_message = "endpoint names must be <name_prefix>-<agent>"
  }

  assert {
    condition     = toset(keys(aws_cloudwatch_metric_alarm.rollback)) == toset(["demand-5xx", "demand-latency", "profit-5xx", "profit-latency"])
    error_message = "every agent needs a 5XX and a latency rollback alarm"
  }

  assert {
    condition = output.rollback_alarm_names == {
      demand = ["forecourt-dev-demand-rollback-5xx", "forecourt-dev-demand-rollback-latency"]
      profit = ["forecourt-dev-profit-rollback-5xx", "forecourt-dev-profit-rollback-latency"]
    }
    error_message = "rollback_alarm_names must list each agent's two alarms"
  }

  assert {
    condition     = alltrue([for k, a in aws_cloudwatch_metric_alarm.rollback : contains(output.rollback_alarm_names[split("-", k)[0]], a.alarm_name)])
    error_message = "the alarms created must be the ones rollback_alarm_names names"
  }

  assert {
    condition = alltrue([for k, a in aws_cloudwatch_metric_alarm.rollback :
      a.namespace == "AWS/SageMaker" && length(a.dimensions) == 2 &&
      a.dimensions["EndpointName"] == "forecourt-dev-${split("-", k)[0]}" && a.dimensions["VariantName"] == "champion"
    ])
    error_message = "each alarm must watch its agent's endpoint and the champion variant"
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.rollback["profit-5xx"].metric_name == "Invocation5XXErrors" &&
      aws_cloudwatch_metric_alarm.rollback["profit-5xx"].statistic == "Sum" &&
      aws_cloudwatch_metric_alarm.rollback["profit-5xx"].threshold == 1 &&
      aws_cloudwatch_metric_alarm.rollback["profit-latency"].metric_name == "ModelLatency" &&
      aws_cloudwatch_metric_alarm.rollback["profit-latency"].extended_statistic == "p99" &&
      aws_cloudwatch_metric_alarm.rollback["profit-latency"].threshold == 1000000
    )
    error_message = "5XX: Sum >= 1 a minute; latency: p99 >= 1000 ms (ModelLatency is in microseconds)"
  }

  assert {
    condition     = alltrue([for a in aws_cloudwatch_metric_alarm.rollback : a.treat_missing_data == "notBreaching" && a.period == 60])
    error_message = "missing data (no endpoint yet, no traffic) must not breach: an idle endpoint never blocks a deploy"
  }
}

run "deploy_config_matches_rl_core" {
  command = plan

  assert {
    condition = toset(keys(output.deploy_config)) == toset([
      "endpoint_prefix", "execution_role_arn", "image_uri", "model_artifacts_uri", "instance_type",
      "instance_count", "instance_has_local_storage", "subnet_ids", "security_group_ids",
      "kms_key_arn", "data_capture_uri", "data_capture_sampling_percentage",
      "container_startup_health_check_timeout_seconds", "container_environment", "variant_name",
      "rollback_alarm_names", "traffic_routing", "canary_percent", "wait_interval_seconds",
      "termination_wait_seconds", "maximum_execution_timeout_seconds", "region", "tags",
    ])
    error_message = "deploy_config must carry exactly DeployConfig's fields (rl_core/serving/deploy_config.py)"
  }

  assert {
    condition = (
      output.deploy_config.endpoint_prefix == "forecourt-dev" &&
      output.deploy_config.model_artifacts_uri == "s3://forecourt-dev-artifacts/models/serving" &&
      output.deploy_config.data_capture_uri == var.data_capture_s3_uri &&
      output.deploy_config.region == "eu-west-1" &&
      output.deploy_config.instance_type == "ml.g4dn.xlarge" &&
      output.deploy_config.instance_count == 1 &&
      output.deploy_config.traffic_routing == "ALL_AT_ONCE" &&
      output.deploy_config.rollback_alarm_names == output.rollback_alarm_names
    )
    error_message = "deploy_config must carry the module's settings and its alarm names"
  }

  assert {
    condition     = output.deploy_config.instance_has_local_storage && output.volume_kms_key_arn == null
    error_message = "ml.g4dn.xlarge has NVMe storage: no volume key (SageMaker refuses one)"
  }

  assert {
    condition     = can(jsonencode(output.deploy_config))
    error_message = "deploy_config must be jsonencode-able (FORECOURT_SAGEMAKER)"
  }
}

run "ebs_instance_type_gets_the_volume_key" {
  command = plan

  variables {
    instance_type          = "ml.m5.xlarge"
    model_artifacts_s3_uri = "s3://forecourt-dev-artifacts/models/serving/"
  }

  assert {
    condition     = !output.deploy_config.instance_has_local_storage && output.volume_kms_key_arn == var.kms_key_arn
    error_message = "EBS instance types keep the customer-managed key on the volume"
  }

  assert {
    condition     = output.deploy_config.model_artifacts_uri == "s3://forecourt-dev-artifacts/models/serving"
    error_message = "a trailing slash is dropped from model_artifacts_uri"
  }
}

run "canary_settings_reach_the_deploy_step" {
  command = plan

  variables {
    traffic_routing          = "CANARY"
    canary_percent           = 25
    termination_wait_seconds = 900
  }

  assert {
    condition     = output.deploy_config.traffic_routing == "CANARY" && output.deploy_config.canary_percent == 25 && output.deploy_config.termination_wait_seconds == 900
    error_message = "blue/green settings must reach deploy_config"
  }
}

run "single_agent" {
  command = plan

  variables {
    agents = ["profit"]
  }

  assert {
    condition     = keys(output.endpoint_names) == ["profit"] && length(aws_cloudwatch_metric_alarm.rollback) == 2
    error_message = "a single agent gets a single endpoint name and its two alarms"
  }
}

run "unknown_routing_is_rejected" {
  command = plan

  variables {
    traffic_routing = "LINEAR"
  }

  expect_failures = [var.traffic_routing]
}

run "bad_artifacts_uri_is_rejected" {
  command = plan

  variables {
    model_artifacts_s3_uri = "/tmp/models"
  }

  expect_failures = [var.model_artifacts_s3_uri]
}
