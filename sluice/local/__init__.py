"""The local stack: every route of template.yaml on 127.0.0.1:3000, without Docker."""
