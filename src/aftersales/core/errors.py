"""The one error tree of aftersales.

Every error the product raises on purpose derives from :class:`AftersalesError`; each entry point
maps this tree in exactly one place: the CLI to one ``error: ...`` line and an exit code
(``entrypoints/cli/app.py``), the API to RFC 9457 problem responses (``entrypoints/api/problems.py``).
A :class:`ValidationError` carries :class:`FieldError` locations in neutral terms (``("to",)``), which
each entry point renders in its own (``--to`` on the CLI, a JSON pointer in a problem).

::

    AftersalesError                      exit 1  (HTTP 500)
    ├── UnusableInputError               exit 2  (HTTP 400)  input cannot be used at all; nothing written
    │   ├── UnknownFormatError                               format not recognised / not given
    │   ├── MissingColumnError                               a required column is absent from a file
    │   ├── ContractError                                    unknown table / column in the data contract
    │   └── TokenError                                       a signed token is malformed, forged, expired
    │                                                        or for another purpose (core/tokens.py)
    ├── ValidationError                  exit 2  (HTTP 422)  a value is invalid (carries field errors)
    ├── NotFoundError                    exit 2  (HTTP 404)  a named thing does not exist
    ├── ConflictError                    exit 2  (HTTP 409)  the request conflicts with stored state
    ├── PartialSuccess                   exit 3              some rows were rejected, the rest kept
    ├── ConvergenceError                 exit 1  (HTTP 422)  the data cannot identify a model
    └── EngineError                      exit 1  (HTTP 502)  an analytical engine failed
        ├── StoreUnavailableError        exit 1  (HTTP 503)  the store cannot be reached or opened
        └── MissingTableError            exit 2  (HTTP 400)  a source lacks a table a metric needs

Statistical caveats are *not* errors: they are warnings or flags on results.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "AftersalesError",
    "ConflictError",
    "ContractError",
    "ConvergenceError",
    "EngineError",
    "FieldError",
    "MissingColumnError",
    "MissingTableError",
    "NotFoundError",
    "PartialSuccess",
    "StoreUnavailableError",
    "TokenError",
    "UnknownFormatError",
    "UnusableInputError",
    "ValidationError",
]


class AftersalesError(Exception):
    """Base of every deliberate error. ``exit_code`` and ``http_status`` drive the entry points."""

    exit_code: int = 1
    http_status: int = 500
    title: str = "Internal error"


class UnusableInputError(AftersalesError):
    """The input cannot be used at all (missing file, no header, ...); nothing was written."""

    exit_code = 2
    http_status = 400
    title = "Unusable input"


class UnknownFormatError(UnusableInputError):
    title = "Unknown format"


class MissingColumnError(UnusableInputError):
    title = "Missing column"


class ContractError(UnusableInputError):
    title = "Not in the data contract"


class TokenError(UnusableInputError):
    """A signed token (an unsubscribe or preference link, a survey link) cannot be honoured.

    ``reason`` says why (``core.tokens.TOKEN_ERROR_REASONS``): ``malformed`` (not a token at all),
    ``bad_signature`` (altered, or signed with another key), ``expired``, ``wrong_purpose`` (a valid
    token made for something else). The message never repeats the token or its subject."""

    title = "Invalid token"

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class FieldError:
    """One invalid field: where (``loc``, e.g. ``("orders", 3, "ordered_at")``) and why."""

    loc: tuple[str | int, ...]
    message: str


class ValidationError(AftersalesError):
    exit_code = 2
    http_status = 422
    title = "Validation failed"

    def __init__(self, message: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(message)
        self.errors: list[FieldError] = list(errors or [])


class NotFoundError(AftersalesError):
    exit_code = 2
    http_status = 404
    title = "Not found"


class ConflictError(AftersalesError):
    exit_code = 2
    http_status = 409
    title = "Conflict"


class PartialSuccess(AftersalesError):
    """Some input was rejected; the valid part was kept. Carries the result object."""

    exit_code = 3
    http_status = 207
    title = "Partial success"

    def __init__(self, message: str, result: object = None) -> None:
        super().__init__(message)
        self.result = result


class ConvergenceError(AftersalesError):
    """The data cannot identify the model (no interior maximum, flat likelihood): a data problem."""

    http_status = 422
    title = "Model did not converge"


class EngineError(AftersalesError):
    http_status = 502
    title = "Engine error"


class StoreUnavailableError(EngineError):
    """The store cannot be reached or opened (server down, unknown database or role)."""

    http_status = 503
    title = "Store unavailable"


class MissingTableError(EngineError):
    exit_code = 2
    http_status = 400
    title = "Missing table"
