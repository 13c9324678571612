# Run with the management account's credentials, like terraform/organization, and act in the
# log-archive account through the role AWS Organizations created in it (the same pattern as
# envs/_shared/providers.tf).
provider "aws" {
  region = var.region

  assume_role {
    role_arn     = "arn:${var.partition}:iam::${var.log_archive_account_id}:role/${var.access_role_name}"
    session_name = "forecourt-terraform-log-archive"
  }

  default_tags {
    tags = var.tags
  }
}
