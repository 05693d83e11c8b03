"""Cityworks' errors by name (as moto's `exceptions.py`): each is one envelope Status and one message item
Code and Name from vendor-notes/cityworks.md, so a handler raises `InvalidField("...")` and never spells the
three numbers out again."""

from __future__ import annotations

from typing import ClassVar

from .dialect import (
    AUTH_UNKNOWN,
    EMPLOYEE_NOT_FOUND,
    ERROR,
    INVALID_CREDENTIALS,
    INVALID_CREDENTIALS_CODE,
    INVALID_FIELD,
    INVALID_REQUEST_ID,
    ITEM_NOT_FOUND,
    NOT_AUTHORIZED_TO_VIEW,
    REQUIRED_FIELDS,
    STATUS_CANT_BE_CANCELED,
    STATUS_CANT_BE_CLOSED,
    UNAUTHORIZED,
    CityworksError,
)


class Named(CityworksError):
    status: ClassVar[int] = ERROR  # the envelope's Status
    code: ClassVar[int]  # the message item's Code and Name
    name: ClassVar[str]

    def __init__(self, text: str, service: str = "") -> None:
        super().__init__(self.status, self.code, self.name, text, service)


class InvalidField(Named):
    code, name = INVALID_FIELD, "InvalidField"


class RequiredFields(Named):
    code, name = REQUIRED_FIELDS, "RequiredFields"


class ItemNotFound(Named):
    code, name = ITEM_NOT_FOUND, "ItemNotFound"


class ErrorItemNotFound(Named):
    """The Name some services give code 35 (seen beside ItemNotFound)."""

    code, name = ITEM_NOT_FOUND, "ErrorItemNotFound"


class InvalidRequestId(Named):
    code, name = INVALID_REQUEST_ID, "InvalidRequestId"


class StatusCantBeClosed(Named):
    code, name = STATUS_CANT_BE_CLOSED, "StatusCantBeClosed"


class StatusCantBeCanceled(Named):
    code, name = STATUS_CANT_BE_CANCELED, "StatusCantBeCanceled"


class NotAuthorizedToView(Named):
    code, name = NOT_AUTHORIZED_TO_VIEW, "NotAuthorizedToView"


class NotLicensed(Named):
    """A service the deployment has no licence for: Unauthorized, with the view code."""

    status, code, name = UNAUTHORIZED, NOT_AUTHORIZED_TO_VIEW, "NotLicensed"


class Unauthorized(Named):
    status, code, name = UNAUTHORIZED, AUTH_UNKNOWN, "Unauthorized"


class InvalidCredentials(Named):
    status, code, name = INVALID_CREDENTIALS, INVALID_CREDENTIALS_CODE, "InvalidCredentials"


class EmployeeNotFound(Named):
    status, code, name = INVALID_CREDENTIALS, EMPLOYEE_NOT_FOUND, "EmployeeNotFoundByLoginName"
