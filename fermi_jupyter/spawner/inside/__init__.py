"""Code that runs inside a local server's sandbox, as the user (never in the hub)."""
