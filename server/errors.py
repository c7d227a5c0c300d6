"""Service errors with an HTTP status: the API maps them to JSON errors, the pages to error states."""

from __future__ import annotations


class ServiceError(Exception):
    status_code = 400

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(ServiceError):
    status_code = 404


class Forbidden(ServiceError):
    status_code = 403


class Conflict(ServiceError):
    status_code = 409


class Invalid(ServiceError):
    status_code = 422


class Upstream(ServiceError):
    """iCIMS (or another backend) failed while applying an approved decision."""

    status_code = 502
