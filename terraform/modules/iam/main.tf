# One IAM role per component, each with only what it uses, plus an MFA-only admin role, a
# deploy role for CI/Terraform and a permission boundary on every workload role.
#
# Every policy is built from a list of statements in local.policy_statements (and trust
# policies from local.trust_statements); both are outputs, so tests and reviews can check
# the statements themselves (aws_iam_policy_document's JSON is opaque under a mock provider).
# Statement shape: { sid, effect, actions, not_actions, resources, conditions = [{ test, variable, values }] }
# (actions/not_actions: [] when unused).

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name
  n          = var.name_prefix

  allowed_regions = length(var.allowed_regions) > 0 ? var.allowed_regions : [local.region]

  region_condition = { test = "StringEquals", variable = "aws:RequestedRegion", values = local.allowed_regions }
  source_account   = { test = "StringEquals", variable = "aws:SourceAccount", values = [local.account_id] }

  mlflow_tracking_server_arn = coalesce(
    var.mlflow_tracking_server_arn,
    "arn:${local.partition}:sagemaker:${local.region}:${local.account_id}:mlflow-tracking-server/${local.n}*",
  )

  training_log_group_arn   = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${var.training_log_group_name}"
  sagemaker_log_groups_arn = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/sagemaker/*"

  ecr_pull_actions = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
  kms_use_actions  = ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"]

  mlflow_client_actions = [for a in [
    "CreateExperiment", "GetExperiment", "GetExperimentByName", "SearchExperiments", "SetExperimentTag",
    "CreateRun", "GetRun", "UpdateRun", "SearchRuns", "LogMetric", "LogParam", "LogBatch", "LogModel",
    "LogInputs", "SetTag", "GetMetricHistory", "ListArtifacts",
    "CreateRegisteredModel", "GetRegisteredModel", "SearchRegisteredModels", "UpdateRegisteredModel",
    "SetRegisteredModelTag", "CreateModelVersion", "GetModelVersion", "UpdateModelVersion", "SetModelVersionTag",
    "SearchModelVersions", "GetLatestModelVersions", "GetModelVersionByAlias", "SetRegisteredModelAlias",
    "GetDownloadURIForModelVersionArtifacts",
  ] : "sagemaker-mlflow:${a}"]

  ##############################################################################
  # Component roles: trust and managed policies
  ##############################################################################

  # Every one of these gets the permission boundary.
  workload_roles = {
    training_job = {
      name        = "${local.n}-training-job"
      description = "Batch training job (ECS task role): reads data, writes its artifact prefixes, logs to MLflow"
      service     = "ecs-tasks.amazonaws.com"
      managed     = []
    }
    batch_instance = {
      name        = "${local.n}-batch-instance"
      description = "EC2 instances of the Batch compute environment (ECS agent)"
      service     = "ec2.amazonaws.com"
      managed     = ["arn:${local.partition}:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"]
    }
    batch_service = {
      name        = "${local.n}-batch-service"
      description = "AWS Batch service role for the compute environment"
      service     = "batch.amazonaws.com"
      managed     = ["arn:${local.partition}:iam::aws:policy/service-role/AWSBatchServiceRole"]
    }
    sagemaker_execution = {
      name        = "${local.n}-sagemaker-execution"
      description = "SageMaker endpoints: read model data, write data capture, pull serving image"
      service     = "sagemaker.amazonaws.com"
      managed     = []
    }
    mlflow = {
      name        = "${local.n}-mlflow"
      description = "SageMaker managed MLflow tracking server: its artifact prefix only"
      service     = "sagemaker.amazonaws.com"
      managed     = []
    }
  }

  trust_statements = merge(
    {
      for k, r in local.workload_roles : k => [{
        sid        = "${replace(title(replace(k, "_", " ")), " ", "")}Assume"
        effect     = "Allow"
        actions    = ["sts:AssumeRole"]
        principals = [{ type = "Service", identifiers = [r.service] }]
        # EC2 sends no aws:SourceAccount for instance profiles; every other service does.
        conditions = r.service == "ec2.amazonaws.com" ? [] : (
          r.service == "ecs-tasks.amazonaws.com" ? [
            local.source_account,
            { test = "ArnLike", variable = "aws:SourceArn", values = ["arn:${local.partition}:ecs:${local.region}:${local.account_id}:*"] },
          ] : [local.source_account]
        )
      }]
    },
    {
      admin = [{
        sid        = "AdminAssumeWithMfa"
        effect     = "Allow"
        actions    = ["sts:AssumeRole"]
        principals = [{ type = "AWS", identifiers = var.admin_principal_arns }]
        conditions = [
          { test = "Bool", variable = "aws:MultiFactorAuthPresent", values = ["true"] },
          { test = "NumericLessThan", variable = "aws:MultiFactorAuthAge", values = [tostring(var.admin_mfa_max_age_seconds)] },
        ]
      }]
      deploy = [{
        sid     = "DeployAssumeFromTrustedAccount"
        effect  = "Allow"
        actions = ["sts:AssumeRole"]
        principals = [{
          type        = "AWS"
          identifiers = length(var.deploy_principal_arns) > 0 ? var.deploy_principal_arns : ["arn:${local.partition}:iam::${var.trusted_account_id}:root"]
        }]
        conditions = var.deploy_external_id == null ? [] : [
          { test = "StringEquals", variable = "sts:ExternalId", values = [var.deploy_external_id] },
        ]
      }]
    },
  )

  ##############################################################################
  # Permission statements
  ##############################################################################

  training_job_statements = concat(
    [
      {
        sid       = "ListDataBucket"
        actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
        resources = [var.data_bucket_arn]
      },
      {
        sid       = "ReadDataObjects"
        actions   = ["s3:GetObject", "s3:GetObjectVersion"]
        resources = ["${var.data_bucket_arn}/*"]
      },
      {
        # write_recommendations (a Batch job) writes tomorrow's prices into the store;
        # accepting and quarantining deliveries is MWAA's (modules/mwaa)
        sid       = "WriteStorePrefixes"
        actions   = ["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
        resources = [for p in var.training_data_write_prefixes : "${var.data_bucket_arn}/${p}*"]
      },
      {
        sid        = "ListArtifactPrefixes"
        actions    = ["s3:ListBucket"]
        resources  = [var.artifacts_bucket_arn]
        conditions = [{ test = "StringLike", variable = "s3:prefix", values = [for p in var.training_artifact_prefixes : "${p}*"] }]
      },
      {
        sid       = "ArtifactsBucketLocation"
        actions   = ["s3:GetBucketLocation"]
        resources = [var.artifacts_bucket_arn]
      },
      {
        sid = "ReadWriteArtifactPrefixes"
        actions = [
          "s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject",
          "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts",
        ]
        resources = [for p in var.training_artifact_prefixes : "${var.artifacts_bucket_arn}/${p}*"]
      },
      {
        sid       = "UseKmsKey"
        actions   = local.kms_use_actions
        resources = [var.kms_key_arn]
      },
      {
        sid       = "EcrAuthToken"
        actions   = ["ecr:GetAuthorizationToken"]
        resources = ["*"] # GetAuthorizationToken has no resource-level permissions.
      },
      {
        sid       = "WriteJobLogs"
        actions   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
        resources = [local.training_log_group_arn, "${local.training_log_group_arn}:*"]
      },
      {
        sid        = "PutForecourtMetrics"
        actions    = ["cloudwatch:PutMetricData"]
        resources  = ["*"] # PutMetricData has no resource-level permissions; the namespace condition scopes it.
        conditions = [{ test = "StringEquals", variable = "cloudwatch:namespace", values = [var.metrics_namespace] }]
      },
      {
        sid       = "MlflowTracking"
        actions   = local.mlflow_client_actions
        resources = [local.mlflow_tracking_server_arn]
      },
    ],
    length(var.ecr_repository_arns) == 0 ? [] : [{
      sid       = "PullImages"
      actions   = local.ecr_pull_actions
      resources = var.ecr_repository_arns
    }],
    var.sns_topic_arn == null ? [] : [{
      sid       = "PublishNotifications"
      actions   = ["sns:Publish"]
      resources = [var.sns_topic_arn]
    }],
  )

  sagemaker_execution_statements = concat(
    [
      {
        sid        = "ListModelPrefixes"
        actions    = ["s3:ListBucket"]
        resources  = [var.artifacts_bucket_arn]
        conditions = [{ test = "StringLike", variable = "s3:prefix", values = [for p in var.sagemaker_model_prefixes : "${p}*"] }]
      },
      {
        sid       = "ArtifactsBucketLocation"
        actions   = ["s3:GetBucketLocation"]
        resources = [var.artifacts_bucket_arn]
      },
      {
        sid       = "ReadModelData"
        actions   = ["s3:GetObject", "s3:GetObjectVersion"]
        resources = [for p in var.sagemaker_model_prefixes : "${var.artifacts_bucket_arn}/${p}*"]
      },
      {
        sid       = "WriteDataCapture"
        actions   = ["s3:PutObject", "s3:AbortMultipartUpload"]
        resources = ["${var.artifacts_bucket_arn}/${var.sagemaker_data_capture_prefix}*"]
      },
      {
        sid       = "UseKmsKey"
        actions   = local.kms_use_actions
        resources = [var.kms_key_arn]
      },
      {
        sid        = "KmsGrantsForEndpointVolumes"
        actions    = ["kms:CreateGrant"]
        resources  = [var.kms_key_arn]
        conditions = [{ test = "Bool", variable = "kms:GrantIsForAWSResource", values = ["true"] }]
      },
      {
        sid       = "EcrAuthToken"
        actions   = ["ecr:GetAuthorizationToken"]
        resources = ["*"] # no resource-level permissions
      },
      {
        sid       = "WriteSageMakerLogs"
        actions   = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
        resources = [local.sagemaker_log_groups_arn, "${local.sagemaker_log_groups_arn}:*"]
      },
      {
        sid        = "PutEndpointMetrics"
        actions    = ["cloudwatch:PutMetricData"]
        resources  = ["*"] # no resource-level permissions; scoped by namespace
        conditions = [{ test = "StringLike", variable = "cloudwatch:namespace", values = ["/aws/sagemaker/*", "AWS/SageMaker", var.metrics_namespace] }]
      },
      {
        sid = "VpcDescribe"
        actions = [
          "ec2:DescribeDhcpOptions", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSecurityGroups",
          "ec2:DescribeSubnets", "ec2:DescribeVpcs",
        ]
        resources = ["*"] # Describe* have no resource-level permissions
      },
      {
        sid = "VpcNetworkInterfaces"
        actions = [
          "ec2:CreateNetworkInterface", "ec2:CreateNetworkInterfacePermission",
          "ec2:DeleteNetworkInterface", "ec2:DeleteNetworkInterfacePermission",
        ]
        resources = [
          "arn:${local.partition}:ec2:${local.region}:${local.account_id}:network-interface/*",
          "arn:${local.partition}:ec2:${local.region}:${local.account_id}:subnet/*",
          "arn:${local.partition}:ec2:${local.region}:${local.account_id}:security-group/*",
        ]
      },
    ],
    length(var.ecr_repository_arns) == 0 ? [] : [{
      sid       = "PullImages"
      actions   = local.ecr_pull_actions
      resources = var.ecr_repository_arns
    }],
  )

  mlflow_statements = [
    {
      sid        = "ListMlflowPrefix"
      actions    = ["s3:ListBucket"]
      resources  = [var.artifacts_bucket_arn]
      conditions = [{ test = "StringLike", variable = "s3:prefix", values = ["${var.mlflow_artifact_prefix}*"] }]
    },
    {
      sid       = "ArtifactsBucketLocation"
      actions   = ["s3:GetBucketLocation"]
      resources = [var.artifacts_bucket_arn]
    },
    {
      sid = "ReadWriteMlflowPrefix"
      actions = [
        "s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject",
        "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts",
      ]
      resources = ["${var.artifacts_bucket_arn}/${var.mlflow_artifact_prefix}*"]
    },
    {
      sid       = "UseKmsKey"
      actions   = local.kms_use_actions
      resources = [var.kms_key_arn]
    },
    {
      # Automatic registration of MLflow models into the SageMaker Model Registry.
      sid = "ModelRegistry"
      actions = [
        "sagemaker:AddTags", "sagemaker:CreateModelPackage", "sagemaker:CreateModelPackageGroup",
        "sagemaker:DescribeModelPackageGroup", "sagemaker:UpdateModelPackage",
      ]
      resources = [
        "arn:${local.partition}:sagemaker:${local.region}:${local.account_id}:model-package-group/*",
        "arn:${local.partition}:sagemaker:${local.region}:${local.account_id}:model-package/*",
      ]
    },
  ]

  # Policy for whoever drives the pipeline (attach to an operator or orchestrator role):
  # submit/inspect/stop the training job, publish notifications. Only when the queue is known.
  pipeline_operator_enabled = var.batch_job_queue_arn != null && var.batch_job_definition_arn_prefix != null
  pipeline_operator_statements = !local.pipeline_operator_enabled ? [] : concat(
    [
      {
        sid     = "SubmitTrainingJobs"
        actions = ["batch:SubmitJob"]
        resources = [
          var.batch_job_queue_arn, var.batch_job_definition_arn_prefix, "${var.batch_job_definition_arn_prefix}:*",
          "arn:${local.partition}:batch:${local.region}:${local.account_id}:job/*",
        ]
      },
      {
        sid       = "StopTrainingJobs"
        actions   = ["batch:CancelJob", "batch:TerminateJob"]
        resources = ["arn:${local.partition}:batch:${local.region}:${local.account_id}:job/*"]
      },
      {
        sid       = "DescribeTrainingJobs"
        actions   = ["batch:DescribeJobs", "batch:ListJobs", "batch:DescribeJobQueues", "batch:DescribeJobDefinitions"]
        resources = ["*"] # Batch Describe*/List* have no resource-level permissions
      },
    ],
    var.sns_topic_arn == null ? [] : [{
      sid       = "PublishNotifications"
      actions   = ["sns:Publish"]
      resources = [var.sns_topic_arn]
    }],
  )

  # The boundary caps every workload role: it grants nothing by itself (each role's own
  # policy does), it bounds what any policy attached later could grant.
  boundary_statements = [
    {
      sid       = "AllowListedServices"
      actions   = [for s in var.boundary_allowed_services : "${s}:*"]
      resources = ["*"]
    },
    {
      sid       = "AllowPassOwnRoles"
      actions   = ["iam:GetRole", "iam:PassRole"]
      resources = ["arn:${local.partition}:iam::${local.account_id}:role/${local.n}-*"]
    },
    {
      sid       = "AllowOwnInstanceProfiles"
      actions   = ["iam:GetInstanceProfile"]
      resources = ["arn:${local.partition}:iam::${local.account_id}:instance-profile/${local.n}-*"]
    },
    {
      sid       = "AllowServiceLinkedRoles"
      actions   = ["iam:CreateServiceLinkedRole"]
      resources = ["arn:${local.partition}:iam::${local.account_id}:role/aws-service-role/*"]
    },
    {
      sid    = "DenyIamPrincipalChanges"
      effect = "Deny"
      actions = [
        "iam:AddUserToGroup", "iam:AttachGroupPolicy", "iam:AttachRolePolicy", "iam:AttachUserPolicy",
        "iam:CreateAccessKey", "iam:CreateGroup", "iam:CreateLoginProfile", "iam:CreateOpenIDConnectProvider",
        "iam:CreatePolicy", "iam:CreatePolicyVersion", "iam:CreateRole", "iam:CreateSAMLProvider",
        "iam:CreateUser", "iam:DeleteRolePermissionsBoundary", "iam:DeleteUserPermissionsBoundary",
        "iam:PutGroupPolicy", "iam:PutRolePermissionsBoundary", "iam:PutRolePolicy", "iam:PutUserPermissionsBoundary",
        "iam:PutUserPolicy", "iam:SetDefaultPolicyVersion", "iam:UpdateAssumeRolePolicy", "iam:UpdateLoginProfile",
      ]
      resources = ["*"]
    },
    {
      sid       = "DenyOrganizations"
      effect    = "Deny"
      actions   = ["organizations:*", "account:*"]
      resources = ["*"]
    },
    {
      sid    = "DenyAuditTampering"
      effect = "Deny"
      actions = [
        "cloudtrail:DeleteTrail", "cloudtrail:StopLogging", "cloudtrail:UpdateTrail",
        "cloudtrail:PutEventSelectors", "cloudtrail:DeleteEventDataStore", "cloudtrail:StopEventDataStoreIngestion",
        "ec2:DeleteFlowLogs", "logs:DeleteLogGroup",
      ]
      resources = ["*"]
    },
    {
      sid    = "DenyGuardrailChanges"
      effect = "Deny"
      actions = [
        "kms:DisableKey", "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion",
        "s3:DeleteBucketPolicy", "s3:PutBucketPolicy", "s3:PutBucketPublicAccessBlock",
        "s3:PutAccountPublicAccessBlock", "s3:PutEncryptionConfiguration", "s3:PutBucketVersioning",
      ]
      resources = ["*"]
    },
    {
      # Only CI (the deploy role) ships DAGs: a workload must not be able to change Airflow's code.
      sid       = "DenyDagsWrites"
      effect    = "Deny"
      actions   = ["s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutObject", "s3:RestoreObject"]
      resources = ["${var.dags_bucket_arn}/*"]
    },
    {
      sid         = "DenyOutsideAllowedRegions"
      effect      = "Deny"
      not_actions = ["iam:*", "sts:*", "support:*", "health:*"]
      resources   = ["*"]
      conditions  = [{ test = "StringNotEquals", variable = "aws:RequestedRegion", values = local.allowed_regions }]
    },
  ]

  # Terraform/CI: create and change this stack's resources (named <name_prefix>*), in the
  # allowed regions. No IAM users or keys, no Organizations, no stopping or deleting trails.
  deploy_arn = {
    logs   = "arn:${local.partition}:logs:${local.region}:${local.account_id}"
    ec2    = "arn:${local.partition}:ec2:${local.region}:${local.account_id}"
    sm     = "arn:${local.partition}:sagemaker:${local.region}:${local.account_id}"
    batch  = "arn:${local.partition}:batch:${local.region}:${local.account_id}"
    iam    = "arn:${local.partition}:iam::${local.account_id}"
    kms    = "arn:${local.partition}:kms:${local.region}:${local.account_id}"
    cw     = "arn:${local.partition}:cloudwatch:${local.region}:${local.account_id}"
    events = "arn:${local.partition}:events:${local.region}:${local.account_id}"
  }
  deploy_statements = [
    {
      sid       = "StackBuckets"
      actions   = ["s3:*"]
      resources = ["arn:${local.partition}:s3:::${local.n}-*", "arn:${local.partition}:s3:::${local.n}-*/*"]
    },
    {
      sid        = "KmsCreateAndList"
      actions    = ["kms:CreateKey", "kms:ListAliases", "kms:ListKeys"]
      resources  = ["*"] # no resource-level permissions
      conditions = [local.region_condition]
    },
    {
      sid = "KmsManageKeys"
      actions = [
        "kms:CancelKeyDeletion", "kms:CreateAlias", "kms:DeleteAlias", "kms:DescribeKey", "kms:DisableKeyRotation",
        "kms:EnableKey", "kms:EnableKeyRotation", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListGrants",
        "kms:ListResourceTags", "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:TagResource",
        "kms:UntagResource", "kms:UpdateAlias", "kms:UpdateKeyDescription",
      ]
      resources = ["${local.deploy_arn.kms}:key/*", "${local.deploy_arn.kms}:alias/${local.n}*"]
    },
    {
      # Services that encrypt with the key on the caller's behalf while Terraform creates them.
      sid       = "KmsUseViaServices"
      actions   = ["kms:CreateGrant", "kms:Decrypt", "kms:GenerateDataKey*"]
      resources = ["${local.deploy_arn.kms}:key/*"]
      conditions = [{
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = [for s in ["s3", "sqs", "sns", "sagemaker", "airflow", "ec2", "logs"] : "${s}.${local.region}.amazonaws.com"]
      }]
    },
    {
      sid = "IamStackRolesAndPolicies"
      actions = [
        "iam:AddRoleToInstanceProfile", "iam:CreateInstanceProfile", "iam:CreatePolicy", "iam:CreatePolicyVersion",
        "iam:CreateRole", "iam:DeleteInstanceProfile", "iam:DeletePolicy", "iam:DeletePolicyVersion",
        "iam:DeleteRole", "iam:DeleteRolePolicy", "iam:DetachRolePolicy", "iam:GetInstanceProfile",
        "iam:GetPolicy", "iam:GetPolicyVersion", "iam:GetRole", "iam:GetRolePolicy",
        "iam:ListAttachedRolePolicies", "iam:ListInstanceProfilesForRole", "iam:ListPolicyVersions",
        "iam:ListRolePolicies", "iam:PassRole", "iam:PutRolePermissionsBoundary", "iam:PutRolePolicy",
        "iam:RemoveRoleFromInstanceProfile", "iam:SetDefaultPolicyVersion", "iam:TagInstanceProfile",
        "iam:TagPolicy", "iam:TagRole", "iam:UntagInstanceProfile", "iam:UntagPolicy", "iam:UntagRole",
        "iam:UpdateAssumeRolePolicy", "iam:UpdateRole", "iam:UpdateRoleDescription",
      ]
      resources = [
        "${local.deploy_arn.iam}:role/${local.n}-*",
        "${local.deploy_arn.iam}:instance-profile/${local.n}-*",
        "${local.deploy_arn.iam}:policy/${local.n}-*",
      ]
    },
    {
      # Attaching is limited to this stack's policies and the AWS-managed ones the stack uses.
      sid       = "IamAttachKnownPolicies"
      actions   = ["iam:AttachRolePolicy"]
      resources = ["${local.deploy_arn.iam}:role/${local.n}-*"]
      conditions = [{
        test     = "ArnLike"
        variable = "iam:PolicyARN"
        values = concat(
          ["${local.deploy_arn.iam}:policy/${local.n}-*"],
          [for p in concat(flatten([for r in local.workload_roles : r.managed]), local.admin_policy_arns) : p],
        )
      }]
    },
    {
      sid       = "IamReadAwsManagedPolicies"
      actions   = ["iam:GetPolicy", "iam:GetPolicyVersion"]
      resources = ["arn:${local.partition}:iam::aws:policy/*"]
    },
    {
      sid       = "IamServiceLinkedRoles"
      actions   = ["iam:CreateServiceLinkedRole"]
      resources = ["${local.deploy_arn.iam}:role/aws-service-role/*"]
      conditions = [{
        test     = "StringEquals"
        variable = "iam:AWSServiceName"
        values = [
          "batch.amazonaws.com", "ecs.amazonaws.com", "autoscaling.amazonaws.com", "spot.amazonaws.com",
          "sagemaker.amazonaws.com", "airflow.amazonaws.com", "cloudtrail.amazonaws.com",
        ]
      }]
    },
    {
      # VPC resources are addressed by generated ids, so these cannot be scoped by name.
      sid = "Ec2Networking"
      actions = [
        "ec2:Describe*", "ec2:CreateTags", "ec2:DeleteTags", "ec2:*Vpc", "ec2:*VpcAttribute", "ec2:*VpcEndpoint*",
        "ec2:*Subnet", "ec2:ModifySubnetAttribute", "ec2:*RouteTable", "ec2:*Route", "ec2:*InternetGateway",
        "ec2:*NatGateway", "ec2:AllocateAddress", "ec2:ReleaseAddress", "ec2:DisassociateAddress",
        "ec2:*SecurityGroup", "ec2:*SecurityGroupIngress", "ec2:*SecurityGroupEgress",
        "ec2:ModifySecurityGroupRules", "ec2:*FlowLogs", "ec2:*LaunchTemplate", "ec2:*LaunchTemplateVersion*",
        "ec2:*NetworkAclEntry",
      ]
      resources  = ["*"]
      conditions = [local.region_condition]
    },
    {
      sid        = "LogGroups"
      actions    = ["logs:*"]
      resources  = ["${local.deploy_arn.logs}:log-group:*"]
      conditions = [local.region_condition]
    },
    {
      sid        = "LogGroupsDescribe"
      actions    = ["logs:DescribeLogGroups"]
      resources  = ["*"]
      conditions = [local.region_condition]
    },
    {
      sid       = "EcrRepositories"
      actions   = ["ecr:*"]
      resources = ["arn:${local.partition}:ecr:${local.region}:${local.account_id}:repository/${local.n}*"]
    },
    {
      sid        = "EcrAuthToken"
      actions    = ["ecr:GetAuthorizationToken"]
      resources  = ["*"]
      conditions = [local.region_condition]
    },
    {
      sid     = "Batch"
      actions = ["batch:*"]
      resources = [
        "${local.deploy_arn.batch}:compute-environment/${local.n}*",
        "${local.deploy_arn.batch}:job-queue/${local.n}*",
        "${local.deploy_arn.batch}:job-definition/${local.n}*",
        "${local.deploy_arn.batch}:scheduling-policy/${local.n}*",
      ]
    },
    {
      sid        = "BatchDescribe"
      actions    = ["batch:Describe*", "batch:List*"]
      resources  = ["*"]
      conditions = [local.region_condition]
    },
    {
      sid     = "SageMaker"
      actions = ["sagemaker:*"]
      resources = [
        "${local.deploy_arn.sm}:model/${local.n}*",
        "${local.deploy_arn.sm}:endpoint/${local.n}*",
        "${local.deploy_arn.sm}:endpoint-config/${local.n}*",
        "${local.deploy_arn.sm}:mlflow-tracking-server/${local.n}*",
      ]
    },
    {
      sid        = "SageMakerList"
      actions    = ["sagemaker:List*"]
      resources  = ["*"]
      conditions = [local.region_condition]
    },
    {
      sid       = "Mwaa"
      actions   = ["airflow:*"]
      resources = ["arn:${local.partition}:airflow:${local.region}:${local.account_id}:environment/${local.n}*"]
    },
    {
      sid       = "CloudWatchAlarmsDashboards"
      actions   = ["cloudwatch:*"]
      resources = ["${local.deploy_arn.cw}:alarm:${local.n}*", "arn:${local.partition}:cloudwatch::${local.account_id}:dashboard/${local.n}*"]
    },
    {
      sid        = "CloudWatchRead"
      actions    = ["cloudwatch:Describe*", "cloudwatch:List*", "cloudwatch:GetMetricData"]
      resources  = ["*"]
      conditions = [local.region_condition]
    },
    {
      sid       = "SnsTopics"
      actions   = ["sns:*"]
      resources = ["arn:${local.partition}:sns:${local.region}:${local.account_id}:${local.n}*"]
    },
    {
      sid     = "EventsAndLambda"
      actions = ["events:*", "lambda:*"]
      resources = [
        "${local.deploy_arn.events}:rule/${local.n}*",
        "arn:${local.partition}:lambda:${local.region}:${local.account_id}:function:${local.n}*",
      ]
    },
    {
      sid = "CloudTrailCreateAndUpdate"
      actions = [
        "cloudtrail:AddTags", "cloudtrail:CreateTrail", "cloudtrail:GetEventSelectors", "cloudtrail:GetInsightSelectors",
        "cloudtrail:GetTrail", "cloudtrail:GetTrailStatus", "cloudtrail:ListTags", "cloudtrail:PutEventSelectors",
        "cloudtrail:RemoveTags", "cloudtrail:StartLogging", "cloudtrail:UpdateTrail",
      ]
      resources = ["arn:${local.partition}:cloudtrail:${local.region}:${local.account_id}:trail/${local.n}*"]
    },
    {
      sid        = "CloudTrailDescribe"
      actions    = ["cloudtrail:DescribeTrails"]
      resources  = ["*"]
      conditions = [local.region_condition]
    },
    {
      sid    = "DenyUsersKeysOrganizationsAndTrailTampering"
      effect = "Deny"
      actions = [
        "iam:CreateUser", "iam:CreateAccessKey", "iam:CreateLoginProfile", "iam:UpdateLoginProfile",
        "iam:AttachUserPolicy", "iam:PutUserPolicy", "iam:CreateGroup", "iam:DeleteRolePermissionsBoundary",
        "organizations:*", "account:*", "cloudtrail:StopLogging", "cloudtrail:DeleteTrail",
      ]
      resources = ["*"]
    },
    {
      sid         = "DenyOutsideAllowedRegions"
      effect      = "Deny"
      not_actions = ["iam:*", "sts:*", "s3:*", "support:*", "health:*"]
      resources   = ["*"]
      conditions  = [{ test = "StringNotEquals", variable = "aws:RequestedRegion", values = local.allowed_regions }]
    },
  ]

  admin_policy_arns = [for p in var.admin_managed_policy_names : "arn:${local.partition}:iam::aws:policy/${p}"]

  # Everything normalised to the full statement shape.
  raw_policy_statements = {
    training_job        = local.training_job_statements
    sagemaker_execution = local.sagemaker_execution_statements
    mlflow              = local.mlflow_statements
    pipeline_operator   = local.pipeline_operator_statements
    permission_boundary = local.boundary_statements
    deploy              = local.deploy_statements
  }
  policy_statements = {
    for k, stmts in local.raw_policy_statements : k => [
      for s in stmts : merge({ effect = "Allow", actions = [], not_actions = [], conditions = [] }, s)
    ]
  }
}

################################################################################
# Policy documents
################################################################################

data "aws_iam_policy_document" "policy" {
  # keys decided by known booleans only: a statement list can hold unknown ARNs at plan
  # time (e.g. the SNS topic created in the same apply), so its length is not a key
  for_each = { for k, v in local.policy_statements : k => v if k != "pipeline_operator" || local.pipeline_operator_enabled }

  dynamic "statement" {
    for_each = each.value
    content {
      sid         = statement.value.sid
      effect      = statement.value.effect
      actions     = length(statement.value.actions) > 0 ? statement.value.actions : null
      not_actions = length(statement.value.not_actions) > 0 ? statement.value.not_actions : null
      resources   = statement.value.resources

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

data "aws_iam_policy_document" "trust" {
  for_each = local.trust_statements

  dynamic "statement" {
    for_each = each.value
    content {
      sid     = statement.value.sid
      effect  = statement.value.effect
      actions = statement.value.actions

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

################################################################################
# Permission boundary
################################################################################

resource "aws_iam_policy" "boundary" {
  #checkov:skip=CKV_AWS_286:Permission boundary: a ceiling, it grants nothing by itself; each role's own policy is least-privilege (checked in tests).
  #checkov:skip=CKV_AWS_287:Permission boundary: a ceiling, it grants nothing by itself; each role's own policy is least-privilege (checked in tests).
  #checkov:skip=CKV_AWS_288:Permission boundary: a ceiling, it grants nothing by itself; each role's own policy is least-privilege (checked in tests).
  #checkov:skip=CKV_AWS_289:Permission boundary: a ceiling, it grants nothing by itself; each role's own policy is least-privilege (checked in tests).
  #checkov:skip=CKV_AWS_290:Permission boundary: a ceiling, it grants nothing by itself; each role's own policy is least-privilege (checked in tests).
  #checkov:skip=CKV_AWS_355:Permission boundary: service-level allows on "*" are the ceiling (by design); explicit denies and the region deny cap it.
  name        = "${local.n}-workload-boundary"
  description = "Permission boundary of every Forecourt workload role: listed services only, no IAM principal changes, no Organizations, no audit tampering, allowed regions only"
  policy      = data.aws_iam_policy_document.policy["permission_boundary"].json
  tags        = var.tags
}

################################################################################
# Workload roles
################################################################################

resource "aws_iam_role" "workload" {
  for_each = local.workload_roles

  name                 = each.value.name
  description          = each.value.description
  assume_role_policy   = data.aws_iam_policy_document.trust[each.key].json
  permissions_boundary = aws_iam_policy.boundary.arn
  max_session_duration = 3600
  tags                 = merge(var.tags, { Component = each.key })
}

resource "aws_iam_role_policy" "workload" {
  for_each = { for k in ["training_job", "sagemaker_execution", "mlflow"] : k => k }

  name   = "least-privilege"
  role   = aws_iam_role.workload[each.key].id
  policy = data.aws_iam_policy_document.policy[each.key].json
}

resource "aws_iam_role_policy_attachment" "workload_managed" {
  for_each = merge([
    for k, r in local.workload_roles : { for p in r.managed : "${k}/${basename(p)}" => { role = k, policy_arn = p } }
  ]...)

  role       = aws_iam_role.workload[each.value.role].name
  policy_arn = each.value.policy_arn
}

resource "aws_iam_instance_profile" "batch" {
  name = "${local.n}-batch-instance"
  role = aws_iam_role.workload["batch_instance"].name
  tags = var.tags
}

resource "aws_iam_policy" "pipeline_operator" {
  count = local.pipeline_operator_enabled ? 1 : 0

  name        = "${local.n}-pipeline-operator"
  description = "Submit, inspect and stop Forecourt training jobs; publish pipeline notifications"
  policy      = data.aws_iam_policy_document.policy["pipeline_operator"].json
  tags        = var.tags
}

################################################################################
# Admin (humans, MFA) and deploy (CI/Terraform) roles
################################################################################

resource "aws_iam_role" "admin" {
  #checkov:skip=CKV_AWS_61:admin_principal_arns may name an identity/SSO account root that delegates to its own IAM; every assume needs MFA (aws:MultiFactorAuthPresent, aws:MultiFactorAuthAge).
  name                 = "${local.n}-admin"
  description          = "Break-glass/operator admin: assumed with MFA only, 1 h sessions"
  assume_role_policy   = data.aws_iam_policy_document.trust["admin"].json
  max_session_duration = 3600
  tags                 = merge(var.tags, { Component = "admin" })
}

resource "aws_iam_role_policy_attachment" "admin" {
  for_each = toset(local.admin_policy_arns)

  role       = aws_iam_role.admin.name
  policy_arn = each.value
}

resource "aws_iam_role" "deploy" {
  #checkov:skip=CKV_AWS_61:Without deploy_principal_arns the trust is trusted_account_id's root (that account's IAM decides which CI role may assume, optionally with sts:ExternalId); pass deploy_principal_arns to name the CI roles.
  name                 = "${local.n}-deploy"
  description          = "CI/Terraform deploy role, assumed from account ${var.trusted_account_id}"
  assume_role_policy   = data.aws_iam_policy_document.trust["deploy"].json
  max_session_duration = var.deploy_max_session_duration
  tags                 = merge(var.tags, { Component = "deploy" })
}

resource "aws_iam_role_policy" "deploy" {
  name   = "deploy-stack"
  role   = aws_iam_role.deploy.id
  policy = data.aws_iam_policy_document.policy["deploy"].json
}
