"""Imports land settlements for an account: given, or inferred from the file's marketplaces, or refused; and a
settlement already landed for another account (or for none) is re-attributed only when asked, atomically."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from transforms.archive import RawArchive
from transforms.settlement import import_settlement_file
from transforms.settlement.accounts import AccountDirectory, SellerAccount, UnknownAccount
from transforms.settlement.lake import read_settlement_lines

NA = SellerAccount("store-na", "na", ("ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"))
EU = SellerAccount("store-eu", "eu", ("A1PA6795UKMFR9", "A13V1IB3VIYZZH"))
US_2 = SellerAccount("store-us-2", "na", ("ATVPDKIKX0DER",))
ACCOUNTS = AccountDirectory([NA, EU], source="accounts.toml")


def lake_rows(data_dir: Path, dataset: str) -> list[dict]:
    return [
        row
        for f in sorted((data_dir / "lake" / dataset).glob("*/*.parquet"))
        for row in pq.read_table(f).to_pylist()
    ]


def lines(data_dir: Path) -> list[dict]:
    files = sorted((data_dir / "lake" / "settlement_lines").glob("*/*.parquet"))
    return read_settlement_lines(files).to_pylist()


def accounts_in_lake(data_dir: Path) -> set[str | None]:
    return {r["account_id"] for r in lake_rows(data_dir, "settlements")} | {
        r["account_id"] for r in lines(data_dir)
    }


def manifest_account(data_dir: Path, sha: str | None) -> str | None:
    row = RawArchive(data_dir / "raw").describe(str(sha))
    assert row is not None
    return row["meta"].get("account_id")


def test_the_marketplace_names_the_account(v2, write_file, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    de = [
        v2.line("10.00", **{"marketplace-name": "Amazon.de"}),
        v2.line("-1.50", **{"marketplace-name": "Amazon.de"}),
    ]
    outcome = import_settlement_file(
        write_file(v2.render(de, total="8.50")), data_dir=data_dir, accounts=ACCOUNTS
    )
    assert outcome.status == "imported", outcome
    assert outcome.account_id == "store-eu"
    assert "'store-eu' inferred from the file's marketplace Amazon.de (A1PA6795UKMFR9)" in outcome.message
    assert accounts_in_lake(data_dir) == {"store-eu"}
    assert manifest_account(data_dir, outcome.sha256) == "store-eu"


def test_a_marketplace_of_two_accounts_is_refused_then_imported_with_account(
    v2, write_file, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    path = write_file(v2.render([v2.line("3.00")], total="3.00"))  # Amazon.com
    accounts = AccountDirectory([NA, US_2, EU], source="accounts.toml")
    refused = import_settlement_file(path, data_dir=data_dir, accounts=accounts)
    assert refused.status == "rejected", refused
    assert "store-na, store-us-2" in refused.message and "--account" in refused.message
    assert refused.settlement_id == v2.settlement_id and refused.rows == 0
    assert lake_rows(data_dir, "settlements") == []
    assert list((data_dir / "quarantine").glob("*")) == []  # nothing wrong with the file
    assert RawArchive(data_dir / "raw").path_for(str(refused.sha256)).exists()  # its bytes are kept

    chosen = import_settlement_file(path, data_dir=data_dir, accounts=accounts, account_id="store-us-2")
    assert chosen.status == "imported", chosen
    assert accounts_in_lake(data_dir) == {"store-us-2"}
    assert manifest_account(data_dir, chosen.sha256) == "store-us-2"


def test_no_account_lists_the_marketplace(v2, write_file, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    uk = [v2.line("3.00", **{"marketplace-name": "amazon.co.uk"})]
    refused = import_settlement_file(
        write_file(v2.render(uk, total="3.00")), data_dir=data_dir, accounts=ACCOUNTS
    )
    assert refused.status == "rejected"
    assert "Amazon.co.uk (A1F83G8C2ARO7P)" in refused.message and "store-na" in refused.message
    assert lake_rows(data_dir, "settlements") == []


@pytest.mark.parametrize("blank", [True, False], ids=["blank marketplace-name", "no marketplace-name column"])
def test_a_file_naming_no_marketplace(v2, write_file, tmp_path: Path, blank: bool) -> None:
    header = v2.header if blank else tuple(n for n in v2.header if n != "marketplace-name")
    text = v2.render([v2.line("3.00", **{"marketplace-name": ""})], total="3.00", header=header)
    refused = import_settlement_file(write_file(text), data_dir=tmp_path / "two", accounts=ACCOUNTS)
    assert refused.status == "rejected" and "names no marketplace" in refused.message
    assert "store-na, store-eu" in refused.message
    only = AccountDirectory([NA, SellerAccount("vendor", "na", kind="vendor")])
    single = import_settlement_file(write_file(text), data_dir=tmp_path / "one", accounts=only)
    assert single.status == "imported" and single.account_id == "store-na"


def test_the_older_layout_without_marketplace_names(shared_fixtures: Path, tmp_path: Path) -> None:
    sample = shared_fixtures / "settlement-samples" / "adwweaver_CA_v1_50011020300.txt"
    refused = import_settlement_file(sample, data_dir=tmp_path / "data", accounts=ACCOUNTS)
    assert refused.status == "rejected" and "names no marketplace" in refused.message
    given = import_settlement_file(
        sample, data_dir=tmp_path / "data", accounts=ACCOUNTS, account_id="store-na"
    )
    assert given.status == "imported" and accounts_in_lake(tmp_path / "data") == {"store-na"}


def test_a_marketplace_past_the_head_must_agree(v2, write_file, tmp_path: Path) -> None:
    # The head (4 MB) names Amazon.com only; the last line, Amazon.de: no single account holds both.
    many = [v2.line("1.00", sku=f"SKU-{n:06d}-" + "x" * 80) for n in range(24_000)]
    many.append(v2.line("1.00", **{"marketplace-name": "Amazon.de"}))
    path = write_file(v2.render(many, total=f"{len(many)}.00"))
    assert path.stat().st_size > 4 << 20
    data_dir = tmp_path / "data"
    refused = import_settlement_file(path, data_dir=data_dir, accounts=ACCOUNTS)
    assert refused.status == "rejected", refused
    assert "Amazon.de" in refused.message and "Amazon.com" in refused.message
    assert lake_rows(data_dir, "settlements") == []
    assert not [p for p in (data_dir / "lake").rglob("*.parquet")]


def test_an_unknown_account_is_an_error_before_anything_is_archived(v2, write_file, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    path = write_file(v2.render([v2.line("1.00")], total="1.00"))
    with pytest.raises(UnknownAccount) as unknown:
        import_settlement_file(path, data_dir=data_dir, accounts=ACCOUNTS, account_id="no-such-account")
    assert "no-such-account" in str(unknown.value) and "store-na, store-eu" in str(unknown.value)
    assert not (data_dir / "raw").exists() and not (data_dir / "lake").exists()


def test_reattribute_needs_the_account(v2, write_file, tmp_path: Path) -> None:
    path = write_file(v2.render([v2.line("1.00")], total="1.00"))
    with pytest.raises(ValueError, match="account"):
        import_settlement_file(path, data_dir=tmp_path / "data", accounts=ACCOUNTS, reattribute=True)


def test_same_bytes_under_another_account_say_so_then_reattribute(v2, write_file, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    path = write_file(v2.render([v2.line("1.00"), v2.line("2.00"), v2.line("-0.50")], total="2.50"))
    first = import_settlement_file(path, data_dir=data_dir, accounts=ACCOUNTS, account_id="store-na")
    assert first.status == "imported"
    lines_before = lines(data_dir)
    lines_file = next((data_dir / "lake" / "settlement_lines").glob("*/*.parquet"))
    metadata_before = pq.ParquetFile(lines_file).schema_arrow.metadata or {}
    manifest_before = (data_dir / "raw" / "manifest.jsonl").read_bytes()

    other = import_settlement_file(path, data_dir=data_dir, accounts=ACCOUNTS, account_id="store-eu")
    assert other.status == "rejected", other
    assert "already imported for account 'store-na' on 20" in other.message
    assert f"acorn import --reattribute --account store-eu {path}" in other.message
    assert accounts_in_lake(data_dir) == {"store-na"}
    assert (data_dir / "raw" / "manifest.jsonl").read_bytes() == manifest_before

    moved = import_settlement_file(
        path, data_dir=data_dir, accounts=ACCOUNTS, account_id="store-eu", reattribute=True
    )
    assert moved.status == "imported" and moved.rows == 3, moved
    assert "re-attributed from account 'store-na' to 'store-eu'" in moved.message
    assert accounts_in_lake(data_dir) == {"store-eu"}
    # Nothing else changed: same lines, same order and numbers, same Parquet key-value metadata.
    assert [{**r, "account_id": None} for r in lines(data_dir)] == [
        {**r, "account_id": None} for r in lines_before
    ]
    lines_file = next((data_dir / "lake" / "settlement_lines").glob("*/*.parquet"))
    metadata_after = pq.ParquetFile(lines_file).schema_arrow.metadata or {}
    assert {k: v for k, v in metadata_before.items() if k.startswith(b"acorn.")} == {
        k: v for k, v in metadata_after.items() if k.startswith(b"acorn.")
    }
    [settlement] = lake_rows(data_dir, "settlements")
    assert settlement["raw_sha256"] == first.sha256 and settlement["line_count"] == 3
    row = RawArchive(data_dir / "raw").describe(str(first.sha256))
    assert row is not None
    assert row["meta"]["account_id"] == "store-eu" and row["meta"]["previous_account_id"] == "store-na"
    log = [json.loads(x) for x in (data_dir / "lake" / "settlement_versions.jsonl").read_text().splitlines()]
    assert [(r["event"], r.get("account_id")) for r in log] == [
        ("imported", "store-na"),
        ("reattributed", "store-eu"),
    ]

    # Idempotent: the same again is a duplicate and changes nothing.
    manifest_after = (data_dir / "raw" / "manifest.jsonl").read_bytes()
    for reattribute in (False, True):
        again = import_settlement_file(
            path, data_dir=data_dir, accounts=ACCOUNTS, account_id="store-eu", reattribute=reattribute
        )
        assert again.status == "duplicate" and "account 'store-eu'" in again.message, again
    without = import_settlement_file(path, data_dir=data_dir, accounts=ACCOUNTS)
    assert without.status == "duplicate"
    assert (data_dir / "raw" / "manifest.jsonl").read_bytes() == manifest_after
    assert accounts_in_lake(data_dir) == {"store-eu"}


def test_a_settlement_landed_without_an_account(v2, write_file, tmp_path: Path) -> None:
    # Before imports resolved accounts, `acorn import FILE` landed account_id NULL.
    data_dir = tmp_path / "data"
    path = write_file(v2.render([v2.line("4.00")], total="4.00"))
    legacy = import_settlement_file(path, data_dir=data_dir)
    assert legacy.status == "imported" and accounts_in_lake(data_dir) == {None}

    again = import_settlement_file(path, data_dir=data_dir, accounts=ACCOUNTS)
    assert again.status == "rejected", again
    assert "already imported without an account" in again.message
    assert f"acorn import --reattribute --account store-na {path}" in again.message  # inferred: Amazon.com
    given = import_settlement_file(path, data_dir=data_dir, accounts=ACCOUNTS, account_id="store-na")
    assert given.status == "rejected" and "--reattribute" in given.message
    assert accounts_in_lake(data_dir) == {None}

    fixed = import_settlement_file(
        path, data_dir=data_dir, accounts=ACCOUNTS, account_id="store-na", reattribute=True
    )
    assert fixed.status == "imported" and "from no account to 'store-na'" in fixed.message
    assert accounts_in_lake(data_dir) == {"store-na"}
    assert manifest_account(data_dir, legacy.sha256) == "store-na"
    assert import_settlement_file(path, data_dir=data_dir, accounts=ACCOUNTS).status == "duplicate"


def test_the_spapi_claims_a_settlement_landed_without_an_account(v2, write_file, tmp_path: Path) -> None:
    # Amazon listed the document for this account: that settles whose it is.
    data_dir = tmp_path / "data"
    path = write_file(v2.render([v2.line("4.00")], total="4.00"))
    import_settlement_file(path, data_dir=data_dir)
    fetched = import_settlement_file(
        path, data_dir=data_dir, account_id="store-na", origin="spapi:store-na:report/1"
    )
    assert fetched.status == "imported" and "re-attributed" in fetched.message
    assert accounts_in_lake(data_dir) == {"store-na"}
