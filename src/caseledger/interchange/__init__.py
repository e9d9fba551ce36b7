"""The interchange format: case histories as JSON Lines, with a published JSON Schema."""
