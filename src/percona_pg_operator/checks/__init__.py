"""Decisions over what was read: the preflight's checks before a change, and the
verification after it."""
