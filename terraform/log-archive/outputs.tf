output "trail_bucket_name" {
  description = "The organization trail's bucket: terraform/organization var.trail_bucket_name."
  value       = aws_s3_bucket.trail.bucket
}

output "trail_kms_key_arn" {
  description = "The key the trail encrypts its log files with: terraform/organization var.trail_kms_key_arn."
  value       = aws_kms_key.trail.arn
}

output "trail_bucket_arn" {
  description = "ARN of the trail bucket."
  value       = aws_s3_bucket.trail.arn
}

output "access_log_bucket_name" {
  description = "The bucket receiving the trail bucket's S3 server access logs (SSE-S3)."
  value       = aws_s3_bucket.access_logs.bucket
}

output "organization_tfvars" {
  description = "The two lines to add to terraform/organization's variables for its second apply."
  value       = "trail_bucket_name = \"${aws_s3_bucket.trail.bucket}\"\ntrail_kms_key_arn = \"${aws_kms_key.trail.arn}\"\n"
}
