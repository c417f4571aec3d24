"""Every dbt materialization carries its column schema, and tables their row count, read from the warehouse dbt
built (a build does not count its views: each count would run the view's query over the lake's history)."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb

from orchestration.warehouse.metadata import table_metadata


def test_row_counts_and_column_schemas_of_tables_and_views(tmp_path: Path) -> None:
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as connection:
        connection.execute("create schema marts; create schema staging")
        connection.execute("create table marts.payouts (settlement_id varchar, total decimal(18,2))")
        connection.execute("insert into marts.payouts values ('S1', 1.00), ('S2', 2.00), ('S3', 3.00)")
        connection.execute("create view staging.big as select * from marts.payouts where total > 1")
        found = table_metadata(connection, [("marts", "payouts"), ("staging", "big"), ("marts", "absent")])

    assert set(found) == {
        ("marts", "payouts"),
        ("staging", "big"),
    }  # a relation dbt did not create is skipped
    assert found[("marts", "payouts")]["dagster/row_count"] == dg.MetadataValue.int(3)
    assert found[("staging", "big")]["dagster/row_count"] == dg.MetadataValue.int(2)
    schema = found[("marts", "payouts")]["dagster/column_schema"].value
    assert [(column.name, column.type) for column in schema.columns] == [
        ("settlement_id", "varchar"),
        ("total", "decimal(18,2)"),
    ]


def test_a_build_counts_tables_but_not_views(tmp_path: Path) -> None:
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as connection:
        connection.execute("create schema marts; create schema staging")
        connection.execute("create table marts.payouts as select range as id from range(4)")
        connection.execute("create view staging.ids as select * from marts.payouts")
        found = table_metadata(connection, [("marts", "payouts"), ("staging", "ids")], count_views=False)

    assert found[("marts", "payouts")]["dagster/row_count"] == dg.MetadataValue.int(4)
    assert "dagster/row_count" not in found[("staging", "ids")]
    [column] = found[("staging", "ids")]["dagster/column_schema"].value.columns
    assert column.name == "id"
