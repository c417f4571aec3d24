"""Helpers for the simulator tests: Amazon's models as JSON Schema, and a plain httpx caller that validates
EVERY JSON body the SP-API origins send against the model's response schema for that operation and status."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from simulator import SimulatorHandle

MODEL_FILES = (
    "reports_2021-06-30.json",
    "financesV0.json",
    "finances_2024-06-19.json",
    "transfers_2024-06-01.json",
    "vendorOrders.json",
    "financesInvoices_2026-06-25.json",
    "vendorShipments.json",
)
REFRESH_TOKEN = "Atzr|simulator-test-refresh-token-SECRET"
CLIENT_ID = "amzn1.application-oa2-client.simtest"
CLIENT_SECRET = "amzn1.oa2-cs.v1.simulator-test-client-secret-SECRET"


@dataclass(frozen=True)
class ModelOperation:
    operation_id: str
    method: str
    path: str
    model_uri: str
    responses: dict[str, Any]


class ModelSchemas:
    """Amazon's Swagger 2.0 models as JSON Schema.

    Each file's `definitions` is a resource in a referencing Registry, so the models' own `#/definitions/...`
    references resolve; response schemas are validated with Draft 4 (the dialect Swagger 2.0 builds on).
    """

    def __init__(self, models_dir: Path) -> None:
        self.operations: dict[str, ModelOperation] = {}
        self._validators: dict[tuple[str, str], jsonschema.Draft4Validator] = {}
        resources = []
        for name in MODEL_FILES:
            model = json.loads((models_dir / name).read_text(encoding="utf-8"))
            uri = f"urn:spapi-model:{name}"
            resources.append((uri, Resource.from_contents({"definitions": model["definitions"]}, DRAFT4)))
            for path, methods in model["paths"].items():
                for method, operation in methods.items():
                    if isinstance(operation, dict) and "operationId" in operation:
                        self.operations[operation["operationId"]] = ModelOperation(
                            operation["operationId"], method.upper(), path, uri, operation["responses"]
                        )
        self.registry: Registry = Registry().with_resources(resources)

    def validate(self, operation_id: str, status: int, body: Any) -> None:
        operation = self.operations[operation_id]
        response = operation.responses.get(str(status))
        assert response is not None, f"{operation_id} has no {status} response in Amazon's model"
        assert "schema" in response, f"{operation_id} {status} has no body in the model"
        key = (operation_id, str(status))
        if key not in self._validators:
            schema = {"$ref": operation.model_uri + response["schema"]["$ref"]}
            self._validators[key] = jsonschema.Draft4Validator(schema, registry=self.registry)
        self._validators[key].validate(body)


def parse(response: httpx.Response) -> Any:
    """Money stays exact: JSON numbers with a fraction become Decimal."""
    return json.loads(response.content, parse_float=Decimal)


def fetch_token(sim: SimulatorHandle, refresh_token: str = REFRESH_TOKEN) -> str:
    response = httpx.post(
        sim.lwa_url,
        data={
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        },
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


@dataclass
class Caller:
    """Calls SP-API operations by operationId over real HTTP; validates each body against the model."""

    sim: SimulatorHandle
    schemas: ModelSchemas
    token: str | None
    client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=30))
    seen: list[tuple[str, int]] = field(default_factory=list)

    def url(self, operation_id: str, region: str = "na", **path_params: str) -> str:
        path = self.schemas.operations[operation_id].path.format(**path_params)
        return self.sim.spapi_urls[region] + path

    def call(
        self,
        operation_id: str,
        region: str = "na",
        *,
        params: dict[str, Any] | None = None,
        token: str | None = None,
        path_params: dict[str, str] | None = None,
    ) -> httpx.Response:
        token = token if token is not None else self.token
        headers = {"x-amz-access-token": token} if token else {}
        response = self.client.get(
            self.url(operation_id, region, **(path_params or {})), params=params, headers=headers
        )
        assert response.headers.get("x-amzn-RequestId"), "every response carries x-amzn-RequestId"
        self.schemas.validate(operation_id, response.status_code, parse(response))
        self.seen.append((operation_id, response.status_code))
        return response

    def json(self, operation_id: str, region: str = "na", **kwargs: Any) -> Any:
        response = self.call(operation_id, region, **kwargs)
        assert response.status_code == 200, response.text
        return parse(response)


def make_caller(sim: SimulatorHandle, schemas: ModelSchemas) -> Caller:
    return Caller(sim, schemas, fetch_token(sim))


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
