"""Running an organisation: the embedded homeserver (and leftovers of killed runs), the data
directory with its accounts, provisioning of the space and rooms from the organisation file,
the two-server federation helper, and the scaled homeserver (Synapse with PostgreSQL, Redis
and workers behind nginx: ``scaled``, ``scaled_config``, ``services``).

May import ``e2ee``, ``session`` and the base.
"""
