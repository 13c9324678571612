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
  description = "ARN of the organization trail (null until trail_bucket_name is set)."
  value       = one(aws_cloudtrail.org[*].arn)
}

output "log_bucket_name" {
  description = "The bucket the organization trail writes to (log-archive account); the name terraform/log-archive gives it until trail_bucket_name is set."
  value       = local.log_bucket_name
}

output "security_ou_id" {
  description = "ID of the security OU that holds the log-archive account (same SCPs as workloads)."
  value       = aws_organizations_organizational_unit.security.id
}

output "log_archive_account_id" {
  description = "ID of the log-archive account (terraform/log-archive's log_archive_account_id)."
  value       = local.log_archive_id
}

output "log_archive" {
  description = "What terraform/log-archive needs: log_archive_account_id, organization_id, org_trail_arn (the trail's ARN, fixed before the trail exists), access_role_arn."
  value = {
    log_archive_account_id = local.log_archive_id
    organization_id        = aws_organizations_organization.this.id
    org_trail_arn          = local.trail_arn
    access_role_arn        = local.log_archive_access_role_arn
  }
}

output "scp_documents" {
  description = "The SCP documents as objects (what the attached policies contain)."
  value       = { for k, s in local.scps : k => s.document }
}
