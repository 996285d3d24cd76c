"""Provides the ``samverkan`` command: the composition root above tui/ and bots/."""
