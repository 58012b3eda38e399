"""Payments: the signed webhook that turns a purchase into a package of credits."""
