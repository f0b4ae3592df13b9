"""The domain's exceptions: each says, in words a person can act on, which rule was broken."""


class DomainError(Exception):
    """A command broke a rule of the domain. ``rule`` is a short stable name for clients."""

    rule = "domain_rule"

    def __init__(self, message: str, *, rule: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if rule is not None:
            self.rule = rule


class NotAllowed(DomainError):
    """The actor may not do this (for example: confirming somebody else's request)."""

    rule = "not_allowed"


class WrongState(DomainError):
    """The thing is not in a state where this can happen (for example: assigned twice)."""

    rule = "wrong_state"


class InvalidValue(DomainError):
    """A value the domain cannot accept (for example: zero minutes of work)."""

    rule = "invalid_value"
