"""SP-API origins refuse missing and unknown access tokens as Amazon does, on every operation."""

from __future__ import annotations

import httpx

OPERATIONS = [
    "getReports",
    "listFinancialEventGroups",
    "listTransactions",
    "listBalances",
    "listSummary",
    "listExpectedPayouts",
    "getPurchaseOrders",
    "getPurchaseOrdersStatus",
]


def test_missing_or_unknown_token_is_denied_on_every_operation(api) -> None:  # type: ignore[no-untyped-def]
    for operation in OPERATIONS:
        for response in (_without_token(api, operation), api.call(operation, token="Atza|never-issued")):
            assert response.status_code == 403
            assert response.json()["errors"][0]["code"] == "Unauthorized"
            assert response.json()["errors"][0]["message"] == "Access to requested resource is denied."
            assert "x-amzn-RateLimit-Limit" not in response.headers  # refused before any usage plan applies


def _without_token(api, operation: str) -> httpx.Response:  # type: ignore[no-untyped-def]
    response = api.client.get(api.url(operation))
    api.schemas.validate(operation, response.status_code, response.json())
    assert response.headers["x-amzn-RequestId"]
    return response


def test_unknown_path_is_not_found_with_request_id(api) -> None:  # type: ignore[no-untyped-def]
    response = httpx.get(
        api.sim.spapi_urls["eu"] + "/orders/v0/orders", headers={"x-amz-access-token": api.token}
    )
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "NotFound"
    assert response.headers["x-amzn-RequestId"]


def test_region_without_a_vendor_refuses_vendor_operations(api) -> None:  # type: ignore[no-untyped-def]
    vendors = {a.region for a in api.sim.ledger.accounts() if a.kind == "vendor"}
    region = next(r for r in ("na", "eu", "fe") if r not in vendors)
    response = api.call("getPurchaseOrdersStatus", region, params={"purchaseOrderNumber": "X"})
    assert response.status_code == 403
    assert response.json()["errors"][0]["message"] == "Access to requested resource is denied."
