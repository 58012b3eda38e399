"""Tools: saved prompt configurations a dashboard user installs and runs (tool proxy)."""
