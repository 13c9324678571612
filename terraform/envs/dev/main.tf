# Dev: the cheapest shape that still runs the whole loop. One NAT gateway, two AZs, the
# smallest MWAA, public MWAA web server (sign-in still through IAM), GPU at zero when idle.
module "forecourt" {
  source = "../../modules/platform"

  environment                 = "dev"
  name_prefix                 = "forecourt-dev"
  az_count                    = 2
  vpc_cidr                    = "10.20.0.0/16"
  enable_nat_gateway          = true
  single_nat_gateway          = true
  mwaa_environment_class      = "mw1.small"
  mwaa_webserver_access_mode  = "PUBLIC_ONLY"
  training_max_vcpus          = 8
  serving_instance_type       = "ml.g4dn.xlarge"
  mlflow_tracking_server_size = "Small"
  deploy_account_id           = var.deploy_account_id
  alarm_emails                = var.alarm_emails
  admin_principal_arns        = var.admin_principal_arns
  enable_mwaa                 = var.enable_mwaa
  enable_mlflow               = var.enable_mlflow
  upload_airflow_files        = var.upload_airflow_files
  image_tag                   = var.image_tag
  mlflow_tracking_uri         = var.mlflow_tracking_uri
  plugins_zip_path            = var.plugins_zip_path
  mwaa_ui_allowed_cidrs       = var.mwaa_ui_allowed_cidrs

  # security baseline (modules/security_baseline) and cross-account promotion
  enable_guardduty             = var.enable_guardduty
  enable_aws_config            = var.enable_aws_config
  enable_security_hub          = var.enable_security_hub
  enable_access_analyzer       = var.enable_access_analyzer
  enable_budget                = var.enable_budget
  monthly_budget_usd           = var.monthly_budget_usd
  promotion_reader_account_ids = var.promotion_reader_account_ids
  promotion_source             = var.promotion_source
}
