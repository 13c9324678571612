data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name
  partition  = data.aws_partition.current.partition
  tags       = merge(var.tags, { "forecourt:module" = "monitoring" })

  # ---- what the Python code emits ---------------------------------------------------------
  # The mirror of rl_core/telemetry/catalogue.py: namespace, and each metric's dimensions
  # besides Environment (which every metric carries, = FORECOURT_ENV = var.environment).
  # tests/test_terraform_dashboard.py renders this module and fails when a widget or alarm
  # names a metric or a dimension set the catalogue does not have, or when an emitted metric
  # is missing from the dashboard.
  forecourt_namespace = "Forecourt"
  forecourt_metrics = {
    DeliveryRows                = []
    DeliveryAccepted            = []
    DeliveryQuarantined         = []
    ValidationFailedChecks      = []
    CalibratedStations          = []
    TrialTotalReward            = ["Agent"]
    TrialFractionOfOptimum      = ["Agent"]
    TrialTrainSeconds           = ["Agent"]
    ChallengerFractionOfOptimum = ["Agent"]
    ChallengerImprovement       = ["Agent"]
    Promotions                  = ["Agent"]
    Deployments                 = ["Agent"]
    DeployFailures              = ["Agent"]
    RecommendationsWritten      = ["Agent"]
    RecommendedPriceMedian      = ["Agent"]
    RunFailedTasks              = []
    TaskFailures                = ["Task"]
  }

  # One time-series widget per entry; an Agent metric gets one line per agent. The data are
  # daily (one DAG run a day; one point per trial), hence one-day periods.
  forecourt_widgets = [
    { title = "Delivery: rows in the day's file", metrics = ["DeliveryRows"], stat = "Maximum" },
    { title = "Delivery: accepted (1) / quarantined (1) / failed checks", metrics = ["DeliveryAccepted", "DeliveryQuarantined", "ValidationFailedChecks"], stat = "Maximum" },
    { title = "Calibration: stations in the window", metrics = ["CalibratedStations"], stat = "Maximum" },
    { title = "Trials: best fraction of the exact optimum", metrics = ["TrialFractionOfOptimum"], stat = "Maximum" },
    { title = "Trials: best expected total reward", metrics = ["TrialTotalReward"], stat = "Maximum" },
    { title = "Trials: mean training time (s)", metrics = ["TrialTrainSeconds"], stat = "Average" },
    { title = "Challenger: fraction of the optimum", metrics = ["ChallengerFractionOfOptimum"], stat = "Maximum" },
    { title = "Challenger: improvement over the champion", metrics = ["ChallengerImprovement"], stat = "Maximum" },
    { title = "Promotions", metrics = ["Promotions"], stat = "Sum" },
    { title = "SageMaker deploys: new champion in service / deploy failed", metrics = ["Deployments", "DeployFailures"], stat = "Sum" },
    { title = "Recommendations: stations priced for tomorrow", metrics = ["RecommendationsWritten"], stat = "Sum" },
    { title = "Recommendations: median price ($/L)", metrics = ["RecommendedPriceMedian"], stat = "Average" },
    { title = "Run: failed tasks (from the run report)", metrics = ["RunFailedTasks"], stat = "Sum" },
  ]
  daily = 86400
  # the Agent value of each line of a metric's graph ("" = the metric has no Agent dimension)
  forecourt_lines = { for m, dims in local.forecourt_metrics : m => contains(dims, "Agent") ? var.agents : [""] }

  forecourt_metric_widgets = [
    for w in local.forecourt_widgets : {
      type   = "metric"
      width  = 8
      height = 6
      properties = {
        title  = w.title
        view   = "timeSeries"
        region = local.region
        period = local.daily
        stat   = w.stat
        # one line per (metric, agent): ["Forecourt", name, "Environment", env, ("Agent", a,) {options}]
        metrics = concat([
          for m in w.metrics : [
            for a in local.forecourt_lines[m] : concat(
              [local.forecourt_namespace, m, "Environment", var.environment],
              a == "" ? [] : ["Agent", a],
              [{ label = a == "" ? m : "${m} ${a}" }],
            )
          ]
        ]...)
      }
    }
  ]

  # TaskFailures carries the failed task's id (Task): a search over that schema shows every
  # task that failed, without a list of task ids to keep in step with the DAG.
  task_failures_search = "SEARCH('{${local.forecourt_namespace},Environment,Task} MetricName=\"TaskFailures\" Environment=\"${var.environment}\"', 'Sum', ${local.daily})"
  task_failures_widget = {
    type   = "metric"
    width  = 8
    height = 6
    properties = {
      title   = "Task failures (by task)"
      view    = "timeSeries"
      region  = local.region
      period  = local.daily
      stat    = "Sum"
      metrics = [[{ id = "taskfailures", expression = local.task_failures_search, label = "TaskFailures" }]]
    }
  }

  # ---- what AWS emits ----------------------------------------------------------------------
  # AWS/SageMaker publishes endpoint invocation metrics per EndpointName + VariantName.
  # AWS Batch publishes no CloudWatch metrics by default: failed jobs reach the topic through
  # EventBridge instead (below). AWS/MWAA metrics are found with a search on the environment.
  endpoints = var.endpoint_names
  sagemaker_widgets = [
    for w in [
      { title = "SageMaker: invocations", metrics = ["Invocations"], stat = "Sum" },
      { title = "SageMaker: 4XX / 5XX errors", metrics = ["Invocation4XXErrors", "Invocation5XXErrors"], stat = "Sum" },
      { title = "SageMaker: model latency p99 (microseconds)", metrics = ["ModelLatency"], stat = "p99" },
      ] : {
      type   = "metric"
      width  = 8
      height = 6
      properties = {
        title  = w.title
        view   = "timeSeries"
        region = local.region
        period = 300
        stat   = w.stat
        metrics = concat([
          for m in w.metrics : [
            for agent, endpoint in local.endpoints :
            ["AWS/SageMaker", m, "EndpointName", endpoint, "VariantName", var.endpoint_variant_name, { label = "${m} ${agent}" }]
          ]
        ]...)
      }
    } if length(local.endpoints) > 0
  ]
  mwaa_widgets = [
    for w in [
      { title = "MWAA: CPU utilization (%)", metric = "CPUUtilization", stat = "Average" },
      { title = "MWAA: queued tasks", metric = "QueuedTasks", stat = "Maximum" },
      ] : {
      type   = "metric"
      width  = 8
      height = 6
      properties = {
        title  = w.title
        view   = "timeSeries"
        region = local.region
        period = 300
        stat   = w.stat
        metrics = [[{
          id         = lower(w.metric)
          expression = "SEARCH('Namespace=\"AWS/MWAA\" MetricName=\"${w.metric}\" Environment=\"${var.mwaa_environment_name}\"', '${w.stat}', 300)"
          label      = w.metric
        }]]
      }
    } if var.mwaa_environment_name != null
  ]

  # ---- alarms ------------------------------------------------------------------------------
  alarm_prefix = "${var.name_prefix}-"
  alarm_names = merge(
    {
      delivery_quarantined = "${local.alarm_prefix}delivery-quarantined"
      task_failures        = "${local.alarm_prefix}task-failures"
      run_failed_tasks     = "${local.alarm_prefix}run-failed-tasks"
    },
    { for a in var.agents : "recommendations_missing_${a}" => "${local.alarm_prefix}recommendations-missing-${a}" if var.recommendations_alarm_enabled },
    { for a, _ in local.endpoints : "endpoint_5xx_${a}" => "${local.alarm_prefix}endpoint-5xx-${a}" },
    { for a, _ in local.endpoints : "endpoint_latency_${a}" => "${local.alarm_prefix}endpoint-latency-${a}" },
  )
  alarm_arns = { for k, n in local.alarm_names : k => "arn:${local.partition}:cloudwatch:${local.region}:${local.account_id}:alarm:${n}" }

  header_forecourt = {
    type       = "text"
    width      = 24
    height     = 2
    properties = { markdown = "## Forecourt pipeline (${var.environment})\nMetrics the code emits: namespace `${local.forecourt_namespace}`, dimension `Environment=${var.environment}` (+ `Agent` or `Task`); the list is `rl_core/telemetry/catalogue.py`." }
  }
  header_aws = {
    type       = "text"
    width      = 24
    height     = 2
    properties = { markdown = "## AWS services\nMetrics AWS emits (`AWS/SageMaker` per endpoint, `AWS/MWAA`). AWS Batch publishes no metrics by default: FAILED jobs go to the alarm topic through EventBridge." }
  }
  alarm_widget = {
    type   = "alarm"
    width  = 24
    height = 4
    properties = {
      title  = "Alarms"
      alarms = values(local.alarm_arns)
    }
  }

  dashboard_widgets = concat(
    [local.header_forecourt],
    local.forecourt_metric_widgets,
    [local.task_failures_widget],
    [local.header_aws],
    local.sagemaker_widgets,
    local.mwaa_widgets,
    [local.alarm_widget],
  )
}

# ---- notification topic ------------------------------------------------------------------

resource "aws_sns_topic" "alarms" {
  name              = "${var.name_prefix}-alarms"
  kms_master_key_id = var.kms_key_arn
  tags              = local.tags
}

data "aws_iam_policy_document" "topic" {
  statement {
    sid       = "EventBridgeRulesPublish"
    effect    = "Allow"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alarms.arn]

    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:events:${local.region}:${local.account_id}:rule/${var.name_prefix}-*"]
    }
  }

  statement {
    sid       = "CloudWatchAlarmsPublish"
    effect    = "Allow"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alarms.arn]

    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:cloudwatch:${local.region}:${local.account_id}:alarm:${var.name_prefix}-*"]
    }
  }

  # AWS Budgets notifications (modules/security_baseline): budgets of this account only
  dynamic "statement" {
    for_each = var.allow_budgets_publish ? ["budgets"] : []
    content {
      sid       = "BudgetsPublish"
      effect    = "Allow"
      actions   = ["sns:Publish"]
      resources = [aws_sns_topic.alarms.arn]

      principals {
        type        = "Service"
        identifiers = ["budgets.amazonaws.com"]
      }

      condition {
        test     = "StringEquals"
        variable = "aws:SourceAccount"
        values   = [local.account_id]
      }

      condition {
        test     = "ArnLike"
        variable = "aws:SourceArn"
        values   = ["arn:${local.partition}:budgets::${local.account_id}:*"]
      }
    }
  }
}

resource "aws_sns_topic_policy" "alarms" {
  arn    = aws_sns_topic.alarms.arn
  policy = data.aws_iam_policy_document.topic.json
}

resource "aws_sns_topic_subscription" "email" {
  for_each = toset(var.alarm_emails)

  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = each.value
}

# ---- dashboard ---------------------------------------------------------------------------

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = "${var.name_prefix}-overview"
  dashboard_body = jsonencode({
    start          = "-P14D"
    periodOverride = "inherit"
    widgets        = local.dashboard_widgets
  })
}

# ---- alarms: Forecourt metrics -----------------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "delivery_quarantined" {
  alarm_name          = local.alarm_names.delivery_quarantined
  alarm_description   = "The day's pricing delivery failed validation and was quarantined (${var.environment}); champions are untouched. See the validate task's log and docs/data.md."
  namespace           = local.forecourt_namespace
  metric_name         = "DeliveryQuarantined"
  dimensions          = { Environment = var.environment }
  statistic           = "Maximum"
  period              = 3600
  evaluation_periods  = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  tags                = local.tags
}

resource "aws_cloudwatch_metric_alarm" "task_failures" {
  alarm_name          = local.alarm_names.task_failures
  alarm_description   = "A task of the daily retraining DAG failed (${var.environment}); the failure callback also sends the task's details to this topic."
  evaluation_periods  = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  tags                = local.tags

  # Metrics Insights: every Task value at once, so no list of task ids to maintain.
  metric_query {
    id          = "failures"
    label       = "TaskFailures"
    expression  = "SELECT SUM(TaskFailures) FROM SCHEMA(\"${local.forecourt_namespace}\", Environment, Task) WHERE Environment = '${var.environment}'"
    period      = 300
    return_data = true
  }
}

# The run report counts the run's failed steps (those that ran on MWAA and those that ran
# as Batch jobs) once the run is over, whatever its state: one point per daily run.
resource "aws_cloudwatch_metric_alarm" "run_failed_tasks" {
  alarm_name          = local.alarm_names.run_failed_tasks
  alarm_description   = "The daily run of ${var.environment} ended with failed tasks (RunFailedTasks > 0 over a day, from the run report); the report (runs/<day>/<run>/report.md) names them."
  namespace           = local.forecourt_namespace
  metric_name         = "RunFailedTasks"
  dimensions          = { Environment = var.environment }
  statistic           = "Sum"
  period              = local.daily
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  tags                = local.tags
}

resource "aws_cloudwatch_metric_alarm" "recommendations_missing" {
  for_each = var.recommendations_alarm_enabled ? toset(var.agents) : toset([])

  alarm_name        = local.alarm_names["recommendations_missing_${each.key}"]
  alarm_description = "The ${each.key} agent wrote no recommendations in the last ${var.recommendations_window_hours} hours (${var.environment}): tomorrow's prices are missing."
  namespace         = local.forecourt_namespace
  metric_name       = "RecommendationsWritten"
  dimensions        = { Environment = var.environment, Agent = each.key }
  statistic         = "Sum"
  # ALARM only when every hour of the window is empty: a day plus a grace for a late run
  period              = 3600
  evaluation_periods  = var.recommendations_window_hours
  datapoints_to_alarm = var.recommendations_window_hours
  comparison_operator = "LessThanThreshold"
  threshold           = 1
  treat_missing_data  = "breaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = local.tags
}

# ---- alarms: AWS metrics -----------------------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "endpoint_5xx" {
  for_each = local.endpoints

  alarm_name          = local.alarm_names["endpoint_5xx_${each.key}"]
  alarm_description   = "SageMaker endpoint ${each.value} (${each.key} agent) answered with 5XX errors."
  namespace           = "AWS/SageMaker"
  metric_name         = "Invocation5XXErrors"
  dimensions          = { EndpointName = each.value, VariantName = var.endpoint_variant_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = local.tags
}

resource "aws_cloudwatch_metric_alarm" "endpoint_latency" {
  for_each = local.endpoints

  alarm_name          = local.alarm_names["endpoint_latency_${each.key}"]
  alarm_description   = "SageMaker endpoint ${each.value} (${each.key} agent): p99 model latency above ${var.model_latency_p99_threshold_ms} ms for 15 minutes."
  namespace           = "AWS/SageMaker"
  metric_name         = "ModelLatency" # microseconds
  dimensions          = { EndpointName = each.value, VariantName = var.endpoint_variant_name }
  extended_statistic  = "p99"
  period              = 300
  evaluation_periods  = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.model_latency_p99_threshold_ms * 1000
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = local.tags
}

# ---- events straight to the topic (no Lambda) --------------------------------------------

resource "aws_cloudwatch_event_rule" "batch_job_failed" {
  count = var.batch_job_queue_arn == null ? 0 : 1

  name        = "${var.name_prefix}-batch-job-failed"
  description = "A Forecourt training job in the Batch queue FAILED."
  event_pattern = jsonencode({
    source        = ["aws.batch"]
    "detail-type" = ["Batch Job State Change"]
    detail = {
      status   = ["FAILED"]
      jobQueue = [var.batch_job_queue_arn]
    }
  })
  tags = local.tags
}

resource "aws_cloudwatch_event_target" "batch_job_failed" {
  count = var.batch_job_queue_arn == null ? 0 : 1

  rule      = aws_cloudwatch_event_rule.batch_job_failed[0].name
  target_id = "sns"
  arn       = aws_sns_topic.alarms.arn

  input_transformer {
    input_paths = {
      job    = "$.detail.jobName"
      id     = "$.detail.jobId"
      reason = "$.detail.statusReason"
    }
    input_template = "\"Forecourt ${var.environment}: Batch job <job> (<id>) FAILED: <reason>\""
  }
}

resource "aws_cloudwatch_event_rule" "endpoint_failed" {
  count = length(local.endpoints) == 0 ? 0 : 1

  name        = "${var.name_prefix}-endpoint-failed"
  description = "A Forecourt SageMaker endpoint went to Failed (or its update rollback failed)."
  event_pattern = jsonencode({
    source        = ["aws.sagemaker"]
    "detail-type" = ["SageMaker Endpoint State Change"]
    detail = {
      EndpointName   = sort(values(local.endpoints))
      EndpointStatus = ["FAILED", "UPDATE_ROLLBACK_FAILED"]
    }
  })
  tags = local.tags
}

resource "aws_cloudwatch_event_target" "endpoint_failed" {
  count = length(local.endpoints) == 0 ? 0 : 1

  rule      = aws_cloudwatch_event_rule.endpoint_failed[0].name
  target_id = "sns"
  arn       = aws_sns_topic.alarms.arn

  input_transformer {
    input_paths = {
      endpoint = "$.detail.EndpointName"
      status   = "$.detail.EndpointStatus"
      reason   = "$.detail.FailureReason"
    }
    input_template = "\"Forecourt ${var.environment}: SageMaker endpoint <endpoint> is <status>: <reason>\""
  }
}
