"""The LWA token endpoint (`POST /auth/o2/token`, form-encoded refresh_token grant), never faulted.

Any refresh token and client are accepted, except those starting with the configured rejected prefix
(default "invalid"): a refresh token → 400 invalid_grant, a client id or secret → 401 invalid_client, with
the bodies LWA sends. Access tokens start with `Atza|` and live 3600 simulated seconds.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from simulator.asgi_log import LoggedOrigin
from simulator.credentials import ACCESS_TOKEN_LIFETIME
from simulator.errors import new_request_id
from simulator.state import SimulatorState

CONTENT_TYPE_REQUIRED = "The Content-Type must be application/x-www-form-urlencoded"
MISSING_PARAMETER = "The request is missing a required parameter : "
INVALID_GRANT = "The request has an invalid grant parameter : refresh_token"


def _lwa_error(status: int, error: str, description: str) -> Response:
    return JSONResponse(
        {"error_description": description, "error": error},
        status_code=status,
        headers={"x-amzn-RequestId": new_request_id(), "Cache-Control": "no-store", "Pragma": "no-cache"},
    )


def build_lwa_origin(state: SimulatorState) -> LoggedOrigin:
    async def token(request: Request) -> Response:
        content_type = request.headers.get("content-type", "")
        if not content_type.startswith("application/x-www-form-urlencoded"):
            return _lwa_error(400, "invalid_request", CONTENT_TYPE_REQUIRED)
        form = {key: values[0] for key, values in parse_qs((await request.body()).decode("utf-8")).items()}
        grant_type = form.get("grant_type")
        if grant_type is None:
            return _lwa_error(400, "invalid_request", MISSING_PARAMETER + "grant_type")
        if grant_type != "refresh_token":
            return _lwa_error(400, "unsupported_grant_type", "The authorization grant type is not supported")
        for name in ("refresh_token", "client_id", "client_secret"):
            if not form.get(name):
                return _lwa_error(400, "invalid_request", MISSING_PARAMETER + name)
        prefix = state.rejected_prefix
        if form["client_id"].startswith(prefix) or form["client_secret"].startswith(prefix):
            return _lwa_error(401, "invalid_client", "Client authentication failed")
        if form["refresh_token"].startswith(prefix):
            return _lwa_error(400, "invalid_grant", INVALID_GRANT)
        access_token = state.tokens.issue(form["refresh_token"])
        return JSONResponse(
            {
                "access_token": access_token,
                "refresh_token": form["refresh_token"],
                "token_type": "bearer",
                "expires_in": int(ACCESS_TOKEN_LIFETIME.total_seconds()),
            },
            headers={"x-amzn-RequestId": new_request_id(), "Cache-Control": "no-store", "Pragma": "no-cache"},
        )

    routes = [Route("/auth/o2/token", token, methods=["POST"])]
    return LoggedOrigin(Starlette(routes=routes), origin="lwa", log=state.request_log)
