"""What a newcomer reads is true: every ```sh and ```python block of README.md's "## Query the warehouse" section
(its subsections included) runs without error against a warehouse the demo just built.

The blocks run as a reader would run them, from the repo root: a scratch copy of it (every top-level entry
symlinked) whose `data/` is the demo's data dir, `.venv/bin` first on PATH, `sh` blocks with `bash -e`, `python`
blocks with the venv's python. Blocks fenced with any other language (```text, ```console) are not run.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from acorn_process import REPO_ROOT, acorn_env

README = REPO_ROOT / "README.md"
SECTION = "## Query the warehouse"
RUNNABLE = {"sh": "sh", "bash": "sh", "shell": "sh", "python": "python", "py": "python"}
VENV_BIN = REPO_ROOT / ".venv" / "bin"

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("demo")]


@dataclass(frozen=True)
class Block:
    language: str  # "sh" or "python"
    code: str
    line: int  # where the block's code starts in README.md (1-based)

    @property
    def id(self) -> str:
        return f"{self.language}@README.md:{self.line}"


def section_blocks(text: str, heading: str = SECTION) -> list[Block]:
    """The runnable fenced blocks between `heading` and the next heading of the same level."""
    lines = text.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == heading)
    except StopIteration:
        raise AssertionError(f"README.md has no section {heading!r}") from None
    level = heading.split()[0]
    blocks: list[Block] = []
    fence: tuple[str, str, int] | None = None  # (marker, language, first code line index)
    body: list[str] = []
    for index in range(start + 1, len(lines)):
        line = lines[index]
        if fence is None:
            if re.match(rf"^{level} ", line):
                break
            opened = re.match(r"^\s*(```+|~~~+)\s*([\w+-]*)", line)
            if opened:
                fence, body = (opened.group(1), opened.group(2).lower(), index + 1), []
        elif line.strip().startswith(fence[0]) and not line.strip().strip(fence[0][0]):
            if fence[1] in RUNNABLE:
                blocks.append(Block(RUNNABLE[fence[1]], "\n".join(body) + "\n", fence[2] + 1))
            fence = None
        else:
            body.append(line)
    if fence is not None:
        raise AssertionError(f"README.md: the fence opened on line {fence[2]} is never closed")
    return blocks


BLOCKS = section_blocks(README.read_text(encoding="utf-8"))


def test_the_section_has_shell_and_python_blocks() -> None:
    languages = {block.language for block in BLOCKS}
    assert languages >= {"sh", "python"}, f"{SECTION} should show a shell and a Python query: {BLOCKS}"


def test_the_parser_reads_fences_and_stops_at_the_next_section() -> None:
    text = "# T\n## Query the warehouse\n```sh\necho hi\n```\n### Sub\n```python\nprint(1)\n```\n```text\nno\n```\n"
    text += "## Next\n```sh\nexit 1\n```\n"
    assert section_blocks(text) == [Block("sh", "echo hi\n", 4), Block("python", "print(1)\n", 8)]


@pytest.fixture(scope="session")
def reader_root(
    tmp_path_factory: pytest.TempPathFactory, clean_demo: dict[str, object]
) -> tuple[Path, dict[str, str]]:
    """A repo root as a reader has it after `make demo`: the demo's warehouse in `data/` (the session's clean
    demo; the blocks only read it)."""
    workdir = tmp_path_factory.mktemp("readme")
    data_dir = Path(str(clean_demo["data_dir"]))
    env = acorn_env(Path(str(clean_demo["workdir"])))
    assert (data_dir / "warehouse.duckdb").is_file()
    root = workdir / "repo"
    root.mkdir()
    for entry in REPO_ROOT.iterdir():
        if entry.name != "data":
            (root / entry.name).symlink_to(entry)
    (root / "data").symlink_to(data_dir)
    env["PATH"] = os.pathsep.join([str(VENV_BIN), env.get("PATH", "")])
    env["VIRTUAL_ENV"] = str(VENV_BIN.parent)
    return root, env


@pytest.mark.parametrize("block", BLOCKS, ids=[block.id for block in BLOCKS])
def test_the_block_runs(block: Block, reader_root: tuple[Path, dict[str, str]]) -> None:
    root, env = reader_root
    python = VENV_BIN / "python"
    command = (
        ["bash", "-e", "-o", "pipefail", "-c", block.code]
        if block.language == "sh"
        else [str(python) if python.exists() else sys.executable, "-c", block.code]
    )
    result = subprocess.run(
        command, cwd=root, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, (
        f"README.md line {block.line} ({block.language}) exited {result.returncode}:\n{block.code}\n"
        f"--- stdout\n{result.stdout[-2000:]}\n--- stderr\n{result.stderr[-3000:]}"
    )
