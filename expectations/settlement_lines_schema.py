"""Suite `settlement_lines_schema`: the lake's settlement lines have the contract's columns, types and keys.

Blocking (ERROR): if the lake's shape is wrong, every mart built on it is wrong.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from transforms.settlement.schema import LAYOUT_V1, LAYOUT_V2, SETTLEMENT_LINES_SCHEMA

if TYPE_CHECKING:
    import pyarrow as pa

    from expectations.runner import SuiteOutcome

SUITE_NAME = "settlement_lines_schema"

# The lake's contract is owned by the transform that writes it; the suite checks the files against it.
EXPECTED_COLUMNS = list(SETTLEMENT_LINES_SCHEMA.names)
SOURCE_LAYOUTS = [LAYOUT_V2, LAYOUT_V1]
NOT_NULL = ("settlement_id", "line_number", "currency", "amount", "source_layout", "raw_sha256")
CURRENCY_REGEX = r"^[A-Z]{3}$"
KEY = ["settlement_id", "line_number"]


def build_suite() -> Any:
    from expectations.gx_import import great_expectations

    gx = great_expectations()

    from expectations.runner import new_suite

    e = gx.expectations
    return new_suite(
        SUITE_NAME,
        [
            e.ExpectTableColumnsToMatchSet(column_set=EXPECTED_COLUMNS, exact_match=False),
            *(e.ExpectColumnValuesToNotBeNull(column=column) for column in NOT_NULL),
            # Money must arrive exact: Decimal objects, never floats.
            e.ExpectColumnValuesToBeOfType(column="amount", type_="Decimal"),
            e.ExpectColumnValuesToBeInSet(column="source_layout", value_set=SOURCE_LAYOUTS),
            e.ExpectColumnValuesToMatchRegex(column="currency", regex=CURRENCY_REGEX),
            e.ExpectCompoundColumnsToBeUnique(column_list=KEY),
        ],
    )


# The suite's expectations as GX reports them (type, column), in `build_suite`'s order.
EXPECTATIONS: list[tuple[str, str | None]] = [
    ("expect_table_columns_to_match_set", None),
    *(("expect_column_values_to_not_be_null", column) for column in NOT_NULL),
    ("expect_column_values_to_be_of_type", "amount"),
    ("expect_column_values_to_be_in_set", "source_layout"),
    ("expect_column_values_to_match_regex", "currency"),
    ("expect_compound_columns_to_be_unique", None),
]


PROVED_ON_ARROW = "arrow (every expectation holds; GX judges any other frame)"


def passed_without_gx_table(table: pa.Table | None) -> SuiteOutcome | None:
    """The suite's passing outcome when every expectation provably holds on `table`, else None (the caller
    then makes the frame, `table.to_pandas()`, and GX judges it). Without pandas or GX: a clean lake (every
    import's usual case) needs neither. Each test is the one GX's pandas engine makes on that frame, or
    stricter: the contract's columns; no NULL in the not-null columns, which must not be floating point (NaN is
    null to pandas, not to Arrow); amount a DECIMAL column (to_pandas makes every non-null value a
    `decimal.Decimal`, GX's type test); source_layout and currency text columns, every layout in the set, every
    currency a full match of three capitals (`re.fullmatch`: a trailing newline, which the suite's `$` lets
    through, fails here and goes to GX); no key duplicated at all (GX ignores rows whose key is wholly NULL;
    here there are none). tests/expectations/test_settlement_lines_schema.py compares the verdicts with GX's."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from expectations.runner import passed_without_gx as passing

    if table is None or table.num_rows == 0 or not set(EXPECTED_COLUMNS) <= set(table.column_names):
        return None
    rows = table.num_rows
    for column in NOT_NULL:
        values = table.column(column)
        if pa.types.is_floating(values.type) or values.null_count:
            return None
    if not pa.types.is_decimal(table.column("amount").type):
        return None
    layouts, currencies = table.column("source_layout"), table.column("currency")
    if not all(pa.types.is_string(c.type) or pa.types.is_large_string(c.type) for c in (layouts, currencies)):
        return None
    # Judged on the distinct values (a handful): pa.array() of a Python list would import pandas.
    if not set(pc.unique(layouts).to_pylist()) <= set(SOURCE_LAYOUTS):
        return None
    if not all(re.fullmatch("[A-Z]{3}", currency) for currency in pc.unique(currencies).to_pylist()):
        return None
    keys = table.select(KEY)
    if any(pa.types.is_floating(field.type) for field in keys.schema):
        return None
    # The table is bounded (settlement_lines_scan: a sample and each rule's first offending rows).
    if len(set(zip(*(keys.column(name).to_pylist() for name in KEY), strict=True))) != rows:
        return None
    return passing(SUITE_NAME, EXPECTATIONS, rows, PROVED_ON_ARROW)
