"""The agent distribution the controller serves: wheel build, hashed lock, signed manifest."""
