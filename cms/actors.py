"""Who acts on codes: a signed-in user, the system (background jobs), or an anonymous visitor
of the public redemption page."""

from dataclasses import dataclass


@dataclass(frozen=True)
class _NonUserActor:
    label: str
    account = None
    pk = None
    is_authenticated = False

    def __str__(self):
        return self.label


SYSTEM = _NonUserActor("system")
ANONYMOUS = _NonUserActor("anonymous")


def is_person(actor) -> bool:
    return not isinstance(actor, _NonUserActor) and getattr(actor, "is_authenticated", False)
