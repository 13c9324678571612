# Replace with the ids from `terraform -chdir=terraform/organization output account_ids`.
region            = "eu-west-1"
account_id        = "222222222222"
deploy_account_id = "000000000000" # the management/tooling account that runs Terraform
alarm_emails      = []
# who may assume the MFA-protected admin role: the management account (its own IAM decides who)
admin_principal_arns = ["arn:aws:iam::000000000000:root"]
