# terraform test with a mocked AWS provider: what the module renders, no AWS needed.

mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "111122223333"
      arn        = "arn:aws:iam::111122223333:root"
    }
  }
  mock_data "aws_region" {
    defaults = {
      name = "eu-west-1"
    }
  }
  mock_data "aws_partition" {
    defaults = {
      partition  = "aws"
      dns_suffix = "amazonaws.com"
    }
  }
  # a mocked policy document's json is a random string: give it a valid (empty) document;
  # the statements themselves are asserted on the data source's inputs below
  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }
  mock_resource "aws_sns_topic" {
    defaults = {
      arn = "arn:aws:sns:eu-west-1:111122223333:forecourt-prod-alarms"
    }
  }
}

variables {
  name_prefix           = "forecourt-prod"
  environment           = "prod"
  kms_key_arn           = "arn:aws:kms:eu-west-1:111122223333:key/00000000-0000-0000-0000-000000000000"
  alarm_emails          = ["ops@example.com"]
  batch_job_queue_arn   = "arn:aws:batch:eu-west-1:111122223333:job-queue/forecourt-prod-gpu"
  endpoint_names        = { demand = "forecourt-prod-demand", profit = "forecourt-prod-profit" }
  mwaa_environment_name = "forecourt-prod"
  tags                  = { project = "forecourt" }
}

run "full" {
  command = apply

  assert {
    condition     = aws_sns_topic.alarms.kms_master_key_id == var.kms_key_arn
    error_message = "The alarm topic must be encrypted with the customer-managed key."
  }

  assert {
    condition = alltrue(concat(
      [for a in [aws_cloudwatch_metric_alarm.delivery_quarantined, aws_cloudwatch_metric_alarm.task_failures, aws_cloudwatch_metric_alarm.run_failed_tasks] : a.alarm_actions == toset([aws_sns_topic.alarms.arn])],
      [for a in values(aws_cloudwatch_metric_alarm.recommendations_missing) : a.alarm_actions == toset([aws_sns_topic.alarms.arn])],
      [for a in values(aws_cloudwatch_metric_alarm.endpoint_5xx) : a.alarm_actions == toset([aws_sns_topic.alarms.arn])],
      [for a in values(aws_cloudwatch_metric_alarm.endpoint_latency) : a.alarm_actions == toset([aws_sns_topic.alarms.arn])],
    ))
    error_message = "Every alarm must notify the module's topic (and only it)."
  }

  assert {
    condition     = length(output.alarm_arns) == 3 + 2 + 2 * 2
    error_message = "Expected quarantine, task-failure and run-failed-tasks alarms, one recommendations alarm per agent and two alarms per endpoint."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.delivery_quarantined.namespace == "Forecourt" && aws_cloudwatch_metric_alarm.delivery_quarantined.dimensions == tomap({ Environment = "prod" }) && aws_cloudwatch_metric_alarm.delivery_quarantined.threshold == 1 && aws_cloudwatch_metric_alarm.delivery_quarantined.comparison_operator == "GreaterThanOrEqualToThreshold"
    error_message = "DeliveryQuarantined >= 1 in this environment must alarm."
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.run_failed_tasks.namespace == "Forecourt" &&
      aws_cloudwatch_metric_alarm.run_failed_tasks.metric_name == "RunFailedTasks" &&
      aws_cloudwatch_metric_alarm.run_failed_tasks.dimensions == tomap({ Environment = "prod" }) &&
      aws_cloudwatch_metric_alarm.run_failed_tasks.statistic == "Sum" &&
      aws_cloudwatch_metric_alarm.run_failed_tasks.period == 86400 &&
      aws_cloudwatch_metric_alarm.run_failed_tasks.comparison_operator == "GreaterThanThreshold" &&
      aws_cloudwatch_metric_alarm.run_failed_tasks.threshold == 0 &&
      aws_cloudwatch_metric_alarm.run_failed_tasks.treat_missing_data == "notBreaching"
    )
    error_message = "A day whose RunFailedTasks sum is above 0 must alarm; a day without a run must not."
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.recommendations_missing) == 2 && alltrue([for a in values(aws_cloudwatch_metric_alarm.recommendations_missing) : a.treat_missing_data == "breaching" && a.period * a.evaluation_periods >= 86400 && a.datapoints_to_alarm == a.evaluation_periods && a.comparison_operator == "LessThanThreshold" && a.threshold == 1])
    error_message = "No recommendations for (at least) a day, missing data included, must alarm, per agent."
  }

  assert {
    condition     = strcontains(one(aws_cloudwatch_metric_alarm.task_failures.metric_query).expression, "SCHEMA(\"Forecourt\", Environment, Task)")
    error_message = "The task-failure alarm must read Forecourt TaskFailures over every Task."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.endpoint_latency["demand"].extended_statistic == "p99" && aws_cloudwatch_metric_alarm.endpoint_latency["demand"].threshold == 1000000
    error_message = "Endpoint latency alarms watch p99 ModelLatency (microseconds) against the threshold in ms x 1000."
  }

  # the dashboard reads Forecourt (what the code emits) or AWS/* (what AWS emits), nothing else
  assert {
    condition = alltrue(flatten([
      for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : [
        for m in try(w.properties.metrics, []) : (
          can(m[0].expression)
          ? can(regex("^SEARCH\\('(\\{Forecourt,|Namespace=\"AWS/)", m[0].expression))
          : (m[0] == "Forecourt" || startswith(m[0], "AWS/"))
        )
      ]
    ]))
    error_message = "Every dashboard metric must be in namespace Forecourt or AWS/*."
  }

  assert {
    condition = alltrue([
      for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets :
      w.type == "text" ? length(w.properties.markdown) > 0 : (w.type == "alarm" ? length(w.properties.alarms) > 0 : length(w.properties.metrics) > 0)
    ])
    error_message = "No dashboard widget may be empty."
  }

  assert {
    condition = alltrue([
      for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : alltrue([
        for m in try(w.properties.metrics, []) : !try(m[0] == "Forecourt", false) || contains(keys(output.forecourt_metrics), try(m[1], "?"))
      ])
    ])
    error_message = "Every Forecourt metric on the dashboard must be one of the module's catalogue mirror."
  }

  assert {
    condition     = contains(flatten(data.aws_iam_policy_document.topic.statement[*].principals[*].identifiers), "events.amazonaws.com") && contains(flatten(data.aws_iam_policy_document.topic.statement[*].principals[*].identifiers), "cloudwatch.amazonaws.com")
    error_message = "The topic policy must let EventBridge and CloudWatch alarms publish."
  }

  assert {
    condition     = alltrue([for s in data.aws_iam_policy_document.topic.statement : s.actions == toset(["sns:Publish"]) && contains([for c in s.condition : c.variable], "aws:SourceAccount")])
    error_message = "Service principals may only publish, and only on behalf of this account (aws:SourceAccount)."
  }

  assert {
    condition     = jsondecode(aws_cloudwatch_event_rule.batch_job_failed[0].event_pattern).detail.status == ["FAILED"] && jsondecode(aws_cloudwatch_event_rule.batch_job_failed[0].event_pattern).detail.jobQueue == [var.batch_job_queue_arn]
    error_message = "The Batch rule must match FAILED jobs of the given queue."
  }

  assert {
    condition     = aws_cloudwatch_event_target.batch_job_failed[0].arn == aws_sns_topic.alarms.arn && aws_cloudwatch_event_target.endpoint_failed[0].arn == aws_sns_topic.alarms.arn
    error_message = "EventBridge rules must target the alarm topic."
  }

  assert {
    condition     = contains(jsondecode(aws_cloudwatch_event_rule.endpoint_failed[0].event_pattern).detail.EndpointStatus, "FAILED") && jsondecode(aws_cloudwatch_event_rule.endpoint_failed[0].event_pattern).detail.EndpointName == ["forecourt-prod-demand", "forecourt-prod-profit"]
    error_message = "The SageMaker rule must match the module's endpoints going to FAILED."
  }

  assert {
    condition     = length(aws_sns_topic_subscription.email) == 1
    error_message = "One email subscription per alarm_emails entry."
  }
}

run "budgets_may_publish" {
  command = plan

  variables {
    allow_budgets_publish = true
  }

  assert {
    condition = length([
      for st in data.aws_iam_policy_document.topic.statement : st
      if st.sid == "BudgetsPublish" && st.actions == toset(["sns:Publish"]) && flatten(st.principals[*].identifiers) == ["budgets.amazonaws.com"] &&
      anytrue([for c in st.condition : c.variable == "aws:SourceAccount" && c.test == "StringEquals"])
    ]) == 1
    error_message = "With allow_budgets_publish the topic policy must let budgets.amazonaws.com of this account publish."
  }

  assert {
    condition     = length(data.aws_iam_policy_document.topic.statement) == 3
    error_message = "The budgets statement comes on top of the EventBridge and CloudWatch alarm statements."
  }
}

run "minimal" {
  command = apply

  variables {
    name_prefix                   = "forecourt-dev"
    environment                   = "dev"
    alarm_emails                  = []
    batch_job_queue_arn           = null
    endpoint_names                = {}
    mwaa_environment_name         = null
    recommendations_alarm_enabled = false
  }

  assert {
    condition     = length(aws_cloudwatch_event_rule.batch_job_failed) == 0 && length(aws_cloudwatch_event_rule.endpoint_failed) == 0
    error_message = "No event rules without a job queue or endpoints."
  }

  assert {
    condition     = length(output.alarm_arns) == 3
    error_message = "Without endpoints and with the recommendations alarm off, only the quarantine, task-failure and run-failed-tasks alarms remain."
  }

  assert {
    condition     = length([for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : w if w.type == "metric" && try(startswith(w.properties.metrics[0][0], "AWS/"), false)]) == 0
    error_message = "No AWS/SageMaker widgets without endpoints."
  }
}

run "rejects_bad_environment" {
  command = plan

  variables {
    environment = "staging"
  }

  expect_failures = [var.environment]
}

run "rejects_unknown_agent" {
  command = plan

  variables {
    agents = ["demand", "volume"]
  }

  expect_failures = [var.agents]
}
