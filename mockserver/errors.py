"""One exception class per documented error code, each holding its code and HTTP status.

Views and the store raise these; ``app.py`` registers the handlers that turn any of them into the error
envelope through the renderer, so an XML client gets an XML error. Codes and statuses come from the
"Codes d'erreur" tables of the API documentation; ``PAYLOAD_TOO_LARGE`` is the sandbox's own (the
documentation does not say what an oversized body gets).
"""

from __future__ import annotations

from typing import Any, ClassVar


class ApiError(Exception):
    code: ClassVar[str] = "INTERNAL_ERROR"
    status: ClassVar[int] = 500
    default_message: ClassVar[str] = "Internal server error"
    #: The documentation's "Action recommandée" for the code, the hint of last resort.
    action: ClassVar[str] = "Try again later; the sandbox log says what went wrong"

    def __init__(
        self,
        message: str | None = None,
        *,
        details: dict[str, Any] | None = None,
        hint: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.details = details
        #: Response headers the error comes with (``Allow`` for a wrong method).
        self.headers = headers or {}
        # One sentence a person can act on: shown in the journal and the debug block, never in the envelope.
        self.hint = hint or f"{self.message.rstrip('.')}: {self.action.lower()}."
        super().__init__(self.message)


class InvalidParameter(ApiError):
    code, status, default_message = "INVALID_PARAMETER", 400, "Invalid or missing parameter"
    action = "Check the request's parameters"


class InvalidDateFormat(ApiError):
    code, status, default_message = "INVALID_DATE_FORMAT", 400, "Invalid date format, use YYYY-MM-DD"
    action = "Use the YYYY-MM-DD format"


class DateRangeTooLarge(ApiError):
    code, status, default_message = "DATE_RANGE_TOO_LARGE", 400, "Date range too large (max 365 days)"
    action = "Reduce the date range to 365 days at most"


class AuthRequired(ApiError):
    code, status, default_message = (
        "AUTH_REQUIRED",
        401,
        "Authentication required: send the Access-Token header",
    )
    action = "Include the access token"


class AuthInvalid(ApiError):
    code, status, default_message = "AUTH_INVALID", 401, "Invalid authentication token"
    action = "Check the HMAC token"


class EndpointNotFound(ApiError):
    code, status, default_message = "ENDPOINT_NOT_FOUND", 404, "Endpoint not found"
    action = "Check the endpoint's URL (GET /api/ lists them)"


class ResourceNotFound(ApiError):
    code, status, default_message = "RESOURCE_NOT_FOUND", 404, "Resource not found"
    action = "Check the resource's id (the lists give the ids)"


class InternalError(ApiError):
    code, status, default_message = "INTERNAL_ERROR", 500, "Internal server error"


class MissingRequiredField(ApiError):
    code, status, default_message = "MISSING_REQUIRED_FIELD", 400, "Missing required field"
    action = "Add the missing field to the JSON body"


class InvalidJson(ApiError):
    code, status, default_message = "INVALID_JSON", 400, "Invalid JSON in request body"
    action = "Send a JSON object in the request body"


class CalendarNotFound(ApiError):
    code, status, default_message = "CALENDAR_NOT_FOUND", 404, "Calendar not found or inactive"
    action = "Check the calendar id (GET /api/calendars lists them, with is_active)"


class SlotNotFound(ApiError):
    code, status, default_message = "SLOT_NOT_FOUND", 404, "Slot not found"
    action = "Check the slot id (GET /api/slots lists a calendar's slots)"


class SlotUnavailable(ApiError):
    code, status, default_message = "SLOT_UNAVAILABLE", 409, "No place left in this slot"
    action = "Pick a slot with is_available true"


class SlotInPast(ApiError):
    code, status, default_message = "SLOT_IN_PAST", 409, "Cannot book a slot in the past"
    action = "Pick a slot that starts after the sandbox clock"


class MissingCalendarId(ApiError):
    code, status, default_message = "MISSING_CALENDAR_ID", 400, "calendar_id parameter is required"
    action = "Add calendar_id to the query, e.g. calendar_id=1"


class PayloadTooLarge(ApiError):
    code, status, default_message = "PAYLOAD_TOO_LARGE", 413, "Request body too large"
    action = "Send a smaller body (the limit is --max-body-bytes)"


#: Every documented error code, in the order of the documentation's tables.
DOCUMENTED: dict[str, type[ApiError]] = {
    cls.code: cls
    for cls in (
        InvalidParameter,
        InvalidDateFormat,
        DateRangeTooLarge,
        AuthRequired,
        AuthInvalid,
        EndpointNotFound,
        ResourceNotFound,
        InternalError,
        MissingRequiredField,
        InvalidJson,
        CalendarNotFound,
        SlotNotFound,
        SlotUnavailable,
        SlotInPast,
        MissingCalendarId,
    )
}

ALL_CODES: dict[str, type[ApiError]] = {**DOCUMENTED, PayloadTooLarge.code: PayloadTooLarge}


def from_code(code: str, message: str | None = None, hint: str | None = None) -> ApiError:
    """The error for a documented code (used by scenario switches); KeyError for an unknown code."""
    return ALL_CODES[code](message, hint=hint)
