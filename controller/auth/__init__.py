"""Panel and API authentication: passwords, users, session cookies, CSRF, rate limits, audit."""
