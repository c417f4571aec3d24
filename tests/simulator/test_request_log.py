"""The request log: one JSON object per request with origin, method, path, query, header names, status
(+ region, fault), and never a secret: no header value, token, client secret or URL signature."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from simkit import CLIENT_SECRET, REFRESH_TOKEN, fetch_token

REPORTS = {"reportTypes": "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"}


def test_request_log_shape_and_no_secrets(start, caller_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    log_path = tmp_path / "log" / "requests.jsonl"
    sim = start(request_log=log_path)
    api = caller_factory(sim)
    report = api.json("getReports", params=REPORTS)["reports"][0]
    document = api.json("getReportDocument", path_params={"reportDocumentId": report["reportDocumentId"]})
    assert httpx.get(document["url"]).status_code == 200
    api.call("listBalances", "eu", token="Atza|forged")
    second_token = fetch_token(sim)

    text = log_path.read_text()
    entries = [json.loads(line) for line in text.splitlines()]
    assert [e["origin"] for e in entries] == ["lwa", "spapi", "spapi", "documents", "spapi", "lwa"]
    for entry in entries:
        assert {"origin", "method", "path", "query", "headers", "status"} <= set(entry)
        assert all(name == name.lower() and ":" not in name for name in entry["headers"])
    spapi = [e for e in entries if e["origin"] == "spapi"]
    assert [e["region"] for e in spapi] == ["na", "na", "eu"]
    assert [e["status"] for e in spapi] == [200, 200, 403]
    assert spapi[0]["path"] == "/reports/2021-06-30/reports" and spapi[0]["query"] == {
        "reportTypes": [REPORTS["reportTypes"]]
    }
    assert all("x-amz-access-token" in e["headers"] for e in spapi)
    documents = next(e for e in entries if e["origin"] == "documents")
    assert "x-amz-access-token" not in documents["headers"]
    assert documents["query"]["X-Amz-Signature"] == ["<redacted>"]
    assert (
        entries[0]["method"] == "POST"
        and entries[0]["path"] == "/auth/o2/token"
        and entries[0]["query"] == {}
    )

    signature = document["url"].split("X-Amz-Signature=")[1]
    for secret in (REFRESH_TOKEN, CLIENT_SECRET, api.token, second_token, "Atza|forged", signature, "Atza|"):
        assert secret not in text


def test_no_log_file_without_request_log(sim, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    fetch_token(sim)
    assert list(tmp_path.iterdir()) == []
