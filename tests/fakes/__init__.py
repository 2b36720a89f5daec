"""Fake servers speaking the real wire formats of external services, on 127.0.0.1 ephemeral ports."""
