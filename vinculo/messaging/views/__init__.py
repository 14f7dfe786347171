"""Pages of the messaging layer."""
