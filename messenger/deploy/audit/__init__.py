"""The security audit: read-only checks of rooms, people, bots and the deployment.

``auditor`` runs them (``Auditor``, ``AuditReport``, ``Deployed``); ``rooms``, ``people`` and
``hosting`` hold the checks; ``admin`` the Synapse admin API reads. The findings' words live
in the ``audit`` catalogue (``bots.secaudit.words``): this package produces data only. May
import ``e2ee``, ``session`` and the base, like the rest of ``deploy``.
"""
