"""The operator CLI (`sluice`)."""
