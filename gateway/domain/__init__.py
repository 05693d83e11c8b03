"""The gateway's rules as pure functions: no I/O, unit- and property-tested directly."""


class DomainError(ValueError):
    """A rule refused the input; `field` names what to fix."""

    def __init__(self, message: str, field: str | None = None, code: str = "invalid") -> None:
        super().__init__(message)
        self.message, self.field, self.code = message, field, code
