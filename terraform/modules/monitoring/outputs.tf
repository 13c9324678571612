output "sns_topic_arn" {
  description = "ARN of the KMS-encrypted alarm topic (alarms, EventBridge rules and the DAG's failure callback publish to it)."
  value       = aws_sns_topic.alarms.arn
}

output "dashboard_name" {
  description = "Name of the CloudWatch dashboard."
  value       = aws_cloudwatch_dashboard.this.dashboard_name
}

output "dashboard_url" {
  description = "Console URL of the dashboard."
  value       = "https://${local.region}.console.aws.amazon.com/cloudwatch/home?region=${local.region}#dashboards:name=${aws_cloudwatch_dashboard.this.dashboard_name}"
}

output "alarm_arns" {
  description = "ARN of every alarm, by key (delivery_quarantined, task_failures, run_failed_tasks, recommendations_missing_<agent>, endpoint_5xx_<agent>, endpoint_latency_<agent>)."
  value = merge(
    {
      delivery_quarantined = aws_cloudwatch_metric_alarm.delivery_quarantined.arn
      task_failures        = aws_cloudwatch_metric_alarm.task_failures.arn
      run_failed_tasks     = aws_cloudwatch_metric_alarm.run_failed_tasks.arn
    },
    { for a, alarm in aws_cloudwatch_metric_alarm.recommendations_missing : "recommendations_missing_${a}" => alarm.arn },
    { for a, alarm in aws_cloudwatch_metric_alarm.endpoint_5xx : "endpoint_5xx_${a}" => alarm.arn },
    { for a, alarm in aws_cloudwatch_metric_alarm.endpoint_latency : "endpoint_latency_${a}" => alarm.arn },
  )
}

output "event_rule_arns" {
  description = "ARNs of the EventBridge rules that send to the topic (batch_job_failed, endpoint_failed), where created."
  value = merge(
    { for r in aws_cloudwatch_event_rule.batch_job_failed : "batch_job_failed" => r.arn },
    { for r in aws_cloudwatch_event_rule.endpoint_failed : "endpoint_failed" => r.arn },
  )
}

output "forecourt_metrics" {
  description = "The Forecourt metrics this module reads, name -> dimensions besides Environment (the mirror of rl_core/telemetry/catalogue.py)."
  value       = local.forecourt_metrics
}
