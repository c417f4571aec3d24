"""Typed errors for finance payloads: the caller quarantines the payload and names the reason."""

from __future__ import annotations


class FinancePayloadError(ValueError):
    """A finance or vendor payload cannot be turned into lake rows without losing or inventing data.

    `where` names the place in the payload (a JSON path such as `ShipmentEventList[3].PostedDate`), so the
    quarantine sidecar can point at it. The message never carries secrets: payload bodies hold none.
    """

    def __init__(self, message: str, *, where: str = "") -> None:
        self.where = where
        super().__init__(f"{message} (at {where})" if where else message)


class MoneyFormatError(FinancePayloadError):
    """A money amount is not a finite decimal number (for example `"12,5"`, `"NaN"`, `true`)."""


class MoneyPrecisionError(FinancePayloadError):
    """A money amount has more decimal places or digits than the lake's decimal128(18, 2) keeps.

    Raised instead of rounding: a silently rounded amount would break reconciliation to the cent.
    """


class TimestampFormatError(FinancePayloadError):
    """A date or timestamp is not ISO 8601."""


class PayloadShapeError(FinancePayloadError):
    """The payload does not have the shape the model describes (a list where an object belongs, ...)."""
