"""The end-to-end tests share `acorn_process.py` (the `acorn` CLI run as its own process) from this folder."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
