"""One device of one account: login or restore, the encrypted stores, the owned sync loop,
decryption and sender authentication, the outbox, room operations, nio's key store.

May import the base of ``messenger`` (errors, ids, config, store, events, protocol, calls,
faults, poison) and ``crypto``; never ``e2ee``, ``botkit``, ``client`` or ``deploy``.
"""
