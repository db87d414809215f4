"""The one exception family that services raise for broken domain rules."""


class DomainError(Exception):
    """A rule of the domain was broken; `message` is Chinese and shown to the user as is."""

    code = "domain_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class PermissionDenied(DomainError):
    code = "permission_denied"


class NotFound(DomainError):
    code = "not_found"
