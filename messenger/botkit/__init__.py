"""What a bot is built from: declared commands and their parser, the bot base with
exactly-once dispatch and the obey-only-encrypted rule, the handler ``Context``, and the
notice for messages a bot cannot read.

May import ``e2ee``, ``session`` and the base. ``bots/`` builds on this; nothing here
imports ``bots/``.
"""
