"""Amazon's error bodies: `{"errors": [{"code", "message", "details"}]}`.

Every API family used here serialises its `ErrorList` this way, whether or not the model wraps it in
the response object."""

from __future__ import annotations

import uuid

from simulator.jsonbody import ExactJSONResponse

ACCESS_DENIED = "Access to requested resource is denied."
TOKEN_EXPIRED = "The access token you provided has expired."
QUOTA_EXCEEDED = "You exceeded your quota for the requested resource."
INTERNAL_FAILURE = "We encountered an internal error. Please try again."
SERVICE_UNAVAILABLE = "Service temporarily unavailable. Please try again."


class InvalidInput(Exception):
    """A request Amazon would refuse with 400 InvalidInput."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(Exception):
    def __init__(self, message: str = "Resource not found.") -> None:
        super().__init__(message)
        self.message = message


def new_request_id() -> str:
    return str(uuid.uuid4())


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None):
    body = {"errors": [{"code": code, "message": message, "details": ""}]}
    return ExactJSONResponse(body, status_code=status, headers=headers)
