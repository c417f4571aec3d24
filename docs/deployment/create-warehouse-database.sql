-- The DuckLake catalog's database (ACORN_WAREHOUSE_CATALOG_URL), beside Dagster's (POSTGRES_DB).
CREATE DATABASE acorn_warehouse OWNER acorn;
