# terraform test (mock provider, no AWS; moto has no MLflow tracking server):
#   cd terraform/modules/mlflow && terraform test

mock_provider "aws" {
  mock_resource "aws_sagemaker_mlflow_tracking_server" {
    defaults = {
      arn                 = "arn:aws:sagemaker:eu-west-1:123456789012:mlflow-tracking-server/forecourt-dev-mlflow"
      tracking_server_url = "https://t-abc123.eu-west-1.experiments.sagemaker.aws"
    }
  }
}

variables {
  name_prefix        = "forecourt-dev"
  tags               = { Project = "forecourt" }
  artifact_store_uri = "s3://forecourt-dev-artifacts/mlflow"
  role_arn           = "arn:aws:iam::123456789012:role/forecourt-dev-mlflow"
}

run "tracking_server_defaults" {
  command = plan

  assert {
    condition     = aws_sagemaker_mlflow_tracking_server.this.tracking_server_name == "forecourt-dev-mlflow"
    error_message = "the server must be named <name_prefix>-mlflow"
  }

  assert {
    condition     = aws_sagemaker_mlflow_tracking_server.this.artifact_store_uri == "s3://forecourt-dev-artifacts/mlflow"
    error_message = "artifacts must go to the artifacts bucket's mlflow/ prefix"
  }

  assert {
    condition     = aws_sagemaker_mlflow_tracking_server.this.role_arn == var.role_arn
    error_message = "the server must use the given role"
  }

  assert {
    condition     = aws_sagemaker_mlflow_tracking_server.this.tracking_server_size == "Small"
    error_message = "the server must default to Small"
  }

  assert {
    condition     = aws_sagemaker_mlflow_tracking_server.this.automatic_model_registration == false
    error_message = "automatic model registration must be off"
  }

  assert {
    condition     = aws_sagemaker_mlflow_tracking_server.this.weekly_maintenance_window_start == "Sun:23:00"
    error_message = "the server must have a weekly maintenance window"
  }

  assert {
    condition     = aws_sagemaker_mlflow_tracking_server.this.mlflow_version == "3.0"
    error_message = "the MLflow version must be pinned as MAJOR.MINOR"
  }
}

run "arn_is_the_tracking_uri" {
  command = apply

  assert {
    condition     = output.tracking_server_arn == "arn:aws:sagemaker:eu-west-1:123456789012:mlflow-tracking-server/forecourt-dev-mlflow"
    error_message = "tracking_server_arn must be the server's ARN"
  }

  assert {
    condition     = output.mlflow_tracking_uri == output.tracking_server_arn
    error_message = "the tracking URI for the sagemaker-mlflow plugin is the server's ARN"
  }
}

run "medium_and_large_are_accepted" {
  command = plan

  variables {
    tracking_server_size = "Large"
  }

  assert {
    condition     = aws_sagemaker_mlflow_tracking_server.this.tracking_server_size == "Large"
    error_message = "Large must be accepted"
  }
}

run "unknown_size_is_rejected" {
  command = plan

  variables {
    tracking_server_size = "XLarge"
  }

  expect_failures = [var.tracking_server_size]
}

run "lower_case_size_is_rejected" {
  command = plan

  variables {
    tracking_server_size = "small"
  }

  expect_failures = [var.tracking_server_size]
}

run "patch_version_is_rejected" {
  command = plan

  variables {
    mlflow_version = "3.0.0"
  }

  expect_failures = [var.mlflow_version]
}

run "non_s3_artifact_store_is_rejected" {
  command = plan

  variables {
    artifact_store_uri = "https://example.com/mlflow"
  }

  expect_failures = [var.artifact_store_uri]
}
