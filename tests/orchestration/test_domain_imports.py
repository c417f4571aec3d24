"""No orchestration domain imports another: what two domains share lives outside them (the lake layer `lake/`,
the transforms, or a module at the root of `orchestration/`), so a domain can be changed, moved or dropped on its
own. Every import statement is read (module level and inside functions), by walking each file's syntax tree."""

from __future__ import annotations

import ast
from pathlib import Path

ORCHESTRATION = Path(__file__).resolve().parents[2] / "orchestration"


def domains() -> list[str]:
    return sorted(path.parent.name for path in ORCHESTRATION.glob("*/__init__.py"))


def imported_modules(source: Path) -> set[str]:
    tree = ast.parse(source.read_text(encoding="utf-8"), filename=str(source))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            if (
                node.module == "orchestration"
            ):  # `from orchestration import finances`: the alias is the domain
                found.update(f"orchestration.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level > 1:
            found.add("orchestration." + (node.module or ""))  # a relative import climbing out of its domain
    return found


def domain_of(module: str) -> str | None:
    parts = module.split(".")
    if len(parts) >= 2 and parts[0] == "orchestration" and parts[1] in domains():
        return parts[1]
    return None


def crossings() -> set[tuple[str, str]]:
    found = set()
    for domain in domains():
        for source in (ORCHESTRATION / domain).rglob("*.py"):
            for module in imported_modules(source):
                other = domain_of(module)
                if other is not None and other != domain:
                    found.add((domain, module))
    return found


def test_the_walk_finds_every_domain_and_reads_imports_inside_functions(tmp_path: Path) -> None:
    assert {"finances", "quality", "settlements", "vendor_orders", "warehouse"} <= set(domains())
    sample = tmp_path / "sample.py"
    sample.write_text(
        "def later():\n    from orchestration.finances.assets import x\n"
        "import orchestration.settlements.landed\nfrom orchestration import warehouse\n"
    )
    assert {
        "orchestration.finances.assets",
        "orchestration.settlements.landed",
        "orchestration.warehouse",
    } <= imported_modules(sample)


def test_no_orchestration_domain_imports_another() -> None:
    unexpected = crossings()
    assert not unexpected, (
        "orchestration domains importing one another (move what they share to lake/, transforms/ or a module "
        f"at the root of orchestration/): {sorted(unexpected)}"
    )
