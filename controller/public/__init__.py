"""The citizens' side: a commune's replay page, podcast feed, QR poster and public audio."""
