"""The deployment page's files (docs/deployment/) say what ACORN really reads and runs: they are not run here
(no container runtime in the tests), so what can be checked without one is checked: they parse, every ACORN_*
setting they set is one the code reads, every command they start exists, the code location they serve is the
workspace's, and the page's links lead somewhere."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from acorn_cli.main import cli
from orchestration.paths import REPO_ROOT

DEPLOYMENT = REPO_ROOT / "docs" / "deployment"
PAGE = REPO_ROOT / "docs" / "deployment.md"
FILES = ["docker-compose.yml", "helm-values.yaml", "k8s-workers.yaml"]
PACKAGES = ["acorn_cli", "orchestration", "spapi", "lake", "transforms", "books", "dashboard", "simulator"]


def _load(name: str) -> Any:
    return yaml.safe_load((DEPLOYMENT / name).read_text(encoding="utf-8"))


def _code_text() -> str:
    return "\n".join(
        path.read_text(encoding="utf-8")
        for package in PACKAGES
        for path in (REPO_ROOT / package).rglob("*.py")
    )


@pytest.mark.parametrize("name", FILES)
def test_every_acorn_setting_named_is_one_the_code_reads(name: str) -> None:
    text = (DEPLOYMENT / name).read_text(encoding="utf-8")
    _load(name)  # parses
    code = _code_text()
    named = set(re.findall(r"\bACORN_[A-Z_]+\b", text))
    assert named, f"{name} sets no ACORN_* setting"
    unread = sorted(setting for setting in named if f'"{setting}"' not in code)
    assert not unread, f"{name} sets {unread}, which no ACORN code reads"


def test_the_page_names_only_settings_the_code_reads_and_its_links_exist() -> None:
    text = PAGE.read_text(encoding="utf-8")
    code = _code_text()
    named = set(re.findall(r"\bACORN_[A-Z_]+\b", text)) - {"ACORN_"}
    assert not sorted(setting for setting in named if f'"{setting}"' not in code)
    for link in re.findall(r"\]\(([^)#]+)\)", text):
        assert (PAGE.parent / link).exists(), f"docs/deployment.md links to {link}, which does not exist"


def test_the_compose_services_run_commands_that_exist() -> None:
    services = _load("docker-compose.yml")["services"]
    bin_dir = Path(sys.executable).parent
    for role in ("webserver", "daemon", "worker"):
        command = services[role]["command"]
        executable = command[0]
        assert (bin_dir / executable).exists() or shutil.which(executable), (
            f"{role}: {executable} not installed"
        )
        if executable == "acorn":
            assert command[1] in cli.commands, f"{role}: `acorn {command[1]}` is no acorn command"
        if executable.startswith("dagster"):
            assert (REPO_ROOT / command[command.index("-w") + 1]).is_file()
    # Every service the others wait for exists.
    for name, service in services.items():
        for needed in service.get("depends_on") or {}:
            assert needed in services, f"{name} depends on {needed}, which is not a service"
    worker = services["worker"]["environment"]
    assert worker["ACORN_EXECUTOR"] == "celery" and worker["ACORN_CELERY_BROKER_URL"].startswith("redis://")


def test_the_helm_code_location_is_the_workspace_module_and_workers_run_acorn_worker() -> None:
    workspace = yaml.safe_load((REPO_ROOT / "workspace.yaml").read_text(encoding="utf-8"))
    module = workspace["load_from"][0]["python_module"]["module_name"]
    [deployment] = _load("helm-values.yaml")["dagster-user-deployments"]["deployments"]
    arguments = deployment["dagsterApiGrpcArgs"]
    assert arguments[arguments.index("--module-name") + 1] == module
    [container] = _load("k8s-workers.yaml")["spec"]["template"]["spec"]["containers"]
    assert container["args"][:2] == ["acorn", "worker"] and "worker" in cli.commands


def test_the_dockerfile_copies_files_that_exist() -> None:
    dockerfile = (DEPLOYMENT / "Dockerfile").read_text(encoding="utf-8")
    for source in re.findall(r"^COPY (\S+) ", dockerfile, flags=re.MULTILINE):
        if source != ".":
            assert (REPO_ROOT / source).exists(), f"the Dockerfile copies {source}, which does not exist"
