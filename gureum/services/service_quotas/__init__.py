"""Service Quotas: the quotas of the services gureum has, their increases and history."""
