"""The accounts config (TOML) and where each account's SP-API and LWA endpoints are.

```toml
[[accounts]]
id = "demo-na"                 # lowercase id; its environment suffix is DEMO_NA
kind = "seller"                # seller | vendor
region = "na"                  # na | eu | fe
marketplaces = ["ATVPDKIKX0DER"]
environment = "production"     # production | sandbox
event_source = "transactions"  # transactions (default) | v0_events | both
# spapi_endpoint = "http://127.0.0.1:8001"        # optional overrides
# lwa_endpoint = "http://127.0.0.1:8000/auth/o2/token"
```
Other top-level tables (for example `[simulator]`) are kept in `Config.extra` for the code that owns them.
"""

from __future__ import annotations

import re
import tomllib
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from spapi.errors import ConfigError

Region = Literal["na", "eu", "fe"]
AccountKind = Literal["seller", "vendor"]
Environment = Literal["production", "sandbox"]
EventSource = Literal["transactions", "v0_events", "both"]

REGIONS: tuple[Region, ...] = ("na", "eu", "fe")
LWA_TOKEN_URL = "https://api.amazon.com/auth/o2/token"
_PRODUCTION_HOST = "https://sellingpartnerapi-{region}.amazon.com"
_SANDBOX_HOST = "https://sandbox.sellingpartnerapi-{region}.amazon.com"
_ACCOUNT_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_TOML_PLACE = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")


class ConfigFileMissing(ConfigError):
    """The config file does not exist (`path`)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        super().__init__(f"config file not found: {path}")


class ConfigSyntaxError(ConfigError):
    """The config file is not TOML: `detail` at `line`, `column` (1-based; None when unknown)."""

    def __init__(self, path: Path, detail: str, line: int | None = None, column: int | None = None) -> None:
        self.path = path
        self.detail = detail
        self.line = line
        self.column = column
        place = f" at line {line}, column {column}" if line is not None else ""
        super().__init__(f"{path}: not valid TOML{place}: {detail}")


class ConfigValueError(ConfigError):
    """The config is TOML but a value is invalid: `problems`, each naming the field (and the allowed values)."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: {'; '.join(problems)}")


class AccountConfig(BaseModel):
    """One selling partner account (seller or vendor) in one region."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    kind: AccountKind = "seller"
    region: Region
    marketplaces: tuple[str, ...] = ()
    environment: Environment = "production"
    event_source: EventSource = "transactions"
    spapi_endpoint: str | None = None
    lwa_endpoint: str | None = None
    # The account's reporting time zone (an IANA name, e.g. "Europe/London"): the books' month parts follow it
    # and the dashboard shows the account's times in it. None: its marketplace's. Storage stays UTC.
    reporting_time_zone: str | None = None

    @field_validator("reporting_time_zone")
    @classmethod
    def _known_time_zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                zoneinfo.ZoneInfo(value)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                raise ValueError(
                    f"unknown time zone {value!r} (an IANA name such as 'Europe/London')"
                ) from None
        return value

    @field_validator("id")
    @classmethod
    def _lowercase_id(cls, value: str) -> str:
        if not _ACCOUNT_ID.fullmatch(value):
            raise ValueError("account id must be lowercase letters, digits, '-' or '_' (e.g. 'my-us-store')")
        return value

    @property
    def env_suffix(self) -> str:
        """The suffix of this account's environment variables: `demo-na` -> `DEMO_NA`."""
        return self.id.upper().replace("-", "_")

    @property
    def reads_transactions(self) -> bool:
        return self.event_source in ("transactions", "both")

    @property
    def reads_v0_events(self) -> bool:
        return self.event_source in ("v0_events", "both")


class Config(BaseModel):
    """Every configured account, plus the config's other tables untouched."""

    model_config = ConfigDict(frozen=True)

    accounts: tuple[AccountConfig, ...]
    extra: dict[str, Any] = {}

    @model_validator(mode="after")
    def _unique_ids(self) -> Config:
        seen: set[str] = set()
        for account in self.accounts:
            # Two ids that differ only by '-' vs '_' would share one SPAPI_REFRESH_TOKEN__<SUFFIX> variable.
            if account.env_suffix in seen:
                raise ValueError(f"duplicate account id {account.id!r}")
            seen.add(account.env_suffix)
        return self

    def account(self, account_id: str) -> AccountConfig:
        for account in self.accounts:
            if account.id == account_id:
                return account
        raise KeyError(account_id)


def _issue_text(issue: Mapping[str, Any], where: str) -> str:
    """One pydantic issue as a person fixes it: the field, what is wrong, the allowed values where known."""
    field_name = ".".join(str(part) for part in issue["loc"])
    kind = issue["type"]
    if kind == "literal_error":
        expected = issue.get("ctx", {}).get("expected", "")
        return f"{where}.{field_name}: {issue['input']!r} is not allowed; allowed values: {expected}"
    if kind == "extra_forbidden":
        return (
            f"{where}: unknown field {field_name!r}; the fields are {', '.join(AccountConfig.model_fields)}"
        )
    if kind == "missing":
        return f"{where}: required field {field_name!r} is missing"
    message = str(issue["msg"]).removeprefix("Value error, ")
    target = f"{where}.{field_name}" if field_name else where
    return f"{target}: {message} (got {issue['input']!r})" if field_name else f"{target}: {message}"


def parse_config(document: Mapping[str, Any], *, source: str = "<config>") -> Config:
    """A `Config` from an already-parsed TOML document. ConfigValueError names every bad field."""
    entries = document.get("accounts", [])
    extra = {key: value for key, value in document.items() if key != "accounts"}
    if not isinstance(entries, list):
        raise ConfigValueError(
            source, ["accounts: must be an array of tables, one [[accounts]] section per account"]
        )
    problems: list[str] = []
    accounts: list[AccountConfig] = []
    for index, entry in enumerate(entries):
        named = entry.get("id") if isinstance(entry, dict) else None
        where = f"accounts[{index}]" + (f" (id {named!r})" if isinstance(named, str) else "")
        if not isinstance(entry, dict):
            problems.append(f"{where}: must be a table ([[accounts]] with id, kind, region, ...)")
            continue
        try:
            accounts.append(AccountConfig.model_validate(entry))
        except ValidationError as error:
            problems.extend(_issue_text(issue, where) for issue in error.errors())
    if problems:
        raise ConfigValueError(source, problems)
    try:
        return Config(accounts=tuple(accounts), extra=extra)
    except ValidationError as error:
        raise ConfigValueError(source, [_issue_text(issue, "accounts") for issue in error.errors()]) from None
    except ValueError as error:
        raise ConfigValueError(source, [str(error)]) from None


def load_config(path: str | Path) -> Config:
    """Read and validate the accounts config at `path`: ConfigFileMissing, ConfigSyntaxError (with the line
    and column) or ConfigValueError (naming the field and the allowed values) when it cannot be used."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigFileMissing(path) from None
    except tomllib.TOMLDecodeError as error:
        detail = str(error)
        place = _TOML_PLACE.search(detail)
        if place is None:
            raise ConfigSyntaxError(path, detail) from None
        line, column = int(place.group(1)), int(place.group(2))
        raise ConfigSyntaxError(path, detail[: place.start()], line, column) from None
    except UnicodeDecodeError as error:
        raise ConfigSyntaxError(path, f"not UTF-8 text (byte {error.start + 1})") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot be read: {error.strerror or error}") from None
    return parse_config(document, source=str(path))


@dataclass(frozen=True)
class Endpoints:
    """Where to send an account's SP-API calls (origin, no trailing slash) and its LWA token requests."""

    spapi: str
    lwa: str = field(default=LWA_TOKEN_URL)


def default_spapi_endpoint(region: Region, environment: Environment = "production") -> str:
    template = _SANDBOX_HOST if environment == "sandbox" else _PRODUCTION_HOST
    return template.format(region=region)


def resolve_endpoints(account: AccountConfig, overrides: Mapping[str, str] | None = None) -> Endpoints:
    """The account's endpoints. Precedence: `overrides` (keyed by region, plus "lwa"; the demo points each region at
    its own simulator port this way), then the account's own `spapi_endpoint`/`lwa_endpoint`, then Amazon's
    regional production or sandbox endpoint and the global LWA token URL."""
    overrides = overrides or {}
    spapi = (
        overrides.get(account.region)
        or account.spapi_endpoint
        or default_spapi_endpoint(account.region, account.environment)
    )
    lwa = overrides.get("lwa") or account.lwa_endpoint or LWA_TOKEN_URL
    return Endpoints(spapi=spapi.rstrip("/"), lwa=lwa)
