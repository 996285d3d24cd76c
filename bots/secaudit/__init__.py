"""The security audit in rooms: ``!audit`` for coordinators and the scheduled report.

Not a bot of its own: ``SecurityAuditCommands`` is a command group the resources bot hosts,
and ``AuditSchedule`` runs on its tick. The checks are ``messenger.deploy.audit``'s; this
package gives them words (catalogue part ``audit``), renders the room report, and keeps the
signed log of audit runs (``auditlog``) in the deployment store.
"""
