"""``make bench``: performance of one local-stack process against the upstream called directly."""
