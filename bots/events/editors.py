"""Provides the refusals of members who may not change an event or poll: one whole message per
action (translators need the sentence, not a verb to slot in), with the fields ``id``,
``creator``, ``level`` and ``yours`` that ``EventsBot.require_editor`` fills."""

from __future__ import annotations

from messenger.i18n import N_

CANCEL = N_(
    "only {id}'s creator ({creator}) or a coordinator (power level {level}) can cancel it; "
    "your power level here is {yours}"
)
EDIT = N_(
    "only {id}'s creator ({creator}) or a coordinator (power level {level}) can edit it; "
    "your power level here is {yours}"
)
AGENDA = N_(
    "only {id}'s creator ({creator}) or a coordinator (power level {level}) can change the "
    "agenda of it; your power level here is {yours}"
)
REMIND = N_(
    "only {id}'s creator ({creator}) or a coordinator (power level {level}) can add reminders "
    "to it; your power level here is {yours}"
)
CLOSE = N_(
    "only {id}'s creator ({creator}) or a coordinator (power level {level}) can close it; "
    "your power level here is {yours}"
)
ACCEPT = N_(
    "only {id}'s creator ({creator}) or a coordinator (power level {level}) can turn it into "
    "an event; your power level here is {yours}"
)
