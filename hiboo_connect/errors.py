"""Domain errors raised by services and selectors: a machine-readable code, a human message and, when it applies,
the field at fault. Views and the API turn them into their own answers (a form error, a JSON body and status)."""

from django.core.exceptions import ObjectDoesNotExist, ValidationError


class DomainError(Exception):
    """A refusal by the product's rules. `kind` says how an interface should answer it."""

    kind = "invalid"

    def __init__(self, code: str, message: str, *, field: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = str(message)
        self.field = field
        #: Further refusals the same check found in other fields (a creation checks every field at once).
        self.also: list[DomainError] = []

    def __repr__(self):
        return f"{type(self).__name__}({self.code!r}, {self.message!r}, field={self.field!r})"


class InvalidInput(DomainError):
    """The input itself is wrong (400 in the API, an error next to the field in a form)."""

    kind = "invalid"


class NotAllowed(DomainError):
    """The actor's role does not allow the action (403)."""

    kind = "forbidden"


class NotFound(DomainError):
    """The object does not exist or is not visible to the actor's organisation (404)."""

    kind = "not_found"


class RuleConflict(DomainError):
    """The rules forbid the action in the object's current state (409), with the reason."""

    kind = "conflict"


class PreconditionFailed(DomainError):
    """The client's precondition no longer holds: it read an older version of the object (If-Match, 412)."""

    kind = "precondition_failed"


def get_or_not_found(queryset, code: str, message: str, **lookup):
    """The one row of an already scoped `queryset` matching `lookup`, or NotFound. A malformed id (not a UUID, say)
    is NotFound too: an outsider learns nothing from the difference."""
    try:
        return queryset.get(**lookup)
    except (ObjectDoesNotExist, ValueError, TypeError, ValidationError):
        raise NotFound(code, message) from None
