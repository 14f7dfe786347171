"""Writes of the messaging layer, one module per concern."""
