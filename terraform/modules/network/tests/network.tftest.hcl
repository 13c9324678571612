mock_provider "aws" {
  mock_data "aws_availability_zones" {
    defaults = {
      names    = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
      zone_ids = ["euw1-az1", "euw1-az2", "euw1-az3"]
    }
  }
  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "111122223333"
    }
  }
  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }
  mock_data "aws_region" {
    defaults = {
      name = "eu-west-1"
    }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/vpc/flow-logs/forecourt-dev"
    }
  }
  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::111122223333:role/forecourt-dev-vpc-flow-logs"
    }
  }
  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }
}

variables {
  name_prefix = "forecourt-dev"
  tags        = { Project = "forecourt", Environment = "dev" }
  cidr_block  = "10.20.0.0/16"
  kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:key/11111111-2222-3333-4444-555555555555"
}

run "no_nat_by_default" {
  command = apply

  assert {
    condition     = length(aws_subnet.private) == var.az_count && length(output.private_subnet_ids) == 2
    error_message = "One private subnet per AZ."
  }
  assert {
    condition     = length(distinct(aws_subnet.private[*].availability_zone)) == var.az_count
    error_message = "Private subnets must be in distinct AZs."
  }
  assert {
    condition     = length(distinct(aws_subnet.private[*].cidr_block)) == var.az_count && alltrue([for s in aws_subnet.private : s.map_public_ip_on_launch == false])
    error_message = "Private subnets need distinct CIDRs and no public IPs."
  }
  assert {
    condition     = length(aws_nat_gateway.this) == 0 && length(aws_subnet.public) == 0 && length(aws_internet_gateway.this) == 0 && length(aws_eip.nat) == 0
    error_message = "Without NAT there is no NAT gateway, public subnet, EIP or internet gateway."
  }
  assert {
    condition     = length(aws_route.private_nat) == 0
    error_message = "Without NAT private route tables have no default route."
  }
  assert {
    condition     = aws_flow_log.this.vpc_id == aws_vpc.this.id && aws_flow_log.this.traffic_type == "ALL"
    error_message = "The VPC must have a flow log capturing all traffic."
  }
  assert {
    condition     = aws_flow_log.this.log_destination == aws_cloudwatch_log_group.flow_logs.arn && aws_flow_log.this.iam_role_arn == aws_iam_role.flow_logs.arn
    error_message = "Flow logs must go to the module's log group with the module's role."
  }
  assert {
    condition     = aws_cloudwatch_log_group.flow_logs.kms_key_id == var.kms_key_arn
    error_message = "The flow log group must be encrypted with the given KMS key."
  }
  assert {
    condition     = aws_cloudwatch_log_group.flow_logs.retention_in_days == 365
    error_message = "Flow log retention must default to 365 days."
  }
  assert {
    condition     = length(aws_default_security_group.this.ingress) == 0 && length(aws_default_security_group.this.egress) == 0
    error_message = "The default security group must have no rules."
  }
  assert {
    condition     = alltrue([for k in ["s3", "ecr.api", "ecr.dkr", "logs", "sts"] : contains(keys(output.vpc_endpoint_ids), k)])
    error_message = "S3, ECR api/dkr, CloudWatch Logs and STS endpoints must exist."
  }
  assert {
    condition     = aws_vpc_endpoint.s3.vpc_endpoint_type == "Gateway" && aws_vpc_endpoint.s3.service_name == "com.amazonaws.eu-west-1.s3"
    error_message = "S3 must be a gateway endpoint."
  }
  assert {
    condition     = length(aws_vpc_endpoint.s3.route_table_ids) == var.az_count
    error_message = "The S3 gateway endpoint must serve every private route table."
  }
  assert {
    condition = alltrue([
      for e in aws_vpc_endpoint.interface :
      e.vpc_endpoint_type == "Interface" && e.private_dns_enabled && length(e.subnet_ids) == var.az_count &&
      length(e.security_group_ids) == 1 && one(e.security_group_ids) == aws_security_group.endpoints.id
    ])
    error_message = "Interface endpoints: private DNS, every private subnet, the endpoint security group."
  }
  assert {
    condition = alltrue([
      for k, r in aws_vpc_security_group_ingress_rule.endpoints_https :
      r.referenced_security_group_id == aws_security_group.workload[k].id && r.cidr_ipv4 == null &&
      r.from_port == 443 && r.to_port == 443 && r.ip_protocol == "tcp"
    ]) && length(aws_vpc_security_group_ingress_rule.endpoints_https) == 3
    error_message = "Endpoints accept HTTPS from the three workload security groups only."
  }
  assert {
    condition     = toset(keys(aws_security_group.workload)) == toset(["mwaa", "batch", "sagemaker"]) && length(distinct([for g in aws_security_group.workload : g.name])) == 3
    error_message = "One security group per workload: MWAA, Batch, SageMaker."
  }
  assert {
    condition = alltrue([
      for r in concat(values(aws_vpc_security_group_egress_rule.workload_endpoints), values(aws_vpc_security_group_egress_rule.workload_s3)) :
      r.from_port == 443 && r.to_port == 443 && r.ip_protocol == "tcp" && r.cidr_ipv4 == null
    ])
    error_message = "Workloads reach the endpoints and S3 on HTTPS only, by group/prefix list, not by CIDR."
  }
  assert {
    condition     = length(aws_vpc_security_group_egress_rule.workload_nat_https) == 0
    error_message = "Without NAT, no egress rule to 0.0.0.0/0."
  }
  assert {
    condition     = aws_vpc_security_group_ingress_rule.mwaa_self.referenced_security_group_id == aws_security_group.workload["mwaa"].id
    error_message = "MWAA's group references itself (MWAA requirement)."
  }
  assert {
    condition     = aws_vpc.this.enable_dns_support && aws_vpc.this.enable_dns_hostnames
    error_message = "Private DNS of interface endpoints needs DNS support and hostnames."
  }
}

run "single_nat_gateway" {
  command = apply

  variables {
    az_count           = 3
    enable_nat_gateway = true
    single_nat_gateway = true
  }

  assert {
    condition = length(aws_vpc_security_group_egress_rule.workload_nat_https) == 3 && alltrue([
      for r in aws_vpc_security_group_egress_rule.workload_nat_https : r.cidr_ipv4 == "0.0.0.0/0" && r.from_port == 443 && r.to_port == 443
    ])
    error_message = "With NAT, each workload group reaches the internet on HTTPS only."
  }
  assert {
    condition     = length(aws_nat_gateway.this) == 1 && length(aws_eip.nat) == 1
    error_message = "single_nat_gateway makes exactly one NAT gateway."
  }
  assert {
    condition     = length(aws_subnet.public) == 3 && length(aws_subnet.private) == 3
    error_message = "With NAT, one public and one private subnet per AZ."
  }
  assert {
    condition     = length(distinct(concat(aws_subnet.private[*].cidr_block, aws_subnet.public[*].cidr_block))) == 6
    error_message = "Subnet CIDRs must not overlap."
  }
  assert {
    condition     = length(aws_route.private_nat) == 3 && length(distinct(aws_route.private_nat[*].nat_gateway_id)) == 1
    error_message = "Every private route table routes through the single NAT gateway."
  }
  assert {
    condition     = alltrue([for s in aws_subnet.public : s.map_public_ip_on_launch == false])
    error_message = "Public subnets must not auto-assign public IPs."
  }
  assert {
    condition     = length(aws_vpc_endpoint.s3.route_table_ids) == 4
    error_message = "The S3 gateway endpoint serves private and public route tables."
  }
}

run "nat_gateway_per_az" {
  command = apply

  variables {
    az_count           = 3
    enable_nat_gateway = true
    single_nat_gateway = false
  }

  assert {
    condition     = length(aws_nat_gateway.this) == var.az_count
    error_message = "Without single_nat_gateway there is one NAT gateway per AZ."
  }
  assert {
    condition     = length(distinct(aws_route.private_nat[*].nat_gateway_id)) == var.az_count
    error_message = "Each private route table uses its own AZ's NAT gateway."
  }
}

run "single_nat_flag_ignored_when_nat_disabled" {
  command = plan

  variables {
    enable_nat_gateway = false
    single_nat_gateway = false
  }

  assert {
    condition     = length(aws_nat_gateway.this) == 0
    error_message = "No NAT gateway when enable_nat_gateway is false."
  }
}

run "explicit_availability_zones" {
  command = plan

  variables {
    availability_zones = ["eu-west-1c", "eu-west-1a"]
  }

  assert {
    condition     = jsonencode(output.availability_zones) == jsonencode(["eu-west-1c", "eu-west-1a"])
    error_message = "Explicit AZs must be used in the given order."
  }
}

run "rejects_one_az" {
  command = plan

  variables {
    az_count = 1
  }

  expect_failures = [var.az_count]
}

run "rejects_more_azs_than_region_has" {
  command = plan

  variables {
    az_count = 4
  }

  expect_failures = [aws_vpc.this]
}

run "rejects_bad_cidr" {
  command = plan

  variables {
    cidr_block = "10.0.0.0/8"
  }

  expect_failures = [var.cidr_block]
}

run "rejects_bad_retention" {
  command = plan

  variables {
    flow_logs_retention_days = 42
  }

  expect_failures = [var.flow_logs_retention_days]
}
