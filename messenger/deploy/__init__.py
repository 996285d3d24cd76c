"""Running an organisation: the embedded homeserver (and leftovers of killed runs), the data
directory with its accounts, provisioning of the space and rooms from the organisation file,
and the two-server federation helper.

May import ``e2ee``, ``session`` and the base.
"""
