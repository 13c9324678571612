# Replace with the ids from `terraform -chdir=terraform/organization output account_ids`.
region            = "eu-west-1"
account_id        = "333333333333"
deploy_account_id = "000000000000" # the management/tooling account that runs Terraform
alarm_emails      = []
# who may assume the MFA-protected admin role: the management account (its own IAM decides who)
admin_principal_arns = ["arn:aws:iam::000000000000:root"]
# monthly cost budget (USD); the alarm topic hears at 80% spent and 100% forecast
monthly_budget_usd = 4000
# promotion: who reads this account's outbox s3://<artifacts>/promotions/, and whose it reads
promotion_reader_account_ids = []
promotion_source = {
  account_id = "222222222222"
  bucket     = "forecourt-preprod-222222222222-artifacts" # the upstream stack's output stack.bucket_names.artifacts
  prefix     = "promotions"
}
