"""What a newcomer reads first is true: the licence the package declares is in the tree, and `make help` lists the
verbs the README names, saying what each does as the README says it."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def test_the_declared_licence_is_the_one_in_the_tree() -> None:
    declared = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["license"]["text"]
    text = (REPO_ROOT / "LICENSE").read_text()
    assert declared == "Apache-2.0"
    assert text.lstrip().startswith("Apache License") and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text and "APPENDIX: How to apply the Apache License" in text


def test_make_help_lists_the_readme_verbs_and_agrees_on_what_make_test_runs() -> None:
    help_text = subprocess.run(
        ["make", "--no-print-directory", "help"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout
    readme = (REPO_ROOT / "README.md").read_text()
    listed = set(re.findall(r"^make ([\w-]+)", help_text, re.MULTILINE))
    named = set(re.findall(r"`make ([\w-]+)`", readme)) | set(
        re.findall(r"^make ([\w-]+)", readme, re.MULTILINE)
    )
    named.discard("help")  # the list itself
    assert named <= listed, f"README names {sorted(named - listed)}, which `make help` does not list"
    readme_test = re.search(r"^make test\s+# (.+)$", readme, re.MULTILINE)
    help_test = re.search(r"^make test\s+- (.+)$", help_text, re.MULTILINE)
    assert readme_test and help_test
    for described in (readme_test.group(1), help_test.group(1)):
        assert "ruff, then mypy beside" in described, described
    # ...and the target runs what they say: both ruff checks, mypy and the whole suite.
    dry_run = subprocess.run(
        ["make", "--no-print-directory", "-n", "test"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for command in ("ruff check .", "ruff format --check .", "mypy ", "pytest -n 2"):
        assert command in dry_run, f"`make test` does not run {command!r}:\n{dry_run}"
    assert "-m " not in dry_run.split("pytest", 1)[1].splitlines()[0], "make test must run every test"
