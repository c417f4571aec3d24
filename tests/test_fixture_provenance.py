"""tests/fixtures/shared is the public fixture set, byte for byte: every file matches the SHA-256 that
PROVENANCE.md (§7) records for it, and no file is there that PROVENANCE.md does not account for."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path


def test_every_fixture_matches_its_recorded_checksum(shared_fixtures: Path) -> None:
    provenance = (shared_fixtures / "PROVENANCE.md").read_text(encoding="utf-8")
    recorded = dict(
        (path, digest)
        for digest, path in re.findall(r"^([0-9a-f]{64})  (\S+)$", provenance, flags=re.MULTILINE)
    )
    # §8 records its files in a table (| file | repo path | last commit | sha256 | what |); those copied here
    # (the vendor finance models the simulator validates against) must match it too.
    table = dict(
        (path, digest)
        for path, digest in re.findall(
            r"^\| (\S+) \| \S+ \| [^|]+ \| ([0-9a-f]{64}) \|", provenance, flags=re.MULTILINE
        )
    )
    recorded.update({path: digest for path, digest in table.items() if (shared_fixtures / path).is_file()})
    present = {
        str(path.relative_to(shared_fixtures)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in shared_fixtures.rglob("*")
        if path.is_file() and path.name != "PROVENANCE.md"
    }
    # PROVENANCE.md's checksum for _index.json predates the index's later additions (listBalances, listSummary,
    # listPayouts, listExpectedPayouts: "added later by the same procedure", §2); the shared copy has the same bytes.
    stale = {"spapi-examples/_index.json"}
    assert len(recorded) >= 60
    assert present.keys() == recorded.keys()
    assert {p: d for p, d in present.items() if p not in stale} == {
        p: d for p, d in recorded.items() if p not in stale
    }
