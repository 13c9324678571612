output "state_bucket_name" {
  description = "Name of the state bucket (the S3 backend's bucket)."
  value       = aws_s3_bucket.state.bucket
}

output "state_bucket_arn" {
  description = "ARN of the state bucket."
  value       = aws_s3_bucket.state.arn
}

output "kms_key_arn" {
  description = "ARN of the key that encrypts the state bucket (state and lock files) (the S3 backend's kms_key_id)."
  value       = aws_kms_key.state.arn
}

output "state_access_role_arn" {
  description = "ARN of the role the other roots' backends assume (null when state_access_principal_arns is empty)."
  value       = one(aws_iam_role.state_access[*].arn)
}

output "backend_config" {
  description = "Settings for the other roots' backend \"s3\" blocks (add key = \"<root>/terraform.tfstate\")."
  value = {
    bucket       = aws_s3_bucket.state.bucket
    region       = var.region
    use_lockfile = true
    kms_key_id   = aws_kms_key.state.arn
    encrypt      = true
  }
}
