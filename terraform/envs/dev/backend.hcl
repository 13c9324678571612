# `terraform init -backend-config=backend.hcl`: the state bucket and its key come from
# terraform/bootstrap (its outputs); one key per account. Locking: S3-native lock file
# (<key>.tflock, Terraform >= 1.10), no DynamoDB table.
bucket         = "forecourt-terraform-state-000000000000"
key            = "envs/dev/terraform.tfstate"
region         = "eu-west-1"
use_lockfile   = true
encrypt        = true
# the state bucket accepts only SSE-KMS with its own key (bootstrap output kms_key_arn)
kms_key_id     = "arn:aws:kms:eu-west-1:000000000000:key/00000000-0000-0000-0000-000000000000"
