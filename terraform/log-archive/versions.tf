terraform {
  required_version = ">= 1.11"

  # partial configuration: terraform init -backend-config=backend.hcl (this root's own state
  # key); tests use terraform init -backend=false
  backend "s3" {}

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "5.100.0"
    }
  }
}
