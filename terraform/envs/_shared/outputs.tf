output "stack" {
  description = "Everything the account's stack exposes (see modules/platform/outputs.tf)."
  value = {
    kms_key_arn                = module.forecourt.kms_key_arn
    vpc_id                     = module.forecourt.vpc_id
    bucket_names               = module.forecourt.bucket_names
    sns_topic_arn              = module.forecourt.sns_topic_arn
    dashboard_name             = module.forecourt.dashboard_name
    batch_job_queue_arn        = module.forecourt.batch_job_queue_arn
    ecr_repository_urls        = module.forecourt.ecr_repository_urls
    endpoint_names             = module.forecourt.endpoint_names
    mlflow_tracking_server_arn = module.forecourt.mlflow_tracking_server_arn
    mwaa_webserver_url         = module.forecourt.mwaa_webserver_url
    admin_role_arn             = module.forecourt.admin_role_arn
    deploy_role_arn            = module.forecourt.deploy_role_arn
  }
}
