"""Writes of the messaging layer."""
