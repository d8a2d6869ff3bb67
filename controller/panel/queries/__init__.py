"""Read-side queries the panel pages need (kept out of the route modules)."""
