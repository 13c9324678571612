# Service control policies on the workloads and security OUs. SCPs never restrict the
# management account, which is why the trail's bucket and key live in the log-archive account
# (security OU). Two policies (an OU takes at most five, FullAWSAccess included): the baseline
# guardrails and the region allow-list. The documents are locals so that tests read them as data.

locals {
  log_bucket_arn = "arn:${local.partition}:s3:::${local.log_bucket_name}"
  # terraform/log-archive applies through the log-archive account's
  # OrganizationAccountAccessRole (assumable only from the management account): the one
  # principal exempt from the trail bucket and key statements
  exempt_log_archive_admin = {
    ArnNotLike = { "aws:PrincipalArn" = [local.log_archive_access_role_arn] }
  }

  scp_guardrails = {
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "DenyLeavingTheOrganization"
        Effect   = "Deny"
        Action   = ["organizations:LeaveOrganization"]
        Resource = "*"
      },
      {
        Sid    = "DenyCloudTrailTampering"
        Effect = "Deny"
        Action = [
          "cloudtrail:StopLogging",
          "cloudtrail:DeleteTrail",
          "cloudtrail:UpdateTrail",
          "cloudtrail:PutEventSelectors",
          "cloudtrail:PutInsightSelectors",
          "cloudtrail:DeleteEventDataStore",
          "cloudtrail:UpdateEventDataStore",
        ]
        Resource = "*"
      },
      {
        Sid    = "DenyTrailLogBucketTampering"
        Effect = "Deny"
        Action = [
          "s3:DeleteBucket",
          "s3:DeleteBucketPolicy",
          "s3:PutBucketPolicy",
          "s3:PutBucketVersioning",
          "s3:PutLifecycleConfiguration",
          "s3:PutBucketObjectLockConfiguration",
          "s3:DeleteObject",
          "s3:DeleteObjectVersion",
          "s3:PutEncryptionConfiguration",
          "s3:PutBucketPublicAccessBlock",
          "s3:PutBucketOwnershipControls",
          "s3:BypassGovernanceRetention",
          "s3:PutObjectRetention",
          "s3:PutObjectLegalHold",
        ]
        Resource  = [local.log_bucket_arn, "${local.log_bucket_arn}/*"]
        Condition = local.exempt_log_archive_admin
      },
      {
        # the role through which the management account reaches every member account
        Sid    = "DenyAccessRoleTampering"
        Effect = "Deny"
        Action = [
          "iam:AttachRolePolicy", "iam:DeleteRole", "iam:DeleteRolePermissionsBoundary",
          "iam:DeleteRolePolicy", "iam:DetachRolePolicy", "iam:PutRolePermissionsBoundary",
          "iam:PutRolePolicy", "iam:UpdateAssumeRolePolicy", "iam:UpdateRole",
        ]
        Resource = ["arn:${local.partition}:iam::*:role/OrganizationAccountAccessRole"]
      },
      {
        # the trail key (once terraform/log-archive made it): nobody but that role disables,
        # deletes or re-polices it
        Sid    = "DenyTrailKeyTampering"
        Effect = "Deny"
        Action = [
          "kms:DisableKey", "kms:ScheduleKeyDeletion", "kms:PutKeyPolicy", "kms:CreateGrant",
          "kms:DisableKeyRotation", "kms:UpdateAlias", "kms:DeleteAlias",
        ]
        Resource  = [coalesce(var.trail_kms_key_arn, "arn:${local.partition}:kms:*:${local.log_archive_id}:key/*")]
        Condition = local.exempt_log_archive_admin
      },
      {
        Sid      = "DenyRootUser"
        Effect   = "Deny"
        Action   = "*"
        Resource = "*"
        Condition = {
          StringLike = { "aws:PrincipalArn" = ["arn:${local.partition}:iam::*:root"] }
        }
      },
    ]
  }

  # Global services (IAM, Organizations, STS, billing, Route 53, CloudFront, ...) answer
  # from us-east-1 whatever region a caller uses: they are exempt, as in AWS's example.
  region_exempt_actions = [
    "a4b:*", "account:*", "acm:*", "aws-marketplace-management:*", "aws-marketplace:*",
    "aws-portal:*", "budgets:*", "ce:*", "chime:*", "cloudfront:*", "config:*", "cur:*",
    "directconnect:*", "ec2:DescribeRegions", "ec2:DescribeTransitGateways",
    "ec2:DescribeVpnGateways", "fms:*", "globalaccelerator:*", "health:*", "iam:*",
    "importexport:*", "kms:*", "mobileanalytics:*", "networkmanager:*", "organizations:*",
    "pricing:*", "route53:*", "route53domains:*", "route53-recovery-cluster:*",
    "route53-recovery-control-config:*", "route53-recovery-readiness:*",
    "s3:GetAccountPublic*", "s3:ListAllMyBuckets", "s3:ListMultiRegionAccessPoints",
    "s3:PutAccountPublic*", "shield:*", "sts:*", "support:*", "trustedadvisor:*",
    "waf-regional:*", "waf:*", "wafv2:*", "wellarchitected:*",
  ]

  scp_region_allowlist = {
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "DenyOutsideAllowedRegions"
        Effect    = "Deny"
        NotAction = local.region_exempt_actions
        Resource  = "*"
        Condition = {
          StringNotEquals = { "aws:RequestedRegion" = var.allowed_regions }
        }
      },
    ]
  }

  scps = {
    guardrails = {
      description = "Deny leaving the organization, CloudTrail, trail bucket and key tampering, access-role tampering, and the root user."
      document    = local.scp_guardrails
    }
    region-allowlist = {
      description = "Deny regional services outside ${join(", ", var.allowed_regions)}."
      document    = local.scp_region_allowlist
    }
  }
}

resource "aws_organizations_policy" "scp" {
  for_each = local.scps

  name        = "${var.name_prefix}-${each.key}"
  description = each.value.description
  type        = "SERVICE_CONTROL_POLICY"
  content     = jsonencode(each.value.document)

  lifecycle {
    precondition {
      condition     = length(jsonencode(each.value.document)) <= 5120
      error_message = "An SCP may hold at most 5,120 characters."
    }
    precondition {
      condition     = contains(var.allowed_regions, var.region)
      error_message = "allowed_regions must include the home region (var.region)."
    }
  }

  depends_on = [aws_organizations_organization.this]
}

resource "aws_organizations_policy_attachment" "workloads" {
  for_each = aws_organizations_policy.scp

  policy_id = each.value.id
  target_id = aws_organizations_organizational_unit.workloads.id
}

# the same guardrails on the security OU: they are what protects the trail bucket and key
resource "aws_organizations_policy_attachment" "security" {
  for_each = aws_organizations_policy.scp

  policy_id = each.value.id
  target_id = aws_organizations_organizational_unit.security.id
}
