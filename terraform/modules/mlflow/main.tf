# SageMaker managed MLflow: the tracking server and model registry of Forecourt.
# Clients (training jobs, the MWAA tasks, the plugin's page) use the server's ARN as
# their tracking URI through the sagemaker-mlflow plugin:
#   FORECOURT_MLFLOW_TRACKING_URI=<tracking_server_arn>

locals {
  name = "${var.name_prefix}-mlflow"
}

resource "aws_sagemaker_mlflow_tracking_server" "this" {
  tracking_server_name = local.name
  artifact_store_uri   = var.artifact_store_uri
  role_arn             = var.role_arn
  tracking_server_size = var.tracking_server_size
  mlflow_version       = var.mlflow_version

  # Forecourt registers models itself (rl_core.registry) and promotes them with the
  # `champion` alias; no copies in the SageMaker Model Registry.
  automatic_model_registration = false

  weekly_maintenance_window_start = var.weekly_maintenance_window_start

  tags = merge(var.tags, { Name = local.name })
}
