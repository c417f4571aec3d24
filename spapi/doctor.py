"""`acorn doctor`: checks the config, the credentials, the token exchange and one cheap call per account, and
says what to do about the usual failures (invalid_grant, invalid_client, a missing role, the wrong region, a
clock far off). `doctor_report` is what the CLI prints: a first line saying which config is checked (plainly
so when it is the bundled simulator's, not Amazon), the findings, and a last line. A config that cannot be
loaded is a FAIL finding that says how to fix it (never a traceback), and nothing else is checked; the CLI
exits 3 then, 1 when a check failed, 0 when all passed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

import httpx

from spapi import endpoints as ops
from spapi.bundled_simulator import (
    demo_credentials,
    endpoint_overrides,
    is_shared,
    simulator_settings,
    start_bundled_simulator,
)
from spapi.client import ClientOptions, SpApiClient
from spapi.config import (
    AccountConfig,
    Config,
    ConfigFileMissing,
    ConfigSyntaxError,
    ConfigValueError,
    load_config,
    resolve_endpoints,
)
from spapi.credentials import LwaCredentials, credentials_from_env, refresh_token_var
from spapi.errors import ConfigError, CredentialsError, LwaError, SpApiError
from spapi.windows import iso_z

MAX_CLOCK_SKEW = timedelta(minutes=5)
_REPO_ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_CONFIG = "config/accounts.example.toml"


@dataclass(frozen=True)
class Finding:
    check: str  # config | credentials | token | call | clock
    ok: bool
    message: str
    account_id: str | None = None
    advice: str | None = None

    def __str__(self) -> str:
        mark = "ok  " if self.ok else "FAIL"
        where = f"[{self.account_id}] " if self.account_id else ""
        text = f"{mark} {self.check:<11} {where}{self.message}"
        return f"{text}\n       -> {self.advice}" if self.advice else text


def _lwa_advice(account: AccountConfig, error: LwaError) -> str:
    if error.error == "invalid_grant":
        return (
            f"the refresh token was revoked, expired or belongs to another app: re-authorise the app for this "
            f"selling partner and set {refresh_token_var(account.id)}"
        )
    if error.error == "invalid_client":
        return (
            "the LWA client id or secret is wrong, or the secret expired (LWA client secrets must be rotated "
            "every 180 days): copy the current pair from the Developer Console into SPAPI_LWA_CLIENT_ID and "
            "SPAPI_LWA_CLIENT_SECRET"
        )
    return "the token endpoint could not be reached or answered unexpectedly: check the network and try again"


def _call_advice(account: AccountConfig, error: SpApiError) -> str:
    if error.status == 403:
        return (
            f"Amazon refused the call ({error.code}). Usually the app lacks the role this data needs (Finance "
            f"and Accounting for finances and settlements; for vendors the role that grants Vendor Orders), "
            f"the selling partner "
            f"authorised it in another region than '{account.region}', or the account is a "
            f"{'seller' if account.kind == 'vendor' else 'vendor'} rather than a {account.kind}: check the "
            f"app's roles and the account's region and kind in the config"
        )
    if error.status == 429:
        return "throttled: another process is using this account's allowance; try again in a minute"
    return f"unexpected answer; quote request id {error.request_id or '-'} to Amazon support if it persists"


def _clock_finding(account: AccountConfig, date_header: str | None, now: datetime) -> Finding | None:
    if not date_header:
        return None
    try:
        server_time = parsedate_to_datetime(date_header).astimezone(UTC)
    except (TypeError, ValueError):
        return None
    skew = abs(server_time - now)
    if skew > MAX_CLOCK_SKEW:
        return Finding(
            "clock",
            False,
            f"this machine's clock is {skew.total_seconds():.0f} s off Amazon's",
            account.id,
            "synchronise the clock (NTP): windows 'more than two minutes ago' and token lifetimes depend on it",
        )
    return Finding("clock", True, f"clock within {skew.total_seconds():.0f} s of Amazon's", account.id)


def check_account(
    account: AccountConfig,
    credentials: LwaCredentials,
    endpoints_overrides: Mapping[str, str] | None = None,
    *,
    http: httpx.Client | None = None,
    options: ClientOptions | None = None,
) -> list[Finding]:
    """Token exchange, one cheap call and the clock, for one account whose credentials are known."""
    findings: list[Finding] = []
    endpoints = resolve_endpoints(account, endpoints_overrides)
    options = options or ClientOptions(max_transient_attempts=2, max_throttle_retries=1)
    with SpApiClient(account, credentials, endpoints=endpoints, options=options, http=http) as client:
        try:
            client.tokens.token()
        except LwaError as error:
            return [Finding("token", False, str(error), account.id, _lwa_advice(account, error))]
        findings.append(Finding("token", True, f"LWA token exchange at {endpoints.lwa}", account.id))
        now = options.now()
        if account.kind == "vendor":
            operation = ops.GET_PURCHASE_ORDERS_STATUS
            params = {"limit": "1", "updatedAfter": iso_z(now - timedelta(days=1))}
        else:
            operation = ops.LIST_FINANCIAL_EVENT_GROUPS
            params = {
                "MaxResultsPerPage": "1",
                "FinancialEventGroupStartedAfter": iso_z(now - timedelta(days=30)),
            }
        try:
            response = client._request(operation, operation.path, params, paged=False)
        except SpApiError as error:
            findings.append(Finding("call", False, str(error), account.id, _call_advice(account, error)))
            return findings
        findings.append(
            Finding("call", True, f"{operation.operation_id} answered at {endpoints.spapi}", account.id)
        )
        clock = _clock_finding(account, response.headers.get("date"), now)
        if clock is not None:
            findings.append(clock)
    return findings


@contextlib.contextmanager
def _simulator_overrides(config: Config) -> Iterator[dict[str, str] | None]:
    """The demo config talks to the bundled simulator: start it for the checks, like a demo run does."""
    settings = simulator_settings(config.extra)
    if not settings or is_shared(settings):  # a shared one runs at the accounts' own endpoints
        yield None
        return
    handle = start_bundled_simulator(settings)
    try:
        yield endpoint_overrides(handle)
    finally:
        handle.stop()


def run_doctor(
    config: Config,
    env: Mapping[str, str],
    *,
    overrides: Mapping[str, str] | None = None,
    http: httpx.Client | None = None,
    options: ClientOptions | None = None,
) -> list[Finding]:
    """Every check for every account. `overrides` as for `resolve_endpoints`; when None and the config enables
    the bundled simulator, the simulator is started for the checks (and any credentials are accepted)."""
    if not config.accounts:
        return [
            Finding(
                "config", False, "no [[accounts]] in the config", advice="see config/accounts.example.toml"
            )
        ]
    findings = [Finding("config", True, f"{len(config.accounts)} account(s) configured")]
    with contextlib.ExitStack() as stack:
        simulated = None if overrides is not None else stack.enter_context(_simulator_overrides(config))
        active = overrides if overrides is not None else simulated
        for account in config.accounts:
            fallback = demo_credentials(account.id) if simulated is not None else None
            try:
                credentials = credentials_from_env(account.id, env, fallback=fallback)
            except CredentialsError as error:
                findings.append(
                    Finding("credentials", False, str(error), account.id, "export the variables named above")
                )
                continue
            findings.append(Finding("credentials", True, "LWA credentials present", account.id))
            findings.extend(check_account(account, credentials, active, http=http, options=options))
    return findings


@dataclass(frozen=True)
class DoctorReport:
    """What `acorn doctor` prints: `intro` lines, the findings, and a closing line (`lines()`)."""

    config_path: Path
    findings: list[Finding]
    config_loaded: bool
    intro: list[str] = field(default_factory=list)
    simulated: bool = False

    @property
    def failed(self) -> bool:
        return any(not finding.ok for finding in self.findings)

    def lines(self) -> list[str]:
        where = " (against the bundled simulator, not Amazon)" if self.simulated else ""
        if not self.config_loaded:
            closing = "the config could not be loaded, so nothing else was checked"
        elif self.failed:
            failed = sum(not finding.ok for finding in self.findings)
            closing = f"{failed} of {len(self.findings)} checks FAILED{where}"
        else:
            closing = f"all {len(self.findings)} checks ok{where}"
        return [*self.intro, *(str(finding) for finding in self.findings), closing]


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(_REPO_ROOT))
    except ValueError:
        return str(path)


def config_finding(error: ConfigError, path: Path) -> Finding:
    """A config that cannot be loaded, as a FAIL finding whose advice is the fix."""
    if isinstance(error, ConfigFileMissing):
        advice = (
            f"copy {EXAMPLE_CONFIG} to {path} (or point ACORN_CONFIG at your copy), describe your accounts "
            "in it, and run acorn doctor again"
        )
    elif isinstance(error, ConfigSyntaxError):
        place = f"line {error.line}, column {error.column} of " if error.line is not None else ""
        advice = f"fix the TOML at {place}{path} ({EXAMPLE_CONFIG} shows the expected shape)"
    elif isinstance(error, ConfigValueError):
        advice = f"fix the field(s) named above in {path}; {EXAMPLE_CONFIG} shows every field and its values"
    else:
        advice = f"make {path} a readable file, or point ACORN_CONFIG at another"
    return Finding("config", False, error.message, advice=advice)


def doctor_report(
    config_path: Path,
    env: Mapping[str, str],
    *,
    bundled: bool,
    overrides: Mapping[str, str] | None = None,
    http: httpx.Client | None = None,
    options: ClientOptions | None = None,
) -> DoctorReport:
    """Load the config at `config_path` and run every check (see `run_doctor`). `bundled`: ACORN_CONFIG is
    not set, so `config_path` is the bundled simulator's config, and the first line says so."""
    config_path = Path(config_path)
    if bundled:
        intro = [
            f"Checking the bundled simulator config ({_shown(config_path)}), not Amazon: ACORN_CONFIG is not "
            f"set. To check real accounts, copy {EXAMPLE_CONFIG}, describe your accounts, set ACORN_CONFIG to "
            "the copy and the SPAPI_* credentials, and run acorn doctor again."
        ]
    else:
        intro = [f"Checking {config_path} (ACORN_CONFIG)."]
    try:
        config = load_config(config_path)
    except ConfigError as error:
        return DoctorReport(config_path, [config_finding(error, config_path)], False, intro)
    simulated = bool(simulator_settings(config.extra)) and overrides is None
    if simulated and not bundled:
        intro.append(
            "This config enables the bundled simulator ([simulator] enabled = true): the checks below talk "
            "to it, not to Amazon."
        )
    findings = run_doctor(config, env, overrides=overrides, http=http, options=options)
    return DoctorReport(config_path, findings, True, intro, simulated)
