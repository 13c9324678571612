terraform {
  required_version = ">= 1.11"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "5.100.0"
    }
  }
  # S3 state with DynamoDB locking, from terraform/bootstrap: each account's backend.hcl
  # names the bucket, key and table (`terraform init -backend-config=backend.hcl`).
  backend "s3" {}
}
