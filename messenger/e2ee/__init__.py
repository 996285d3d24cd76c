"""The account's end-to-end identity: cross-signing, secret storage and server-side key
backup, emoji (SAS) verification to-device and in-room.

May import ``session`` and the base; the SAS state machine (``sasflow``) depends only on the
small ``SasTransport`` protocol it defines, never on how its messages travel.
"""
