"""AWS Systems Manager: Parameter Store (the public /aws/service/ parameters and the account's own)."""
