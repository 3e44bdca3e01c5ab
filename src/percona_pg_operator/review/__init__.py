"""Reviewing a change without applying it: the render, the diff and the upgrade plan, each with
the real Helm engine and the real chart packages, in Helm's install order."""
