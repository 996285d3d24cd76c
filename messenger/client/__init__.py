"""The person's client, toolkit-free: ``ChatClient`` (rooms of the space, timelines, sending,
dashboards' data, devices and verification for a person) and the timeline model.

May import ``e2ee``, ``session`` and the base; ``tui/`` and ``bench/`` build on it.
"""
