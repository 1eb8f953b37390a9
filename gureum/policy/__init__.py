"""Authorization: the IAM policy evaluation every request goes through.

- `authorization`: the gateway's entry point, `authorize(ctx, service, operation, params, sources)`
- `actions`: which IAM action(s) and resource ARN(s) an operation needs
- `engine`: AWS's evaluation logic over a set of parsed policies
- `document`, `conditions`, `matching`, `variables`: the policy language
"""

from gureum.policy.authorization import PolicySources, authorize

__all__ = ["PolicySources", "authorize"]
