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

  training_log_group_arn = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${var.training_log_group_name}"

  # The roles and the policy nobody below the break-glass principal may change: the deploy
  # role itself, the admin role, the organization's access role (protected_role_names) and
  # the permission boundary. Built from names (not resource attributes) so the statements
  # are known at plan time and cannot form a cycle.
  iam_arn                = "arn:${local.partition}:iam::${local.account_id}"
  boundary_policy_name   = "${local.n}-workload-boundary"
  boundary_policy_arn    = "${local.iam_arn}:policy/${local.boundary_policy_name}"
  deploy_role_arn        = "${local.iam_arn}:role/${local.n}-deploy"
  admin_role_arn         = "${local.iam_arn}:role/${local.n}-admin"
  privileged_role_arns   = concat([local.deploy_role_arn, local.admin_role_arn], [for r in var.protected_role_names : "${local.iam_arn}:role/${r}"])
  privileged_iam_targets = concat(local.privileged_role_arns, [local.boundary_policy_arn])

  # Every IAM write verb that can change what a role, policy or instance profile grants or
  # who may use it: denied on the privileged targets (deploy role and boundary alike).
  iam_write_actions = [
    "iam:AddRoleToInstanceProfile", "iam:AttachRolePolicy", "iam:CreatePolicyVersion", "iam:CreateRole",
    "iam:DeletePolicy", "iam:DeletePolicyVersion", "iam:DeleteRole", "iam:DeleteRolePermissionsBoundary",
    "iam:DeleteRolePolicy", "iam:DetachRolePolicy", "iam:PassRole", "iam:PutRolePermissionsBoundary",
    "iam:PutRolePolicy", "iam:RemoveRoleFromInstanceProfile", "iam:SetDefaultPolicyVersion", "iam:TagPolicy",
    "iam:TagRole", "iam:UntagPolicy", "iam:UntagRole", "iam:UpdateAssumeRolePolicy", "iam:UpdateRole",
    "iam:UpdateRoleDescription",
  ]

  # Each role the stack passes to a service, and exactly the services it is passed to
  # (iam:PassedToService): the service whose API takes the role, and the one that assumes it.
  passable_roles = merge(
    {
      "${local.n}-training-job"        = ["batch.amazonaws.com", "ecs-tasks.amazonaws.com"] # job definition's jobRoleArn
      "${local.n}-batch-instance"      = ["batch.amazonaws.com", "ec2.amazonaws.com"]       # compute environment's instance profile
      "${local.n}-batch-service"       = ["batch.amazonaws.com"]                            # compute environment's service role
      "${local.n}-sagemaker-execution" = ["sagemaker.amazonaws.com"]                        # models' execution role
      "${local.n}-mlflow"              = ["sagemaker.amazonaws.com"]                        # MLflow tracking server's role
    },
    var.extra_passable_roles,
  )

  # The stack's log groups (and their streams): Batch jobs, SageMaker endpoints, MWAA, VPC flow logs.
  stack_log_group_arns = flatten([
    for g in concat(
      ["/aws/batch/${local.n}-*", "/aws/sagemaker/Endpoints/${local.n}-*", "airflow-${local.n}-*", "/aws/vpc/flow-logs/${local.n}*"],
      [for pfx in var.extra_log_group_name_prefixes : "${pfx}*"],
    ) : ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${g}", "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${g}:*"]
  ])
  sagemaker_log_groups_arn = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/sagemaker/Endpoints/${local.n}-*"

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
    # the deploy step (rl_core.serving.deploy, run as a Batch job when a champion is
    # promoted): models, endpoint configurations and endpoints named <name_prefix>-* only,
    # the SageMaker execution role passed to SageMaker only, the tarballs under one prefix
    [for s in local.sagemaker_deploy_statements : s if var.training_job_deploys_to_sagemaker],
  )

  sagemaker_deploy_arns = [
    for kind in ["model", "endpoint-config", "endpoint"] :
    "arn:${local.partition}:sagemaker:${local.region}:${local.account_id}:${kind}/${local.n}-*"
  ]
  sagemaker_deploy_statements = [
    {
      sid = "DeployChampionEndpoints"
      actions = [
        "sagemaker:CreateModel", "sagemaker:CreateEndpointConfig", "sagemaker:CreateEndpoint",
        "sagemaker:UpdateEndpoint", "sagemaker:DescribeModel", "sagemaker:DescribeEndpointConfig",
        "sagemaker:DescribeEndpoint", "sagemaker:DeleteModel", "sagemaker:DeleteEndpointConfig",
        "sagemaker:AddTags", "sagemaker:ListTags",
      ]
      resources = local.sagemaker_deploy_arns
    },
    {
      sid       = "DeployListModelsAndEndpointConfigs"
      actions   = ["sagemaker:ListModels", "sagemaker:ListEndpointConfigs"]
      resources = ["*"] # List* have no resource-level permissions
    },
    {
      # CreateModel names the execution role: only that one, only to SageMaker
      sid        = "DeployPassSageMakerExecutionRole"
      actions    = ["iam:PassRole"]
      resources  = ["arn:${local.partition}:iam::${local.account_id}:role/${local.workload_roles.sagemaker_execution.name}"]
      conditions = [{ test = "StringEquals", variable = "iam:PassedToService", values = ["sagemaker.amazonaws.com"] }]
    },
    {
      # model.tar.gz uploads (HeadObject is s3:GetObject); the key is UseKmsKey's
      sid       = "DeployModelTarballs"
      actions   = ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"]
      resources = ["${var.artifacts_bucket_arn}/${var.sagemaker_deploy_model_prefix}*"]
    },
  ]

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
        # in the stack's VPC only, when it is known
        conditions = var.vpc_arn == null ? [] : [{ test = "ArnEquals", variable = "ec2:Vpc", values = [var.vpc_arn] }]
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
      sid       = "AllowGetOwnRoles"
      actions   = ["iam:GetRole"]
      resources = ["arn:${local.partition}:iam::${local.account_id}:role/${local.n}-*"]
    },
    {
      # a workload may at most hand one of the stack's roles to the services that run them
      sid        = "AllowPassOwnRolesToWorkloadServices"
      actions    = ["iam:PassRole"]
      resources  = ["arn:${local.partition}:iam::${local.account_id}:role/${local.n}-*"]
      conditions = [{ test = "StringEquals", variable = "iam:PassedToService", values = sort(distinct(flatten(values(local.passable_roles)))) }]
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
      # whatever a bounded role is given later: never the deploy/admin/break-glass roles or the boundary itself
      sid       = "DenyPrivilegedRoleAndBoundaryChanges"
      effect    = "Deny"
      actions   = local.iam_write_actions
      resources = local.privileged_iam_targets
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
  deploy_statements = concat(local.deploy_iam_statements, local.deploy_pass_role_statements, local.deploy_other_statements)
  deploy_iam_statements = [
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
      # reading is harmless, on every stack role (deploy and admin included: Terraform refreshes them)
      sid = "IamReadStack"
      actions = [
        "iam:GetInstanceProfile", "iam:GetPolicy", "iam:GetPolicyVersion", "iam:GetRole", "iam:GetRolePolicy",
        "iam:ListAttachedRolePolicies", "iam:ListEntitiesForPolicy", "iam:ListInstanceProfileTags",
        "iam:ListInstanceProfilesForRole", "iam:ListPolicyTags", "iam:ListPolicyVersions", "iam:ListRolePolicies",
        "iam:ListRoleTags",
      ]
      resources = [
        "${local.deploy_arn.iam}:role/${local.n}-*",
        "${local.deploy_arn.iam}:instance-profile/${local.n}-*",
        "${local.deploy_arn.iam}:policy/${local.n}-*",
      ]
    },
    {
      # a role is created, and its permissions written, only with the stack's boundary on it:
      # whatever the deploy role writes into a role is capped by the boundary
      sid = "IamWriteBoundedRoles"
      actions = [
        "iam:CreateRole", "iam:DeleteRolePolicy", "iam:DetachRolePolicy", "iam:PutRolePermissionsBoundary",
        "iam:PutRolePolicy",
      ]
      resources  = ["${local.deploy_arn.iam}:role/${local.n}-*"]
      conditions = [{ test = "StringEquals", variable = "iam:PermissionsBoundary", values = [local.boundary_policy_arn] }]
    },
    {
      # attaching: a bounded role, and only this stack's policies or the AWS-managed ones it uses
      sid       = "IamAttachKnownPoliciesToBoundedRoles"
      actions   = ["iam:AttachRolePolicy"]
      resources = ["${local.deploy_arn.iam}:role/${local.n}-*"]
      conditions = [
        { test = "StringEquals", variable = "iam:PermissionsBoundary", values = [local.boundary_policy_arn] },
        {
          test     = "ArnLike"
          variable = "iam:PolicyARN"
          values   = concat(["${local.deploy_arn.iam}:policy/${local.n}-*"], flatten([for r in local.workload_roles : r.managed]))
        },
      ]
    },
    {
      # verbs without the iam:PermissionsBoundary key; the privileged roles are denied below,
      # and every other <name_prefix>-* role carries the boundary (tests/test_terraform_policies.py)
      sid = "IamChangeStackRoles"
      actions = [
        "iam:DeleteRole", "iam:TagRole", "iam:UntagRole", "iam:UpdateAssumeRolePolicy", "iam:UpdateRole",
        "iam:UpdateRoleDescription",
      ]
      resources = ["${local.deploy_arn.iam}:role/${local.n}-*"]
    },
    {
      sid = "IamStackPoliciesAndInstanceProfiles"
      actions = [
        "iam:AddRoleToInstanceProfile", "iam:CreateInstanceProfile", "iam:CreatePolicy", "iam:CreatePolicyVersion",
        "iam:DeleteInstanceProfile", "iam:DeletePolicy", "iam:DeletePolicyVersion", "iam:RemoveRoleFromInstanceProfile",
        "iam:SetDefaultPolicyVersion", "iam:TagInstanceProfile", "iam:TagPolicy", "iam:UntagInstanceProfile",
        "iam:UntagPolicy",
      ]
      resources = [
        "${local.deploy_arn.iam}:instance-profile/${local.n}-*",
        "${local.deploy_arn.iam}:policy/${local.n}-*",
      ]
    },
  ]
  deploy_pass_role_statements = [
    for name in sort(keys(local.passable_roles)) : {
      sid        = "PassRole${replace(title(replace(trimprefix(name, "${local.n}-"), "-", " ")), " ", "")}"
      actions    = ["iam:PassRole"]
      resources  = ["${local.deploy_arn.iam}:role/${name}"]
      conditions = [{ test = "StringEquals", variable = "iam:PassedToService", values = sort(local.passable_roles[name]) }]
    }
  ]
  deploy_other_statements = [
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
      sid        = "Ec2Describe"
      actions    = ["ec2:Describe*"]
      resources  = ["*"] # Describe* have no resource-level permissions
      conditions = [local.region_condition]
    },
    {
      # VPC resources get generated ids, so writes are scoped by tag: created only carrying
      # the stack tag (aws:RequestTag)...
      sid        = "Ec2CreateTagged"
      actions    = local.ec2_create_actions
      resources  = [for t in local.ec2_stack_types : "${local.deploy_arn.ec2}:${t}/*"]
      conditions = [{ test = "StringEquals", variable = "aws:RequestTag/${var.stack_tag.key}", values = [var.stack_tag.value] }]
    },
    {
      # ...and changed, deleted or built into only when already carrying it (aws:ResourceTag)
      sid        = "Ec2ChangeTagged"
      actions    = concat(local.ec2_create_actions, local.ec2_change_actions)
      resources  = [for t in local.ec2_stack_types : "${local.deploy_arn.ec2}:${t}/*"]
      conditions = [{ test = "StringEquals", variable = "aws:ResourceTag/${var.stack_tag.key}", values = [var.stack_tag.value] }]
    },
    {
      # tags written as part of one of the creates above (tag-on-create)
      sid        = "Ec2TagOnCreate"
      actions    = ["ec2:CreateTags"]
      resources  = [for t in local.ec2_stack_types : "${local.deploy_arn.ec2}:${t}/*"]
      conditions = [{ test = "StringEquals", variable = "ec2:CreateAction", values = [for a in local.ec2_create_actions : trimprefix(a, "ec2:")] }]
    },
    {
      # the VPC's default security group exists untagged: Terraform adopts it (tags it, then
      # revokes its rules) only under the name the network module gives it
      sid       = "Ec2AdoptDefaultSecurityGroup"
      actions   = ["ec2:CreateTags"]
      resources = ["${local.deploy_arn.ec2}:security-group/*"]
      conditions = [
        { test = "StringEquals", variable = "aws:RequestTag/Name", values = ["${local.n}-default-deny"] },
        { test = "StringEquals", variable = "aws:RequestTag/${var.stack_tag.key}", values = [var.stack_tag.value] },
      ]
    },
    {
      # MWAA creates its web server/database endpoints in the VPC with the caller's rights,
      # tagged AmazonMWAAManaged (the parents, VPC/subnets/security groups, carry the stack tag)
      sid        = "MwaaManagedVpcEndpoints"
      actions    = ["ec2:CreateVpcEndpoint"]
      resources  = ["${local.deploy_arn.ec2}:vpc-endpoint/*"]
      conditions = [{ test = "StringEquals", variable = "aws:RequestTag/AmazonMWAAManaged", values = ["true"] }]
    },
    {
      sid        = "LogGroups"
      actions    = local.log_group_actions
      resources  = local.stack_log_group_arns
      conditions = [local.region_condition]
    },
    {
      sid        = "LogGroupsDescribe"
      actions    = ["logs:DescribeLogGroups"]
      resources  = ["*"] # needs log-group:* (a prefix filter is not a resource)
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
      # no IAM write on the deploy role itself, the admin and break-glass roles or the
      # boundary: the allows above reach role/<name_prefix>-*, which names two of them
      sid       = "DenyPrivilegedRoleAndBoundaryChanges"
      effect    = "Deny"
      actions   = local.iam_write_actions
      resources = local.privileged_iam_targets
    },
    {
      # no role without the boundary: creating one, or writing into one, names it
      sid        = "DenyUnboundedRoleWrites"
      effect     = "Deny"
      actions    = ["iam:AttachRolePolicy", "iam:CreateRole", "iam:PutRolePermissionsBoundary", "iam:PutRolePolicy"]
      resources  = ["*"]
      conditions = [{ test = "StringNotEquals", variable = "iam:PermissionsBoundary", values = [local.boundary_policy_arn] }]
    },
    {
      # the stack tag is what scopes EC2 writes: it may not be removed
      sid        = "DenyStackTagRemoval"
      effect     = "Deny"
      actions    = ["ec2:DeleteTags"]
      resources  = ["*"]
      conditions = [{ test = "ForAnyValue:StringEquals", variable = "aws:TagKeys", values = [var.stack_tag.key] }]
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

  # EC2 resource types of the network (and the training launch template), and the verbs
  # Terraform uses on them. No ec2:* verb wildcard: each is named.
  ec2_stack_types = [
    "elastic-ip", "internet-gateway", "launch-template", "natgateway", "network-acl", "route-table",
    "security-group", "security-group-rule", "subnet", "vpc", "vpc-endpoint", "vpc-flow-log",
  ]
  ec2_create_actions = [
    "ec2:AllocateAddress", "ec2:AuthorizeSecurityGroupEgress", "ec2:AuthorizeSecurityGroupIngress",
    "ec2:CreateFlowLogs", "ec2:CreateInternetGateway", "ec2:CreateLaunchTemplate", "ec2:CreateNatGateway",
    "ec2:CreateRouteTable", "ec2:CreateSecurityGroup", "ec2:CreateSubnet", "ec2:CreateVpc", "ec2:CreateVpcEndpoint",
  ]
  ec2_change_actions = [
    "ec2:AssociateRouteTable", "ec2:AttachInternetGateway", "ec2:CreateLaunchTemplateVersion", "ec2:CreateRoute",
    "ec2:CreateTags", "ec2:DeleteFlowLogs", "ec2:DeleteInternetGateway", "ec2:DeleteLaunchTemplate",
    "ec2:DeleteLaunchTemplateVersions", "ec2:DeleteNatGateway", "ec2:DeleteRoute", "ec2:DeleteRouteTable",
    "ec2:DeleteSecurityGroup", "ec2:DeleteSubnet", "ec2:DeleteTags", "ec2:DeleteVpc", "ec2:DeleteVpcEndpoints",
    "ec2:DetachInternetGateway", "ec2:DisassociateAddress", "ec2:DisassociateRouteTable", "ec2:ModifyLaunchTemplate",
    "ec2:ModifySecurityGroupRules", "ec2:ModifySubnetAttribute", "ec2:ModifyVpcAttribute", "ec2:ModifyVpcEndpoint",
    "ec2:ReleaseAddress", "ec2:ReplaceRoute", "ec2:ReplaceRouteTableAssociation", "ec2:RevokeSecurityGroupEgress",
    "ec2:RevokeSecurityGroupIngress", "ec2:UpdateSecurityGroupRuleDescriptionsEgress",
    "ec2:UpdateSecurityGroupRuleDescriptionsIngress",
  ]
  # log groups: named verbs, no logs:*
  log_group_actions = [
    "logs:AssociateKmsKey", "logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:DeleteRetentionPolicy",
    "logs:DescribeLogStreams", "logs:DisassociateKmsKey", "logs:ListTagsForResource", "logs:ListTagsLogGroup",
    "logs:PutRetentionPolicy", "logs:TagLogGroup", "logs:TagResource", "logs:UntagLogGroup", "logs:UntagResource",
  ]

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
  name        = local.boundary_policy_name
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
