# The course's Terraform lab: state in an S3 bucket, locking in a DynamoDB table.
# bucket, key, dynamodb_table and the endpoints come from `terraform init -backend-config`
# because a backend block cannot read variables and the server's port is chosen per run.
terraform {
  backend "s3" {
    region                      = "us-east-1"
    access_key                  = "test"
    secret_key                  = "test"
    force_path_style            = true
    skip_credentials_validation = true
    skip_region_validation      = true
    skip_metadata_api_check     = true
  }

  required_providers {
    null = {
      source  = "hashicorp/null"
      version = "2.1.2"
    }
  }
}

variable "sleep_seconds" {
  type    = number
  default = 0
}

resource "null_resource" "web" {
  triggers = {
    name = "web"
  }
}

# Replaced whenever sleep_seconds changes; its provisioner keeps an apply (and its lock) busy.
resource "null_resource" "slow" {
  triggers = {
    sleep_seconds = var.sleep_seconds
  }

  provisioner "local-exec" {
    command = "sleep ${var.sleep_seconds}"
  }
}

output "web_id" {
  value = null_resource.web.id
}
