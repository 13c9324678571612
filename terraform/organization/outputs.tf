output "organization_id" {
  description = "ID of the organization (o-...)."
  value       = aws_organizations_organization.this.id
}

output "management_account_id" {
  description = "ID of the management account (where this root runs)."
  value       = local.management_account_id
}

output "account_ids" {
  description = "Member account IDs by short name (dev, preprod, prod): the per-account roots assume OrganizationAccountAccessRole in them."
  value       = { for k, a in aws_organizations_account.member : k => a.id }
}

output "account_access_role_arns" {
  description = "ARN of OrganizationAccountAccessRole in each member account, by short name."
  value       = { for k, a in aws_organizations_account.member : k => "arn:${local.partition}:iam::${a.id}:role/OrganizationAccountAccessRole" }
}

output "workloads_ou_id" {
  description = "ID of the workloads OU that holds the member accounts and carries the SCPs."
  value       = aws_organizations_organizational_unit.workloads.id
}

output "scp_ids" {
  description = "IDs of the service control policies attached to the workloads OU, by key."
  value       = { for k, p in aws_organizations_policy.scp : k => p.id }
}

output "trail_arn" {
  description = "ARN of the organization trail."
  value       = aws_cloudtrail.org.arn
}

output "log_bucket_name" {
  description = "Name of the bucket that receives the organization trail."
  value       = aws_s3_bucket.trail.bucket
}

output "trail_kms_key_arn" {
  description = "ARN of the key that encrypts the trail's log files."
  value       = aws_kms_key.trail.arn
}

output "scp_documents" {
  description = "The SCP documents as objects (what the attached policies contain)."
  value       = { for k, s in local.scps : k => s.document }
}
