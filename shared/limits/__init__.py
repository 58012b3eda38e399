"""Rate limits: the policy (data) and exact fixed-window admission in DynamoDB."""
