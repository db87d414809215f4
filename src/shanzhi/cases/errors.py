"""The refusals of the case engine, each a DomainError with a Chinese message."""

from shanzhi.errors import DomainError


class CaseConflict(DomainError):
    code = "version_conflict"

    def __init__(self) -> None:
        super().__init__("该事件已被他人处理,请刷新")


class TransitionRefused(DomainError):
    code = "transition_refused"


class MissingInput(DomainError):
    code = "missing_input"


class InvalidInput(DomainError):
    code = "invalid_input"
