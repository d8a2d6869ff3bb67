"""HTTP API (JSON under /api/v1) and media serving."""
