# Customer-managed KMS key for one account: rotation on, a key policy built from a list of
# statements (local.key_policy_statements, also an output) so that tests can inspect it.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id      = data.aws_caller_identity.current.account_id
  partition       = data.aws_partition.current.partition
  region          = data.aws_region.current.name
  source_accounts = length(var.source_account_ids) > 0 ? var.source_account_ids : [local.account_id]

  logs_principals       = [for p in var.service_principals : p if startswith(p, "logs.")]
  cloudtrail_principals = [for p in var.service_principals : p if p == "cloudtrail.amazonaws.com"]
  publish_principals    = [for p in var.service_principals : p if contains(["sns.amazonaws.com", "s3.amazonaws.com"], p)]
  other_principals = [
    for p in var.service_principals : p
    if !startswith(p, "logs.") && !contains(["cloudtrail.amazonaws.com", "sns.amazonaws.com", "s3.amazonaws.com"], p)
  ]

  source_account_condition = {
    test     = "StringEquals"
    variable = "aws:SourceAccount"
    values   = local.source_accounts
  }

  # In a key policy "Resource": "*" means "this key".
  key_policy_statements = concat(
    [{
      sid         = "AccountRootFullAccess"
      effect      = "Allow"
      actions     = ["kms:*"]
      resources   = ["*"]
      principals  = [{ type = "AWS", identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"] }]
      conditions  = []
      not_actions = null
    }],
    length(var.admin_role_arns) == 0 ? [] : [{
      sid    = "KeyAdministration"
      effect = "Allow"
      actions = [
        "kms:CancelKeyDeletion", "kms:Create*", "kms:Delete*", "kms:Describe*", "kms:Disable*",
        "kms:Enable*", "kms:Get*", "kms:List*", "kms:Put*", "kms:Revoke*",
        "kms:ScheduleKeyDeletion", "kms:TagResource", "kms:UntagResource", "kms:Update*",
      ]
      resources   = ["*"]
      principals  = [{ type = "AWS", identifiers = var.admin_role_arns }]
      conditions  = []
      not_actions = null
    }],
    length(var.key_user_arns) == 0 ? [] : [
      {
        sid         = "KeyUse"
        effect      = "Allow"
        actions     = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]
        resources   = ["*"]
        principals  = [{ type = "AWS", identifiers = var.key_user_arns }]
        conditions  = []
        not_actions = null
      },
      {
        sid         = "KeyUseGrantsForAwsResources"
        effect      = "Allow"
        actions     = ["kms:CreateGrant"]
        resources   = ["*"]
        principals  = [{ type = "AWS", identifiers = var.key_user_arns }]
        not_actions = null
        conditions  = [{ test = "Bool", variable = "kms:GrantIsForAWSResource", values = ["true"] }]
      },
    ],
    length(local.logs_principals) == 0 ? [] : [{
      sid         = "CloudWatchLogsUse"
      effect      = "Allow"
      actions     = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
      resources   = ["*"]
      principals  = [{ type = "Service", identifiers = local.logs_principals }]
      not_actions = null
      conditions = [{
        test     = "ArnLike"
        variable = "kms:EncryptionContext:aws:logs:arn"
        values   = [for a in local.source_accounts : "arn:${local.partition}:logs:${local.region}:${a}:log-group:*"]
      }]
    }],
    length(local.cloudtrail_principals) == 0 ? [] : [
      {
        sid         = "CloudTrailEncryptLogs"
        effect      = "Allow"
        actions     = ["kms:GenerateDataKey*"]
        resources   = ["*"]
        principals  = [{ type = "Service", identifiers = local.cloudtrail_principals }]
        not_actions = null
        conditions = [
          local.source_account_condition,
          {
            test     = "StringLike"
            variable = "kms:EncryptionContext:aws:cloudtrail:arn"
            values   = [for a in local.source_accounts : "arn:${local.partition}:cloudtrail:*:${a}:trail/*"]
          },
        ]
      },
      {
        sid         = "CloudTrailDescribeKey"
        effect      = "Allow"
        actions     = ["kms:DescribeKey"]
        resources   = ["*"]
        principals  = [{ type = "Service", identifiers = local.cloudtrail_principals }]
        not_actions = null
        conditions  = [local.source_account_condition]
      },
    ],
    length(local.publish_principals) == 0 ? [] : [{
      sid         = "SnsS3Use"
      effect      = "Allow"
      actions     = ["kms:Decrypt", "kms:GenerateDataKey*"]
      resources   = ["*"]
      principals  = [{ type = "Service", identifiers = local.publish_principals }]
      not_actions = null
      conditions  = [local.source_account_condition]
    }],
    # the promotion readers decrypt the outbox objects (modules/storage), through S3 only
    length(var.promotion_reader_account_ids) == 0 ? [] : [{
      sid         = "PromotionReadersDecryptViaS3"
      effect      = "Allow"
      actions     = ["kms:Decrypt", "kms:DescribeKey"]
      resources   = ["*"]
      principals  = [{ type = "AWS", identifiers = [for a in var.promotion_reader_account_ids : "arn:${local.partition}:iam::${a}:root"] }]
      not_actions = null
      conditions = [
        { test = "StringEquals", variable = "kms:ViaService", values = ["s3.${local.region}.amazonaws.com"] },
        { test = "StringEquals", variable = "kms:CallerAccount", values = var.promotion_reader_account_ids },
      ]
    }],
    length(local.other_principals) == 0 ? [] : [{
      sid         = "ServiceUse"
      effect      = "Allow"
      actions     = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]
      resources   = ["*"]
      principals  = [{ type = "Service", identifiers = local.other_principals }]
      not_actions = null
      conditions  = [local.source_account_condition]
    }],
  )
}

data "aws_iam_policy_document" "key" {
  #checkov:skip=CKV_AWS_109:Key policy: the account-root kms:* statement is AWS's default key policy (delegates to IAM) and "*" means this key only.
  #checkov:skip=CKV_AWS_111:Key policy: "*" is this key; write actions are limited to the root account, the named admin roles and condition-scoped service principals.
  #checkov:skip=CKV_AWS_356:Key policy: a key policy's Resource can only be "*" (this key).
  dynamic "statement" {
    for_each = local.key_policy_statements
    content {
      sid         = statement.value.sid
      effect      = statement.value.effect
      actions     = statement.value.actions
      not_actions = statement.value.not_actions
      resources   = statement.value.resources

      dynamic "principals" {
        for_each = statement.value.principals
        content {
          type        = principals.value.type
          identifiers = principals.value.identifiers
        }
      }

      dynamic "condition" {
        for_each = statement.value.conditions
        content {
          test     = condition.value.test
          variable = condition.value.variable
          values   = condition.value.values
        }
      }
    }
  }
}

resource "aws_kms_key" "this" {
  description              = coalesce(var.description, "Forecourt ${var.name_prefix}: customer-managed key for logs, S3, SNS, CloudTrail and workloads")
  key_usage                = "ENCRYPT_DECRYPT"
  customer_master_key_spec = "SYMMETRIC_DEFAULT"
  enable_key_rotation      = true
  rotation_period_in_days  = var.rotation_period_in_days
  deletion_window_in_days  = var.deletion_window_in_days
  multi_region             = false
  policy                   = data.aws_iam_policy_document.key.json
  tags                     = merge(var.tags, { Name = var.name_prefix })
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name_prefix}"
  target_key_id = aws_kms_key.this.key_id
}
