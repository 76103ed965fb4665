"""What a use case is given and what it gives back, in messenger-neutral terms.

An adapter turns a messenger's payload into a `Request` (who, where, which request) and
renders the `Reply` or `Submitted` it gets back with its own widgets: an ephemeral
message, a dialog to open, field errors, the dialog's next page.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.core.caller import Caller
from bot.core.i18n import N_
from bot.core.texts import Text
from bot.core.views import Form, Message

FAILURE = N_("Sorry, something went wrong on csatbot's side. Nothing you entered was lost; please try again, "
             "and tell a quality engineer if it keeps happening.")


@dataclass
class Request:
    caller: Caller
    # unique per request as the messenger sends it (a trigger, an action's time, a dialog's id):
    # outbox keys are made from it, so a request handled twice queues nothing twice
    key: str
    place: str | None = None  # the conversation it was made in; None from App Home or a dialog
    direct: bool = False  # made in the person's direct messages with the bot


@dataclass
class Reply:
    """The answer to a command or a button press."""

    message: Message | None = None  # shown to the asker where they asked
    form: Form | None = None  # a dialog to open for the asker
    replace: bool = False  # the message replaces the one whose button was pressed

    @classmethod
    def text(cls, text: str) -> Reply:
        return cls(message=Message(text=text))


@dataclass
class Submitted:
    """The outcome of a dialog submission: accepted (no errors), errors at the fields, or
    the dialog's next page."""

    errors: dict[str, Text] = field(default_factory=dict)  # by form field key
    problem: Text | None = None  # about the whole form; adapters show it at the first field
    next_form: Form | None = None

    @property
    def accepted(self) -> bool:
        return not self.errors and self.problem is None
