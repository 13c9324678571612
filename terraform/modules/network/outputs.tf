output "vpc_id" {
  description = "Id of the VPC."
  value       = aws_vpc.this.id
}

output "vpc_cidr_block" {
  description = "IPv4 CIDR of the VPC."
  value       = aws_vpc.this.cidr_block
}

output "availability_zones" {
  description = "The AZs used, in subnet order."
  value       = local.azs
}

output "private_subnet_ids" {
  description = "Private subnet ids, one per AZ (az_count of them)."
  value       = aws_subnet.private[*].id
}

output "public_subnet_ids" {
  description = "Public subnet ids (only when enable_nat_gateway; empty otherwise)."
  value       = aws_subnet.public[*].id
}

output "private_route_table_ids" {
  description = "Route table ids of the private subnets, one per AZ."
  value       = aws_route_table.private[*].id
}

output "nat_gateway_ids" {
  description = "NAT gateway ids: none, one (single_nat_gateway) or one per AZ."
  value       = aws_nat_gateway.this[*].id
}

output "workload_security_group_id" {
  description = "Security group for Batch instances, SageMaker endpoints and MWAA: members talk to each other, HTTPS out."
  value       = aws_security_group.workload.id
}

output "endpoint_security_group_id" {
  description = "Security group of the interface VPC endpoints (HTTPS from the VPC)."
  value       = aws_security_group.endpoints.id
}

output "vpc_endpoint_ids" {
  description = "VPC endpoint ids by service short name (s3 is the gateway endpoint)."
  value       = merge({ s3 = aws_vpc_endpoint.s3.id }, { for k, e in aws_vpc_endpoint.interface : k => e.id })
}

output "flow_log_id" {
  description = "Id of the VPC flow log."
  value       = aws_flow_log.this.id
}

output "flow_log_group_name" {
  description = "Name of the KMS-encrypted CloudWatch log group receiving the flow logs."
  value       = aws_cloudwatch_log_group.flow_logs.name
}

output "flow_log_group_arn" {
  description = "ARN of the flow log group."
  value       = aws_cloudwatch_log_group.flow_logs.arn
}

output "flow_log_role_arn" {
  description = "ARN of the IAM role VPC flow logs deliver with (scoped to the flow log group)."
  value       = aws_iam_role.flow_logs.arn
}
