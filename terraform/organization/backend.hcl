# `terraform init -backend-config=backend.hcl`: from terraform/bootstrap's outputs.
# Locking: S3-native lock file (<key>.tflock, Terraform >= 1.10), no DynamoDB table.
bucket         = "forecourt-terraform-state-000000000000"
key            = "organization/terraform.tfstate"
region         = "eu-west-1"
use_lockfile   = true
encrypt        = true
kms_key_id     = "arn:aws:kms:eu-west-1:000000000000:key/00000000-0000-0000-0000-000000000000"
