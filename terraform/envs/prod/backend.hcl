# `terraform init -backend-config=backend.hcl`: the state bucket and lock table come from
# terraform/bootstrap (its outputs); one key per account.
bucket         = "forecourt-terraform-state-000000000000"
key            = "envs/prod/terraform.tfstate"
region         = "eu-west-1"
dynamodb_table = "forecourt-terraform-locks"
encrypt        = true
# the state bucket accepts only SSE-KMS with its own key (bootstrap output kms_key_arn)
kms_key_id     = "arn:aws:kms:eu-west-1:000000000000:key/00000000-0000-0000-0000-000000000000"
