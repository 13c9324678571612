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

output "mwaa_security_group_id" {
  description = "Security group of the MWAA environment: self-referencing (MWAA requirement), HTTPS out to the VPC endpoints, S3 and (with NAT) the internet; modules/mwaa adds the UI CIDRs."
  value       = aws_security_group.workload["mwaa"].id
}

output "batch_security_group_id" {
  description = "Security group of the Batch compute environment: no inbound, HTTPS out to the VPC endpoints, S3 and (with NAT) the internet."
  value       = aws_security_group.workload["batch"].id
}

output "sagemaker_security_group_id" {
  description = "Security group of the SageMaker endpoints: no inbound, HTTPS out to the VPC endpoints, S3 and (with NAT) the internet."
  value       = aws_security_group.workload["sagemaker"].id
}

output "vpc_arn" {
  description = "ARN of the VPC (the SageMaker execution role's network interfaces are scoped to it, ec2:Vpc)."
  value       = aws_vpc.this.arn
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
