output "key_arn" {
  description = "ARN of the customer-managed KMS key."
  value       = aws_kms_key.this.arn
}

output "key_id" {
  description = "Id of the customer-managed KMS key."
  value       = aws_kms_key.this.key_id
}

output "alias_name" {
  description = "Alias of the key (alias/<name_prefix>)."
  value       = aws_kms_alias.this.name
}

output "alias_arn" {
  description = "ARN of the key alias."
  value       = aws_kms_alias.this.arn
}

output "policy_statements" {
  description = "The key policy's statements as built (sid, effect, actions, resources, principals, conditions), for tests and reviews."
  value       = local.key_policy_statements
}
