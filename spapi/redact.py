"""Keeping secrets out of logs and exception text.

Three kinds of value must never leave the process: the LWA client secret, refresh tokens and access tokens.
`Secret` wraps a value so that printing, logging or `repr` of any object holding it shows a mask;
`redact_text` scrubs free text (exception messages, log lines) of every registered secret and of anything
shaped like an LWA token (`Atza|…` access tokens, `Atzr|…` refresh tokens), which also covers tokens we
never registered.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Final

LOGGER_NAME: Final = "acorn.spapi"
MASK: Final = "***"

# LWA tokens: `Atza|` (access) and `Atzr|` (refresh) followed by URL-safe characters. Amazon's tokens are
# several hundred characters long; anything after the prefix up to a delimiter is treated as the token.
_LWA_TOKEN = re.compile(r"Atz[ar]\|[^\s\"'&,;<>}\]\)]+")
# Form and JSON fields that carry secrets, for text that was produced before a value was registered.
_SECRET_FIELDS = re.compile(
    r"(?P<key>client_secret|refresh_token|access_token|x-amz-access-token)"
    r"(?P<sep>\"?\s*[:=]\s*\"?)(?P<value>[^\s\"'&,;}]+)",
    re.IGNORECASE,
)

_registry_lock = threading.Lock()
_registered: set[str] = set()


class Secret:
    """A secret string whose `str` and `repr` are masked; `reveal()` is the only way to read it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if isinstance(value, Secret):
            value = value.reveal()
        self._value = value
        register_secret(value)

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret('{MASK}')"

    def __str__(self) -> str:
        return MASK

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __bool__(self) -> bool:
        return bool(self._value)


def register_secret(value: str) -> None:
    """Remember a value so that `redact_text` masks it wherever it appears (short values are too ambiguous)."""
    if value and len(value) >= 6:
        with _registry_lock:
            _registered.add(value)


def redact_text(text: str) -> str:
    """`text` with every registered secret and every LWA-shaped token replaced by a mask."""
    with _registry_lock:
        secrets = sorted(_registered, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    text = _LWA_TOKEN.sub(lambda match: match.group(0)[:5] + MASK, text)
    return _SECRET_FIELDS.sub(lambda match: f"{match.group('key')}{match.group('sep')}{MASK}", text)


class RedactingFilter(logging.Filter):
    """Rewrites each record's message with secrets masked (formatting it first, so args cannot leak)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not break logging; keep the template only
            message = str(record.msg)
        record.msg = redact_text(message)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
            record.exc_text = redact_text(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        return True


def get_logger() -> logging.Logger:
    """The package logger, with the redaction filter attached once (filters on a logger only see its own records,
    so every module logs through this one logger rather than a child)."""
    logger = logging.getLogger(LOGGER_NAME)
    if not any(isinstance(existing, RedactingFilter) for existing in logger.filters):
        logger.addFilter(RedactingFilter())
    return logger


def protect_third_party_loggers() -> None:
    """httpx and httpcore log request lines; make sure nothing secret-shaped slips out through them either."""
    for name in ("httpx", "httpcore"):
        logger = logging.getLogger(name)
        if not any(isinstance(existing, RedactingFilter) for existing in logger.filters):
            logger.addFilter(RedactingFilter())
