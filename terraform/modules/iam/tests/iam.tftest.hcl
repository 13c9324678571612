mock_provider "aws" {
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
  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }
  mock_resource "aws_iam_policy" {
    defaults = {
      arn = "arn:aws:iam::111122223333:policy/forecourt-dev-workload-boundary"
    }
  }
  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::111122223333:role/forecourt-dev-mock"
    }
  }
  mock_resource "aws_iam_instance_profile" {
    defaults = {
      arn = "arn:aws:iam::111122223333:instance-profile/forecourt-dev-batch-instance"
    }
  }
}

variables {
  name_prefix          = "forecourt-dev"
  tags                 = { Project = "forecourt", Environment = "dev" }
  data_bucket_arn      = "arn:aws:s3:::forecourt-dev-111122223333-data"
  artifacts_bucket_arn = "arn:aws:s3:::forecourt-dev-111122223333-artifacts"
  dags_bucket_arn      = "arn:aws:s3:::forecourt-dev-111122223333-dags"
  kms_key_arn          = "arn:aws:kms:eu-west-1:111122223333:key/11111111-2222-3333-4444-555555555555"
  ecr_repository_arns = [
    "arn:aws:ecr:eu-west-1:111122223333:repository/forecourt-dev-training",
    "arn:aws:ecr:eu-west-1:111122223333:repository/forecourt-dev-serving",
  ]
  sns_topic_arn                   = "arn:aws:sns:eu-west-1:111122223333:forecourt-dev-alerts"
  batch_job_queue_arn             = "arn:aws:batch:eu-west-1:111122223333:job-queue/forecourt-dev-training"
  batch_job_definition_arn_prefix = "arn:aws:batch:eu-west-1:111122223333:job-definition/forecourt-dev-training"
  admin_principal_arns            = ["arn:aws:iam::444455556666:role/sso-admins"]
  trusted_account_id              = "777788889999"
}

run "roles_and_boundary" {
  command = apply

  assert {
    condition     = toset(keys(aws_iam_role.workload)) == toset(["training_job", "batch_instance", "batch_service", "sagemaker_execution", "mlflow"])
    error_message = "One workload role per component."
  }
  assert {
    condition     = alltrue([for k, r in aws_iam_role.workload : r.permissions_boundary == aws_iam_policy.boundary.arn])
    error_message = "Every workload role must carry the permission boundary."
  }
  assert {
    condition     = output.permission_boundary_arn == aws_iam_policy.boundary.arn
    error_message = "The boundary ARN must be an output."
  }
  assert {
    condition     = aws_iam_role.admin.max_session_duration == 3600
    error_message = "Admin sessions last at most 1 hour."
  }
  assert {
    condition     = aws_iam_instance_profile.batch.role == aws_iam_role.workload["batch_instance"].name
    error_message = "The instance profile wraps the Batch instance role."
  }
  assert {
    condition = toset([for a in aws_iam_role_policy_attachment.workload_managed : "${a.role}=${a.policy_arn}"]) == toset([
      "forecourt-dev-batch-instance=arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role",
      "forecourt-dev-batch-service=arn:aws:iam::aws:policy/service-role/AWSBatchServiceRole",
    ])
    error_message = "Only the Batch instance and service roles get AWS-managed policies."
  }
  assert {
    condition     = !contains([for a in aws_iam_role_policy_attachment.admin : a.policy_arn], "arn:aws:iam::aws:policy/AdministratorAccess")
    error_message = "The admin role must not get AdministratorAccess."
  }
  assert {
    condition     = length(aws_iam_policy.pipeline_operator) == 1
    error_message = "The pipeline-operator policy exists when the queue and definition are known."
  }
}

run "admin_trust_requires_mfa" {
  command = plan

  assert {
    condition = alltrue([
      for s in output.trust_statements["admin"] : anytrue([
        for c in s.conditions : c.test == "Bool" && c.variable == "aws:MultiFactorAuthPresent" && c.values == ["true"]
      ]) if s.effect == "Allow"
    ]) && length(output.trust_statements["admin"]) > 0
    error_message = "Every admin trust statement must require aws:MultiFactorAuthPresent = true."
  }
  assert {
    condition = alltrue([
      for s in output.trust_statements["admin"] : anytrue([
        for c in s.conditions : c.test == "NumericLessThan" && c.variable == "aws:MultiFactorAuthAge"
      ])
    ])
    error_message = "The admin trust must bound the MFA age."
  }
  assert {
    condition     = jsonencode(output.trust_statements["admin"][0].principals[0].identifiers) == jsonencode(["arn:aws:iam::444455556666:role/sso-admins"])
    error_message = "Only admin_principal_arns may assume the admin role."
  }
  assert {
    condition     = jsonencode(output.trust_statements["deploy"][0].principals[0].identifiers) == jsonencode(["arn:aws:iam::777788889999:root"])
    error_message = "The deploy role trusts the trusted account only."
  }
  assert {
    condition = alltrue(flatten([
      for k, stmts in output.trust_statements : [
        for s in stmts : anytrue([for c in s.conditions : c.variable == "aws:SourceAccount" && c.values == ["111122223333"]])
        if s.principals[0].type == "Service" && !contains(s.principals[0].identifiers, "ec2.amazonaws.com")
      ]
    ]))
    error_message = "Service trust policies (except EC2) must pin aws:SourceAccount against the confused deputy."
  }
}

run "no_wildcard_action_on_wildcard_resource" {
  command = plan

  assert {
    condition = alltrue(flatten([
      for k, stmts in output.policy_statements : [
        for s in stmts : !(s.effect == "Allow" && contains(s.resources, "*") && anytrue([for a in s.actions : a == "*" || a == "*:*"]))
      ]
    ]))
    error_message = "No Allow statement may grant Action * on Resource *."
  }
  assert {
    condition = alltrue(flatten([
      for k, stmts in output.policy_statements : [for s in stmts : length(s.not_actions) == 0 if s.effect == "Allow"]
    ]))
    error_message = "No Allow statement may use NotAction."
  }
  # Resource "*" in an Allow only for actions that have no resource-level permissions (or the boundary's service list).
  assert {
    condition = alltrue(flatten([
      for k, stmts in output.policy_statements : [
        for s in stmts : alltrue([
          for a in s.actions : anytrue([
            for ok in [
              "ecr:GetAuthorizationToken", "cloudwatch:PutMetricData", "ec2:Describe", "batch:Describe", "batch:List",
              "kms:CreateKey", "kms:List", "logs:DescribeLogGroups", "sagemaker:List", "cloudwatch:Describe",
              "cloudwatch:List", "cloudwatch:GetMetricData", "cloudtrail:DescribeTrails", "ec2:", "batch:ListJobs",
            ] : startswith(a, ok)
          ])
        ]) if s.effect == "Allow" && contains(s.resources, "*") && !(k == "permission_boundary" && s.sid == "AllowListedServices")
      ]
    ]))
    error_message = "An Allow on Resource * is only for actions without resource-level permissions."
  }
  assert {
    condition = alltrue(flatten([
      for k, stmts in output.policy_statements : [
        for s in stmts : length(s.conditions) > 0
        if s.effect == "Allow" && contains(s.resources, "*") && contains(s.actions, "cloudwatch:PutMetricData")
      ]
    ]))
    error_message = "PutMetricData on * must be scoped by namespace."
  }
}

run "training_job_least_privilege" {
  command = plan

  assert {
    condition = alltrue(flatten([
      for s in output.policy_statements["training_job"] : [
        for r in s.resources : (startswith(r, "${var.artifacts_bucket_arn}/") || startswith(r, "${var.data_bucket_arn}/")) && !contains(["${var.artifacts_bucket_arn}/*", "${var.data_bucket_arn}/*"], r)
      ] if contains(s.actions, "s3:PutObject")
    ]))
    error_message = "The training job writes only under named prefixes (never a whole bucket)."
  }
  assert {
    condition = alltrue(flatten([
      for s in output.policy_statements["training_job"] : [
        for r in s.resources : !startswith(r, var.data_bucket_arn) || r == "${var.data_bucket_arn}/store/recommendations/*"
      ] if anytrue([for a in s.actions : contains(["s3:PutObject", "s3:DeleteObject"], a)])
    ]))
    error_message = "The training job writes the data bucket only under the store's recommendations/ (write_recommendations)."
  }
  assert {
    condition = anytrue([
      for s in output.policy_statements["training_job"] :
      contains(s.actions, "s3:PutObject") && contains(s.actions, "s3:GetObject") && contains(s.resources, "${var.artifacts_bucket_arn}/runs/*")
    ])
    error_message = "The training job reads and writes the run folders (FORECOURT_RUNS = s3://<artifacts>/runs)."
  }
  assert {
    condition = anytrue([
      for s in output.policy_statements["training_job"] :
      contains(s.actions, "sagemaker-mlflow:SetRegisteredModelAlias") && contains(s.actions, "sagemaker-mlflow:SetModelVersionTag") && !anytrue([for a in s.actions : endswith(a, ":*")])
    ])
    error_message = "The training job registers, tags and promotes models (named sagemaker-mlflow actions, no wildcard)."
  }
  assert {
    condition = anytrue([
      for s in output.policy_statements["training_job"] :
      contains(s.actions, "s3:GetObject") && contains(s.resources, "${var.data_bucket_arn}/*")
    ])
    error_message = "The training job reads the data bucket."
  }
  assert {
    condition = anytrue([
      for s in output.policy_statements["training_job"] :
      contains(s.actions, "kms:Decrypt") && contains(s.actions, "kms:GenerateDataKey") && jsonencode(s.resources) == jsonencode([var.kms_key_arn])
    ])
    error_message = "The training job may decrypt/generate data keys with the key only."
  }
  assert {
    condition = anytrue([
      for s in output.policy_statements["training_job"] :
      contains(s.actions, "ecr:BatchGetImage") && toset(s.resources) == toset(var.ecr_repository_arns)
    ])
    error_message = "The training job pulls from its ECR repositories only."
  }
  assert {
    condition = anytrue([
      for s in output.policy_statements["training_job"] :
      contains(s.actions, "logs:PutLogEvents") && contains(s.resources, "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/batch/job:*")
    ])
    error_message = "The training job writes to its log group."
  }
}

run "training_job_deploys_champions" {
  command = plan

  variables {
    training_job_deploys_to_sagemaker = true
  }

  assert {
    condition = anytrue([
      for s in output.policy_statements["training_job"] :
      contains(s.actions, "sagemaker:CreateEndpoint") && contains(s.actions, "sagemaker:UpdateEndpoint") && contains(s.actions, "sagemaker:DeleteModel") &&
      toset(s.resources) == toset([for k in ["model", "endpoint-config", "endpoint"] : "arn:aws:sagemaker:eu-west-1:111122223333:${k}/forecourt-dev-*"])
    ])
    error_message = "The training job creates, updates and prunes <name_prefix>-* models, endpoint configurations and endpoints only."
  }
  assert {
    condition = alltrue([
      for s in output.policy_statements["training_job"] :
      s.resources == ["arn:aws:iam::111122223333:role/forecourt-dev-sagemaker-execution"] && s.conditions == [{ test = "StringEquals", variable = "iam:PassedToService", values = ["sagemaker.amazonaws.com"] }]
      if contains(s.actions, "iam:PassRole")
    ]) && anytrue([for s in output.policy_statements["training_job"] : contains(s.actions, "iam:PassRole")])
    error_message = "The training job passes only the SageMaker execution role, only to SageMaker."
  }
  assert {
    condition = anytrue([
      for s in output.policy_statements["training_job"] :
      contains(s.actions, "s3:PutObject") && s.resources == ["${var.artifacts_bucket_arn}/models/serving/*"]
    ])
    error_message = "The training job uploads model tarballs under models/serving/."
  }
}

run "training_job_does_not_deploy_by_default" {
  command = plan

  assert {
    condition     = !anytrue([for s in output.policy_statements["training_job"] : anytrue([for a in s.actions : startswith(a, "sagemaker:") || startswith(a, "iam:")])])
    error_message = "Without training_job_deploys_to_sagemaker the training job has no sagemaker: or iam: action."
  }
}

run "rejects_deploy_prefix_outside_model_prefixes" {
  command = plan

  variables {
    training_job_deploys_to_sagemaker = true
    sagemaker_deploy_model_prefix     = "runs/serving/"
  }

  expect_failures = [var.sagemaker_deploy_model_prefix]
}

run "sagemaker_and_mlflow_scoped" {
  command = plan

  assert {
    condition = alltrue(flatten([
      for s in output.policy_statements["sagemaker_execution"] : [
        for r in s.resources : startswith(r, "${var.artifacts_bucket_arn}/models/")
      ] if contains(s.actions, "s3:GetObject")
    ]))
    error_message = "SageMaker reads model data under models/ only."
  }
  assert {
    condition = alltrue(flatten([
      for s in output.policy_statements["mlflow"] : [
        for r in s.resources : r == var.artifacts_bucket_arn || startswith(r, "${var.artifacts_bucket_arn}/mlflow/")
      ] if anytrue([for a in s.actions : startswith(a, "s3:")])
    ]))
    error_message = "MLflow touches only the artifacts bucket's mlflow/ prefix."
  }
  assert {
    condition = anytrue([
      for s in output.policy_statements["mlflow"] : anytrue([for c in s.conditions : c.variable == "s3:prefix" && jsonencode(c.values) == jsonencode(["mlflow/*"])])
      if contains(s.actions, "s3:ListBucket")
    ])
    error_message = "MLflow lists only the mlflow/ prefix."
  }
}

run "boundary_caps" {
  command = plan

  assert {
    condition = anytrue([
      for s in output.policy_statements["permission_boundary"] :
      s.effect == "Deny" && contains(s.actions, "iam:CreateUser") && contains(s.actions, "iam:CreateRole") && contains(s.actions, "iam:CreateAccessKey")
    ])
    error_message = "The boundary denies IAM user/role/key creation."
  }
  assert {
    condition = anytrue([
      for s in output.policy_statements["permission_boundary"] : s.effect == "Deny" && contains(s.actions, "organizations:*")
    ])
    error_message = "The boundary denies Organizations."
  }
  assert {
    condition = anytrue([
      for s in output.policy_statements["permission_boundary"] :
      s.effect == "Deny" && contains(s.actions, "cloudtrail:StopLogging") && contains(s.actions, "cloudtrail:DeleteTrail")
    ])
    error_message = "The boundary denies stopping or deleting CloudTrail."
  }
  assert {
    condition = anytrue([
      for s in output.policy_statements["permission_boundary"] :
      s.effect == "Deny" && anytrue([for c in s.conditions : c.test == "StringNotEquals" && c.variable == "aws:RequestedRegion" && jsonencode(c.values) == jsonencode(["eu-west-1"])])
    ])
    error_message = "The boundary denies requests outside the allowed regions."
  }
  assert {
    condition = anytrue([
      for s in output.policy_statements["permission_boundary"] :
      s.effect == "Deny" && contains(s.actions, "s3:PutObject") && jsonencode(s.resources) == jsonencode(["${var.dags_bucket_arn}/*"])
    ])
    error_message = "The boundary denies workloads writes to the DAGs bucket."
  }
  assert {
    condition = !anytrue(flatten([
      for s in output.policy_statements["permission_boundary"] : [for a in s.actions : startswith(a, "iam:Create") && a != "iam:CreateServiceLinkedRole"] if s.effect == "Allow"
    ]))
    error_message = "The boundary allows no IAM creation except service-linked roles."
  }
}

run "deploy_role_guardrails" {
  command = plan

  assert {
    condition = anytrue([
      for s in output.policy_statements["deploy"] :
      s.effect == "Deny" && contains(s.actions, "iam:CreateUser") && contains(s.actions, "organizations:*") && contains(s.actions, "cloudtrail:StopLogging")
    ])
    error_message = "The deploy role may not create users, touch Organizations or stop trails."
  }
  assert {
    condition = alltrue(flatten([
      for s in output.policy_statements["deploy"] : [
        for r in s.resources : strcontains(r, "forecourt-dev") || strcontains(r, "aws-service-role") || r == "arn:aws:iam::aws:policy/*"
      ] if s.effect == "Allow" && anytrue([for a in s.actions : startswith(a, "iam:")])
    ]))
    error_message = "The deploy role's IAM rights are scoped to this stack's names."
  }
}

run "optional_inputs_off" {
  command = plan

  variables {
    ecr_repository_arns             = []
    sns_topic_arn                   = null
    batch_job_queue_arn             = null
    batch_job_definition_arn_prefix = null
  }

  assert {
    condition     = length(output.policy_statements["pipeline_operator"]) == 0 && length(aws_iam_policy.pipeline_operator) == 0
    error_message = "No pipeline-operator policy without a queue."
  }
  assert {
    condition     = !anytrue([for s in output.policy_statements["training_job"] : contains(s.actions, "sns:Publish") || contains(s.actions, "ecr:BatchGetImage")])
    error_message = "No SNS or ECR pull statements without their inputs."
  }
}

run "deploy_external_id" {
  command = plan

  variables {
    deploy_external_id = "forecourt-ci"
  }

  assert {
    condition = anytrue([
      for c in output.trust_statements["deploy"][0].conditions :
      c.test == "StringEquals" && c.variable == "sts:ExternalId" && jsonencode(c.values) == jsonencode(["forecourt-ci"])
    ])
    error_message = "With deploy_external_id the deploy trust requires sts:ExternalId."
  }
}

run "rejects_bad_external_id" {
  command = plan

  variables {
    deploy_external_id = "has spaces"
  }

  expect_failures = [var.deploy_external_id]
}

run "rejects_admin_without_principals" {
  command = plan

  variables {
    admin_principal_arns = []
  }

  expect_failures = [var.admin_principal_arns]
}

run "rejects_administrator_access" {
  command = plan

  variables {
    admin_managed_policy_names = ["AdministratorAccess"]
  }

  expect_failures = [var.admin_managed_policy_names]
}

run "rejects_bucket_root_prefix" {
  command = plan

  variables {
    training_artifact_prefixes = ["*"]
  }

  expect_failures = [var.training_artifact_prefixes]
}

run "deploy_principals_narrow_the_trust" {
  command = plan

  variables {
    deploy_principal_arns = ["arn:aws:iam::777788889999:role/ci-terraform"]
  }

  assert {
    condition     = jsonencode(output.trust_statements["deploy"][0].principals[0].identifiers) == jsonencode(["arn:aws:iam::777788889999:role/ci-terraform"])
    error_message = "deploy_principal_arns replace the account root in the deploy trust."
  }
}

run "rejects_deploy_principal_outside_trusted_account" {
  command = plan

  variables {
    deploy_principal_arns = ["arn:aws:iam::123412341234:role/ci-terraform"]
  }

  expect_failures = [var.deploy_principal_arns]
}
