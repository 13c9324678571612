output "tracking_server_arn" {
  description = "ARN of the tracking server: the tracking URI for the sagemaker-mlflow plugin (FORECOURT_MLFLOW_TRACKING_URI)."
  value       = aws_sagemaker_mlflow_tracking_server.this.arn
}

output "tracking_server_url" {
  description = "URL of the MLflow UI (open it through a presigned URL: sagemaker:CreatePresignedMlflowTrackingServerUrl)."
  value       = aws_sagemaker_mlflow_tracking_server.this.tracking_server_url
}

output "tracking_server_name" {
  description = "Name of the tracking server."
  value       = aws_sagemaker_mlflow_tracking_server.this.tracking_server_name
}

output "mlflow_tracking_uri" {
  description = "Value for FORECOURT_MLFLOW_TRACKING_URI (the tracking server ARN)."
  value       = aws_sagemaker_mlflow_tracking_server.this.arn
}
