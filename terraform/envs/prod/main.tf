# Prod: three AZs with a NAT gateway each, a private MWAA web server, two instances per
# endpoint.
module "forecourt" {
  source = "../../modules/platform"

  environment                 = "prod"
  name_prefix                 = "forecourt-prod"
  az_count                    = 3
  vpc_cidr                    = "10.40.0.0/16"
  enable_nat_gateway          = true
  single_nat_gateway          = false
  mwaa_environment_class      = "mw1.medium"
  mwaa_webserver_access_mode  = "PRIVATE_ONLY"
  training_max_vcpus          = 32
  serving_instance_type       = "ml.g4dn.xlarge"
  serving_instance_count      = 2
  mlflow_tracking_server_size = "Medium"
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
