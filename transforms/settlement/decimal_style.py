"""The decimal style of a settlement file (`12.50` or `12,50`), decided once for the whole file from its amounts,
its currency and its total; never guessed value by value."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path

import duckdb

from transforms.settlement import values
from transforms.settlement.diagnosis import iter_rows
from transforms.settlement.errors import SettlementFileError
from transforms.settlement.file_shape import (
    FileShape,
)
from transforms.settlement.lines_sql import (
    connect,
    read_csv,
)
from transforms.settlement.values import DecimalStyle, sql_literal


class StyleVote:
    """Evidence for a file's decimal style, amount by amount (line, column, text), in file order.

    An amount valid in only one style (`1,234.56`, `12,50`, `5.99`) is strong evidence for it; the first
    amount that is strong evidence for the other style than an earlier one is a mix (SettlementFileError).
    An amount valid in both styles with different values (`10,000`, `2.500`) is ambiguous and decides
    nothing by itself; `decide` then weighs the currency and the settlement total. The sums of every amount
    line read in each style are kept for that (total-amount, line 2, is not summed)."""

    def __init__(self, *, file: str) -> None:
        self.file = file
        self.strong: dict[DecimalStyle, tuple[int, str, str]] = {}
        self.ambiguous: dict[str, tuple[int, str, str]] = {}  # separator -> its first ambiguous amount
        self.sums: dict[DecimalStyle, Decimal] = {"point": Decimal(0), "comma": Decimal(0)}

    @property
    def strong_style(self) -> DecimalStyle | None:
        return next(iter(self.strong), None)

    def add(self, line: int, column: str, text: str) -> None:
        if line > 2:
            for style in values.STYLES:
                self.sums[style] += values.amount_or_none(text, style) or 0
        if not values.has_separator(text):
            return
        strong = values.strong_style(text)
        if strong is not None:
            first = self.strong.setdefault(strong, (line, column, text))
            if len(self.strong) > 1:
                other_line, _, other_text = next(v for k, v in self.strong.items() if k != strong)
                raise SettlementFileError(
                    f"amount {text!r} reads only with a decimal {strong}, but {other_text!r} (line {other_line}) "
                    f"only with a decimal {'comma' if strong == 'point' else 'point'}: amounts mix decimal "
                    "commas and decimal points",
                    file=self.file,
                    line=first[0],
                    column=first[1],
                )
            return
        separator = values.ambiguous_separator(text)
        if separator is not None:
            self.ambiguous.setdefault(separator, (line, column, text))

    def add_all(self, samples: Iterable[tuple[int, str, str]], *, stop_at_strong: bool = False) -> None:
        for sample in samples:
            self.add(*sample)
            if stop_at_strong and self.strong:
                return


def decide_decimal_style(
    *,
    strong: set[DecimalStyle],
    ambiguous: set[str],
    sums: dict[DecimalStyle, Decimal],
    currency: str | None,
    total_text: str,
) -> tuple[DecimalStyle | None, str]:
    """The style the whole file agrees on, from its evidence (see StyleVote): (style, "") when certain, else
    (None, why). Strong evidence for one style decides (both: a mix, reported by the caller). Otherwise an
    ambiguous amount (`10,000`) read as decimals would have 3, more than the currency has (JPY 0, USD 2): that
    reading is implausible. A reading under which the file does not reconcile (total-amount against the sum of
    its lines) while the other does is not certain either; when both remain, reconciling decides."""
    if len(strong) == 1:
        return next(iter(strong)), ""
    if not ambiguous and not values.has_separator(total_text):
        return "point", ""  # no separator anywhere: both readings agree
    if total_text and values.ambiguous_separator(total_text):
        ambiguous = ambiguous | {values.ambiguous_separator(total_text) or ""}
    decimals = values.currency_decimals(currency)
    decimal_of = {style: values.SEPARATORS[style][0] for style in values.STYLES}
    plausible = [
        style
        for style in values.STYLES
        if decimals is None or decimals >= 3 or decimal_of[style] not in ambiguous
    ]
    reconciles = {
        style: (total := values.amount_or_none(total_text, style)) is not None and total == sums[style]
        for style in values.STYLES
    }
    currency_text = (
        f"{currency} has {decimals} decimals" if decimals is not None else "the currency is unknown"
    )
    if len(plausible) == 1:
        style = plausible[0]
        other: DecimalStyle = "comma" if style == "point" else "point"
        if reconciles[style] or not reconciles[other]:
            return style, ""
        return None, (
            f"read with a decimal {style} (as {currency_text}) the file does not reconcile, read with a "
            f"decimal {other} it does"
        )
    if not plausible:
        return None, f"both readings give some amount more decimals than {currency_text.split(' has')[0]} has"
    agreeing = [style for style in values.STYLES if reconciles[style]]
    if len(agreeing) == 1:
        return agreeing[0], ""
    why = "the file reconciles either way" if agreeing else "the file reconciles neither way"
    return None, f"{currency_text} and {why}"


def _ambiguity_error(vote: StyleVote, why: str, shape: FileShape) -> SettlementFileError:
    first = min(vote.ambiguous.values(), default=None)
    if first is None and values.ambiguous_separator(shape.summary.total_text):
        first = (2, "total-amount", shape.summary.total_text)
    line, column, text = first or (2, "total-amount", shape.summary.total_text)
    point, comma = values.amount_or_none(text, "point"), values.amount_or_none(text, "comma")
    return SettlementFileError(
        f"amount {text!r} is ambiguous: {point} with a decimal point (',' grouping thousands) or {comma} with a "
        f"decimal comma, and nothing in the file decides which ({why}); no amount is guessed",
        file=vote.file,
        line=line,
        column=shape.header[shape.columns[column]].strip() if column in shape.columns else column,
    )


def decimal_style_of_whole_file(source: Path, encoding: str, shape: FileShape, file: str) -> DecimalStyle:
    """The head did not settle the style: read on until an amount decides it (files of whole numbers, such as
    yen, are read to the end). `source` is UTF-8 (convert_lines transcodes other encodings first), so DuckDB
    looks (a Python pass read 1M lines a second); a file DuckDB cannot read as a clean table, a deciding row
    that mixes styles and an ambiguous file get the streaming Python pass, which also names the line."""
    names = shape.amount_columns
    positions = [shape.columns[name] for name in names]
    found = _first_separated_amounts(source, positions, len(shape.header))
    if found is not None and not any(found) and not values.has_separator(shape.summary.total_text):
        return "point"  # no separator anywhere (yen, round prices): both readings agree
    if found is not None:
        first = StyleVote(file=file)
        try:
            first.add_all((3, name, text) for name, text in zip(names, found, strict=True))
        except SettlementFileError:
            first.strong = {"point": (0, "", ""), "comma": (0, "", "")}  # the Python pass names the line
        if len(first.strong) == 1:
            return next(iter(first.strong))
        if not first.strong:
            totals = _whole_file_evidence(source, positions, len(shape.header))
            if totals is not None:
                strong, ambiguous, sums = totals
                style, _ = decide_decimal_style(
                    strong=strong,
                    ambiguous=ambiguous,
                    sums=sums,
                    currency=shape.summary.currency,
                    total_text=shape.summary.total_text,
                )
                if style is not None and len(strong) < 2:
                    return style
    vote = StyleVote(file=file)
    vote.add_all(
        (line, name, fields[shape.columns[name]].strip())
        for line, fields, _ in iter_rows(source, encoding, file=file)
        if len(fields) == len(shape.header)
        for name in names
        if fields[shape.columns[name]].strip()
    )
    style, why = decide_decimal_style(
        strong=set(vote.strong),
        ambiguous=set(vote.ambiguous),
        sums=vote.sums,
        currency=shape.summary.currency,
        total_text=shape.summary.total_text,
    )
    if style is None:
        raise _ambiguity_error(vote, why, shape)
    return style


def _first_separated_amounts(path: Path, positions: list[int], width: int) -> list[str] | None:
    """The amount fields (trimmed) of the first row in file order where one has a decimal separator; all empty
    when no row has one; None when DuckDB cannot read the file as a clean table."""
    columns = [f"coalesce(trim(c{position}), '')" for position in positions]
    separated = " or ".join(f"contains({c}, ',') or contains({c}, '.')" for c in columns)
    try:
        with connect() as connection:
            row = connection.execute(
                f"select {', '.join(columns)} from {read_csv(path, width, skip=2)} where {separated} limit 1"
            ).fetchone()
    except duckdb.Error:
        return None
    return [""] * len(positions) if row is None else list(row)


def _whole_file_evidence(
    path: Path, positions: list[int], width: int
) -> tuple[set[DecimalStyle], set[str], dict[DecimalStyle, Decimal]] | None:
    """DuckDB's pass over every line for StyleVote's evidence: the styles some amount is strong evidence for,
    the separators of ambiguous amounts and the sum of the lines read in each style; None when DuckDB cannot
    read the file as a clean table."""
    point, comma = (sql_literal(values.AMOUNT_PATTERNS[style]) for style in values.STYLES)
    parts = []
    for position in positions:
        t = f"trim(c{position})"
        is_point, is_comma = f"regexp_full_match({t}, {point})", f"regexp_full_match({t}, {comma})"
        separated = f"(contains({t}, ',') or contains({t}, '.'))"
        parts += [
            f"bool_or({separated} and {is_point} and not {is_comma})",
            f"bool_or({separated} and {is_comma} and not {is_point})",
            f"bool_or({separated} and {is_point} and {is_comma} and contains({t}, ','))",
            f"bool_or({separated} and {is_point} and {is_comma} and contains({t}, '.'))",
            f"coalesce(sum(case when {is_point} then cast({values.sql_amount_number(t, 'point')} as "
            "decimal(18,2)) end), 0)",
            f"coalesce(sum(case when {is_comma} then cast({values.sql_amount_number(t, 'comma')} as "
            "decimal(18,2)) end), 0)",
        ]
    try:
        with connect() as connection:
            row = connection.execute(
                f"select {', '.join(parts)} from {read_csv(path, width, skip=2)}"
            ).fetchone()
    except duckdb.Error:
        return None
    if row is None:
        return None
    strong: set[DecimalStyle] = set()
    ambiguous: set[str] = set()
    sums: dict[DecimalStyle, Decimal] = {"point": Decimal(0), "comma": Decimal(0)}
    for index in range(len(positions)):
        strong_point, strong_comma, amb_comma, amb_point, sum_point, sum_comma = row[
            6 * index : 6 * index + 6
        ]
        strong |= {"point"} if strong_point else set()
        strong |= {"comma"} if strong_comma else set()
        ambiguous |= {","} if amb_comma else set()
        ambiguous |= {"."} if amb_point else set()
        sums["point"] += Decimal(sum_point)
        sums["comma"] += Decimal(sum_comma)
    return strong, ambiguous, sums
