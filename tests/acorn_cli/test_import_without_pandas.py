"""A clean `acorn import` never imports pandas (about 0.25 CPU s of every import): its two lake checks prove a
clean table on Arrow (expectations/settlement_lines_schema.py `passed_without_gx_table`,
settlement_schema_drift.py `evaluate_table`) and make a pandas frame only for GX, when a rule does not hold."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from acorn_process import REPO_ROOT, SAMPLES, acorn_env

SAMPLE = SAMPLES / "xieyi138_US_v2_synthetic_settlement-sample.txt"

PROBE = """
import json, sys
from acorn_cli.main import main
sys.argv = ["acorn", "import", "--json", sys.argv[1]]
try:
    main()
    code = 0
except SystemExit as exit:
    code = exit.code
print(json.dumps({"code": code, "pandas": "pandas" in sys.modules,
                  "great_expectations": "great_expectations" in sys.modules}))
"""


def _import(tmp_path: Path, source: Path) -> tuple[dict, list[dict]]:
    # `acorn import` as the e2e tests run it (acorn_process.py: quiet, offline, no ACORN_* setting of the
    # machine), in a Python that reports which modules the command loaded.
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(source)],
        cwd=REPO_ROOT,
        env=acorn_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    *printed, probe = done.stdout.strip().splitlines()
    return json.loads(probe), json.loads("\n".join(printed))["files"]


def test_a_clean_import_loads_no_pandas_and_a_second_settlement_neither(tmp_path: Path) -> None:
    first, files = _import(tmp_path, SAMPLE)
    assert first == {"code": 0, "pandas": False, "great_expectations": False}, files
    assert [entry["status"] for entry in files] == ["imported"]
    # A second settlement: the lines check reads only the new file, the drift check both settlements' rows.
    other = tmp_path / "other.txt"
    other.write_text(
        SAMPLE.read_text(encoding="utf-8").replace("28471003921", "28471003922"), encoding="utf-8"
    )
    second, files = _import(tmp_path, other)
    assert second == {"code": 0, "pandas": False, "great_expectations": False}, files
    assert [entry["status"] for entry in files] == ["imported"]
