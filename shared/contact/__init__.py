"""The contact form: validated, stored, and forwarded to the operator through a queue."""
