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
