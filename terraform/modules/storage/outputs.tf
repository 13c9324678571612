output "bucket_names" {
  description = "Bucket names by purpose: data, artifacts, dags."
  value       = { for k, b in aws_s3_bucket.this : k => b.bucket }
}

output "bucket_arns" {
  description = "Bucket ARNs by purpose: data, artifacts, dags."
  value       = { for k, b in aws_s3_bucket.this : k => b.arn }
}

output "bucket_policy_statements" {
  description = "The Deny statements of each bucket's policy, by purpose, as built (for tests and reviews)."
  value       = local.bucket_policy_statements
}

output "promotion_outbox_uri" {
  description = "This account's promotion outbox, s3://<artifacts bucket>/promotions: what it proposes to the next account (readable by promotion_reader_account_ids)."
  value       = "s3://${aws_s3_bucket.this["artifacts"].bucket}/${trimsuffix(local.promotion_prefix, "/")}"
}

output "promotion_policy_statements" {
  description = "The Allow statements the artifacts bucket's policy gives promotion_reader_account_ids (empty without readers), as built."
  value       = local.promotion_policy_statements
}
