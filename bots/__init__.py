"""Provides Samverkan's bots (events, resources, translation) and the runtime that hosts them."""
