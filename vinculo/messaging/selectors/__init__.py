"""Reads of the messaging layer."""
