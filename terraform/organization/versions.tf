terraform {
  required_version = ">= 1.11"

  # partial configuration: terraform init -backend-config=backend.hcl (see README and
  # terraform/bootstrap's backend_config output); tests use terraform init -backend=false
  backend "s3" {}

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "5.100.0"
    }
  }
}
