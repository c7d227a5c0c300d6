"""iCIMS error responses: `{"errors": [{"errorMessage", "errorCode"}]}` plus `X-Error` (API_NOTES 6.2)."""

from __future__ import annotations

from fastapi.responses import JSONResponse

# Codes 0-3 and 6 are documented; 9 comes from a client's test fixture; 5 and 10 are the sandbox's
# own choice for cases iCIMS does not document (bad request bodies, rate limiting) [I].
INTERNAL_ERROR = 0
FIELD_REQUIRED = 1
RESOURCE_NOT_FOUND = 2
RESOURCE_ACCESS_DENIED = 3
INVALID_REQUEST = 5
INVALID_CREDENTIALS = 6
AUTH_INVALID = 9
RATE_LIMITED = 10

CREDENTIALS_MESSAGE = "Invalid Username or Password credentials provided."
HMAC_MESSAGE = "Authentication credentials invalid"


class ICIMSError(Exception):
    """Raised by handlers; rendered by the app's exception handler."""

    def __init__(self, status: int, code: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def not_found(message: str) -> ICIMSError:
    return ICIMSError(404, RESOURCE_NOT_FOUND, message)


def bad_request(message: str, code: int = INVALID_REQUEST) -> ICIMSError:
    return ICIMSError(400, code, message)


def error_response(
    status: int, code: int, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    response = JSONResponse(
        {"errors": [{"errorMessage": message, "errorCode": code}]}, status_code=status, headers=headers
    )
    response.headers["X-Error"] = _header_safe(f"{code}:{message}")
    return response


def _header_safe(text: str) -> str:
    # Header values must be latin-1 on one line; messages may quote user input.
    text = " ".join(text.split())
    return text.encode("latin-1", "replace").decode("latin-1")
