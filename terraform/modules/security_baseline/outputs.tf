output "guardduty_detector_id" {
  description = "The GuardDuty detector (null when enable_guardduty is off)."
  value       = one(aws_guardduty_detector.this[*].id)
}

output "config_recorder_name" {
  description = "The AWS Config recorder (null when enable_aws_config is off)."
  value       = one(aws_config_configuration_recorder.this[*].name)
}

output "config_bucket_name" {
  description = "The KMS-encrypted bucket AWS Config delivers to (null when enable_aws_config is off)."
  value       = one(aws_s3_bucket.config[*].bucket)
}

output "config_rule_names" {
  description = "The AWS Config managed rules evaluated, by key."
  value       = { for k, r in aws_config_config_rule.managed : k => r.name }
}

output "security_hub_standard_arns" {
  description = "Security Hub standards subscribed (empty when enable_security_hub is off)."
  value       = aws_securityhub_standards_subscription.fsbp[*].standards_arn
}

output "access_analyzer_arn" {
  description = "The account's IAM Access Analyzer (null when enable_access_analyzer is off)."
  value       = one(aws_accessanalyzer_analyzer.account[*].arn)
}

output "budget_name" {
  description = "The monthly cost budget (null when enable_budget is off)."
  value       = one(aws_budgets_budget.monthly[*].name)
}

output "enabled" {
  description = "Which parts of the baseline this account has: guardduty, aws_config, security_hub, access_analyzer, budget -> bool."
  value = {
    guardduty       = var.enable_guardduty
    aws_config      = var.enable_aws_config
    security_hub    = var.enable_security_hub
    access_analyzer = var.enable_access_analyzer
    budget          = var.enable_budget
  }
}
