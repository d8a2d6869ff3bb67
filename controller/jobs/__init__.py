"""Background jobs of the controller (APScheduler), run by exactly one process at a time."""
