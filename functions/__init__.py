"""One package per Lambda function. Each is deployed with its own directory as CodeUri."""
