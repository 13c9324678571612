# One VPC per account: private subnets in az_count AZs, optional NAT (cost switch), VPC
# endpoints so workloads reach AWS privately, locked-down default security group, and
# KMS-encrypted VPC flow logs.

data "aws_availability_zones" "available" {
  #checkov:skip=CKV_AWS_394:Only the first az_count names are used (sorted; a new AZ gets a later letter, so the chosen set does not change); pin exact AZs with var.availability_zones.
  state = "available"

  filter {
    name   = "opt-in-status"
    values = ["opt-in-not-required"]
  }
}

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name

  candidate_azs = length(var.availability_zones) > 0 ? var.availability_zones : sort(data.aws_availability_zones.available.names)
  azs           = slice(local.candidate_azs, 0, min(var.az_count, length(local.candidate_azs)))

  public_subnet_count = var.enable_nat_gateway ? var.az_count : 0
  nat_gateway_count   = var.enable_nat_gateway ? (var.single_nat_gateway ? 1 : var.az_count) : 0

  flow_log_group_name = "/aws/vpc/flow-logs/${var.name_prefix}"
}

################################################################################
# VPC, subnets, routing
################################################################################

resource "aws_vpc" "this" {
  cidr_block           = var.cidr_block
  enable_dns_support   = true
  enable_dns_hostnames = true
  tags                 = merge(var.tags, { Name = var.name_prefix })

  lifecycle {
    precondition {
      condition     = length(local.candidate_azs) >= var.az_count
      error_message = "Fewer availability zones (available in the region, or given in availability_zones) than az_count."
    }
  }
}

# Take over the default security group and leave it without any rule.
resource "aws_default_security_group" "this" {
  vpc_id = aws_vpc.this.id
  tags   = merge(var.tags, { Name = "${var.name_prefix}-default-deny" })
}

resource "aws_subnet" "private" {
  count = var.az_count

  vpc_id                  = aws_vpc.this.id
  cidr_block              = cidrsubnet(var.cidr_block, 4, count.index)
  availability_zone       = local.azs[count.index]
  map_public_ip_on_launch = false
  tags                    = merge(var.tags, { Name = "${var.name_prefix}-private-${local.azs[count.index]}", Tier = "private" })
}

resource "aws_subnet" "public" {
  count = local.public_subnet_count

  vpc_id                  = aws_vpc.this.id
  cidr_block              = cidrsubnet(var.cidr_block, 4, 8 + count.index)
  availability_zone       = local.azs[count.index]
  map_public_ip_on_launch = false
  tags                    = merge(var.tags, { Name = "${var.name_prefix}-public-${local.azs[count.index]}", Tier = "public" })
}

resource "aws_internet_gateway" "this" {
  count = var.enable_nat_gateway ? 1 : 0

  vpc_id = aws_vpc.this.id
  tags   = merge(var.tags, { Name = var.name_prefix })
}

resource "aws_eip" "nat" {
  count = local.nat_gateway_count

  domain     = "vpc"
  tags       = merge(var.tags, { Name = "${var.name_prefix}-nat-${local.azs[count.index]}" })
  depends_on = [aws_internet_gateway.this]
}

resource "aws_nat_gateway" "this" {
  count = local.nat_gateway_count

  allocation_id = aws_eip.nat[count.index].id
  subnet_id     = aws_subnet.public[count.index].id
  tags          = merge(var.tags, { Name = "${var.name_prefix}-nat-${local.azs[count.index]}" })
  depends_on    = [aws_internet_gateway.this]
}

resource "aws_route_table" "public" {
  count = var.enable_nat_gateway ? 1 : 0

  vpc_id = aws_vpc.this.id
  tags   = merge(var.tags, { Name = "${var.name_prefix}-public" })
}

resource "aws_route" "public_internet" {
  count = var.enable_nat_gateway ? 1 : 0

  route_table_id         = aws_route_table.public[0].id
  destination_cidr_block = "0.0.0.0/0"
  gateway_id             = aws_internet_gateway.this[0].id
}

resource "aws_route_table_association" "public" {
  count = local.public_subnet_count

  subnet_id      = aws_subnet.public[count.index].id
  route_table_id = aws_route_table.public[0].id
}

resource "aws_route_table" "private" {
  count = var.az_count

  vpc_id = aws_vpc.this.id
  tags   = merge(var.tags, { Name = "${var.name_prefix}-private-${local.azs[count.index]}" })
}

resource "aws_route" "private_nat" {
  count = var.enable_nat_gateway ? var.az_count : 0

  route_table_id         = aws_route_table.private[count.index].id
  destination_cidr_block = "0.0.0.0/0"
  nat_gateway_id         = aws_nat_gateway.this[var.single_nat_gateway ? 0 : count.index].id
}

resource "aws_route_table_association" "private" {
  count = var.az_count

  subnet_id      = aws_subnet.private[count.index].id
  route_table_id = aws_route_table.private[count.index].id
}

################################################################################
# VPC endpoints
################################################################################

resource "aws_security_group" "endpoints" {
  name        = "${var.name_prefix}-vpc-endpoints"
  description = "Interface VPC endpoints: HTTPS from inside the VPC only"
  vpc_id      = aws_vpc.this.id
  tags        = merge(var.tags, { Name = "${var.name_prefix}-vpc-endpoints" })
}

# HTTPS from the workload security groups only (not the whole VPC CIDR)
resource "aws_vpc_security_group_ingress_rule" "endpoints_https" {
  for_each = local.workload_groups

  security_group_id            = aws_security_group.endpoints.id
  description                  = "HTTPS from the ${each.key} security group"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = aws_security_group.workload[each.key].id
  tags                         = var.tags
}

resource "aws_vpc_endpoint" "s3" {
  vpc_id            = aws_vpc.this.id
  service_name      = "com.amazonaws.${local.region}.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = concat(aws_route_table.private[*].id, aws_route_table.public[*].id)
  tags              = merge(var.tags, { Name = "${var.name_prefix}-s3" })
}

resource "aws_vpc_endpoint" "interface" {
  for_each = toset(var.interface_endpoint_services)

  vpc_id              = aws_vpc.this.id
  service_name        = "com.amazonaws.${local.region}.${each.value}"
  vpc_endpoint_type   = "Interface"
  subnet_ids          = aws_subnet.private[*].id
  security_group_ids  = [aws_security_group.endpoints.id]
  private_dns_enabled = true
  tags                = merge(var.tags, { Name = "${var.name_prefix}-${each.value}" })
}

################################################################################
# Workload security groups: one per workload (MWAA, Batch compute, SageMaker endpoints)
################################################################################
# Least privilege: no ingress from anywhere but MWAA's own members (its web server and
# database endpoints share the group) and mwaa_ui_allowed_cidrs (modules/mwaa); egress on
# 443 to the interface endpoints, to S3 through the gateway endpoint (its prefix list) and,
# only with a NAT gateway, to the internet (PyPI for MWAA's requirements, AWS APIs without
# an endpoint). Batch and SageMaker accept nothing inbound.

locals {
  workload_groups = {
    mwaa      = "MWAA environment: members talk to each other (required by MWAA), HTTPS out"
    batch     = "Batch compute environment (GPU training instances): no inbound, HTTPS out"
    sagemaker = "SageMaker endpoints (model containers): no inbound, HTTPS out"
  }
}

resource "aws_security_group" "workload" {
  #checkov:skip=CKV2_AWS_5:Attached outside this module: mwaa by modules/mwaa, batch by modules/training (compute environment), sagemaker by modules/serving (endpoints' VPC config).
  for_each = local.workload_groups

  name        = "${var.name_prefix}-${each.key}"
  description = each.value
  vpc_id      = aws_vpc.this.id
  tags        = merge(var.tags, { Name = "${var.name_prefix}-${each.key}", Workload = each.key })
}

# MWAA requires a self-referencing rule: its web server and metadata database endpoints
# (and the workers) are members of the environment's group.
resource "aws_vpc_security_group_ingress_rule" "mwaa_self" {
  security_group_id            = aws_security_group.workload["mwaa"].id
  description                  = "All traffic between members of the MWAA group (MWAA requirement)"
  ip_protocol                  = "-1"
  referenced_security_group_id = aws_security_group.workload["mwaa"].id
  tags                         = var.tags
}

resource "aws_vpc_security_group_egress_rule" "mwaa_self" {
  security_group_id            = aws_security_group.workload["mwaa"].id
  description                  = "All traffic to members of the MWAA group (MWAA requirement)"
  ip_protocol                  = "-1"
  referenced_security_group_id = aws_security_group.workload["mwaa"].id
  tags                         = var.tags
}

resource "aws_vpc_security_group_egress_rule" "workload_endpoints" {
  for_each = local.workload_groups

  security_group_id            = aws_security_group.workload[each.key].id
  description                  = "HTTPS to the interface VPC endpoints"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = aws_security_group.endpoints.id
  tags                         = var.tags
}

resource "aws_vpc_security_group_egress_rule" "workload_s3" {
  for_each = local.workload_groups

  security_group_id = aws_security_group.workload[each.key].id
  description       = "HTTPS to S3 through the gateway endpoint"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  prefix_list_id    = aws_vpc_endpoint.s3.prefix_list_id
  tags              = var.tags
}

resource "aws_vpc_security_group_egress_rule" "workload_nat_https" {
  for_each = var.enable_nat_gateway ? local.workload_groups : {}

  security_group_id = aws_security_group.workload[each.key].id
  description       = "HTTPS to the internet through the NAT gateway (only with NAT)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
  tags              = var.tags
}

################################################################################
# Flow logs
################################################################################

resource "aws_cloudwatch_log_group" "flow_logs" {
  name              = local.flow_log_group_name
  retention_in_days = var.flow_logs_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

data "aws_iam_policy_document" "flow_logs_trust" {
  statement {
    sid     = "VpcFlowLogsAssume"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["vpc-flow-logs.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:ec2:${local.region}:${local.account_id}:vpc-flow-log/*"]
    }
  }
}

data "aws_iam_policy_document" "flow_logs" {
  statement {
    sid    = "WriteFlowLogGroup"
    effect = "Allow"
    actions = [
      "logs:CreateLogStream",
      "logs:PutLogEvents",
      "logs:DescribeLogStreams",
    ]
    resources = [
      aws_cloudwatch_log_group.flow_logs.arn,
      "${aws_cloudwatch_log_group.flow_logs.arn}:*",
    ]
  }
}

resource "aws_iam_role" "flow_logs" {
  name                 = "${var.name_prefix}-vpc-flow-logs"
  description          = "VPC flow logs delivery to ${local.flow_log_group_name}"
  assume_role_policy   = data.aws_iam_policy_document.flow_logs_trust.json
  permissions_boundary = var.permissions_boundary_arn
  tags                 = var.tags
}

resource "aws_iam_role_policy" "flow_logs" {
  name   = "write-flow-log-group"
  role   = aws_iam_role.flow_logs.id
  policy = data.aws_iam_policy_document.flow_logs.json
}

resource "aws_flow_log" "this" {
  vpc_id                   = aws_vpc.this.id
  traffic_type             = var.flow_logs_traffic_type
  log_destination_type     = "cloud-watch-logs"
  log_destination          = aws_cloudwatch_log_group.flow_logs.arn
  iam_role_arn             = aws_iam_role.flow_logs.arn
  max_aggregation_interval = 600
  tags                     = merge(var.tags, { Name = "${var.name_prefix}-flow-logs" })
}
