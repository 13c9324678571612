# Replace with the ids from `terraform -chdir=terraform/organization output account_ids`.
region            = "eu-west-1"
account_id        = "111111111111"
deploy_account_id = "000000000000" # the management/tooling account that runs Terraform
alarm_emails      = []
# who may assume the MFA-protected admin role: the management account (its own IAM decides who)
admin_principal_arns = ["arn:aws:iam::000000000000:root"]
# monthly cost budget (USD); the alarm topic hears at 80% spent and 100% forecast
monthly_budget_usd = 2500
# promotion: who reads this account's outbox s3://<artifacts>/promotions/, and whose it reads
promotion_reader_account_ids = ["222222222222"] # preprod reads what dev proposes
