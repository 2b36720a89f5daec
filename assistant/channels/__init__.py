"""Chat channels (Slack, Teams): translators between a platform's events and the engine's turns."""
