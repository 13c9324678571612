"""Offline rehearsal of the AWS path: a moto server whose AWS Batch jobs really run
(`rehearsal.moto_batch`) and an MLflow tracking server with artifacts on moto S3
(`rehearsal.mlflow_server`)."""
