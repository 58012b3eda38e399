"""What the dashboard's chat surfaces share: the account's default key as their caller."""
