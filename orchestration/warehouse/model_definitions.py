"""Which incremental models' definitions changed since the warehouse was built, so that a build rebuilds them
from the whole lake instead of only the new settlements.

Why: an incremental model (the line facts, the books' postings) processes only what is new in the lake; the rows
it kept were computed by the definition in force when they were built. After a change of definition (a new
release of ACORN reclassifying fee lines, an edited fee taxonomy or posting rule, a changed macro), the old rows
would keep the old meaning beside new rows with the new one: one mart, two classifications. So each build
records a fingerprint of every incremental model's definition: its SQL and config, the macros it calls, and the
definitions (never the data) of every model and seed it reads, recursively. A build whose fingerprints differ
from the recorded ones runs `dbt build --full-refresh`, once; the next builds are incremental again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

# The config keys that change what an incremental model's table holds (not how dbt logs or documents it).
_DEFINING_CONFIG = (
    "materialized",
    "incremental_strategy",
    "unique_key",
    "on_schema_change",
    "pre-hook",
    "post-hook",
)


def incremental_definitions(manifest_path: Path) -> dict[str, str]:
    """{model unique id: fingerprint of its definition} for every incremental model of the dbt manifest."""
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    nodes: Mapping[str, Any] = manifest["nodes"]
    macros: Mapping[str, Any] = manifest["macros"]
    memo: dict[str, str] = {}

    def macro_text(unique_id: str, seen: set[str]) -> str:
        if unique_id in seen or unique_id not in macros:
            return unique_id  # a dbt or adapter macro: it changes with the locked package versions only
        seen.add(unique_id)
        macro = macros[unique_id]
        used = sorted(macro.get("depends_on", {}).get("macros", []))
        return macro.get("macro_sql", "") + "".join(macro_text(name, seen) for name in used)

    def fingerprint(unique_id: str) -> str:
        if unique_id in memo:
            return memo[unique_id]
        node = nodes[unique_id]
        digest = hashlib.sha256()
        digest.update(node.get("checksum", {}).get("checksum", "").encode())
        config = node.get("config", {})
        digest.update(json.dumps({key: config.get(key) for key in _DEFINING_CONFIG}, sort_keys=True).encode())
        depends_on = node.get("depends_on", {})
        seen: set[str] = set()
        for macro in sorted(depends_on.get("macros", [])):
            digest.update(macro_text(macro, seen).encode())
        for upstream in sorted(depends_on.get("nodes", [])):
            if upstream in nodes:  # models and seeds; sources are the lake's data, not a definition
                digest.update(upstream.encode() + fingerprint(upstream).encode())
        memo[unique_id] = digest.hexdigest()
        return memo[unique_id]

    return {
        unique_id: fingerprint(unique_id)
        for unique_id, node in sorted(nodes.items())
        if node.get("resource_type") == "model"
        and node.get("config", {}).get("materialized") == "incremental"
    }


def changed_definitions(recorded: Mapping[str, str] | None, current: Mapping[str, str]) -> list[str]:
    """The incremental models whose definition differs from the recorded one (every one when nothing was
    recorded: a warehouse built before the record existed), by name."""
    return sorted(
        unique_id.rsplit(".", 1)[-1]
        for unique_id, fingerprint in current.items()
        if recorded is None or recorded.get(unique_id) != fingerprint
    )
