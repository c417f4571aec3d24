"""Why a settlement file could not be imported, precisely enough to find the problem in the file."""

from __future__ import annotations

from typing import Literal

FailureKind = Literal["malformed", "unsupported", "not_settlement"]


class SettlementFileError(Exception):
    """A file that cannot become lake rows. `kind` not_settlement means "this is not a settlement report at
    all" (rejected); malformed and unsupported files are quarantined. `line` is the 1-based physical line
    (header = 1) and `column` the header name, when the problem has a place."""

    def __init__(
        self,
        reason: str,
        *,
        file: str,
        line: int | None = None,
        column: str | None = None,
        kind: FailureKind = "malformed",
    ) -> None:
        self.reason = reason
        self.file = file
        self.line = line
        self.column = column
        self.kind = kind
        super().__init__(self.message)

    @property
    def message(self) -> str:
        where = []
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.column is not None:
            where.append(f"column {self.column}")
        place = f" ({', '.join(where)})" if where else ""
        return f"{self.file}{place}: {self.reason}"


class EmptySettlementFile(Exception):
    """A file with nothing to import and nothing wrong: 0 bytes or only whitespace, a header and nothing else,
    or a header and a summary row of total 0 with no transaction lines. `reason` says which; `settlement_id`
    is the summary row's, when there is one."""

    def __init__(
        self, file: str, reason: str = "empty file: nothing to import", *, settlement_id: str | None = None
    ) -> None:
        self.file = file
        self.reason = reason
        self.settlement_id = settlement_id
        super().__init__(f"{file}: {reason}")
