"""Suite `settlement_lines_schema`: the lake's settlement lines have the contract's columns, types and keys.

Blocking (ERROR): if the lake's shape is wrong, every mart built on it is wrong.
"""

from __future__ import annotations

from typing import Any

from transforms.settlement.schema import LAYOUT_V1, LAYOUT_V2, SETTLEMENT_LINES_SCHEMA

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
