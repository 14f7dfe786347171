"""Models of the messaging layer."""
