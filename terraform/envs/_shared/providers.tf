# Terraform runs with the management (or tooling) account's credentials and assumes the
# deploy role of the account it manages: OrganizationAccountAccessRole for the first
# apply, the stack's own deploy role afterwards.
provider "aws" {
  region = var.region

  assume_role {
    role_arn     = "arn:aws:iam::${var.account_id}:role/${var.deploy_role_name}"
    session_name = "forecourt-terraform"
  }

  default_tags {
    tags = {
      Project   = "forecourt"
      ManagedBy = "terraform"
    }
  }
}
