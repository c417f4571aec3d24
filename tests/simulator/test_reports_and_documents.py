"""Reports API and the documents origin: settlement reports, their documents, pre-signed URLs and expiry."""

from __future__ import annotations

import gzip
from datetime import timedelta

import httpx

SETTLEMENT_V2 = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"


def _all_reports(api, page_size: int) -> list[dict]:  # type: ignore[no-untyped-def]
    body = api.json("getReports", params={"reportTypes": SETTLEMENT_V2, "pageSize": page_size})
    reports = list(body["reports"])
    while "nextToken" in body:
        body = api.json("getReports", params={"nextToken": body["nextToken"]})
        reports.extend(body["reports"])
    return reports


def test_get_reports_pages_through_every_visible_settlement_report(api) -> None:  # type: ignore[no-untyped-def]
    expected = api.sim.ledger.reports("demo-na", api.sim.clock.now())
    assert len(expected) > 3, "the ledger keeps several settlement reports"
    reports = _all_reports(api, page_size=3)
    assert [r["reportId"] for r in reports] == [r["reportId"] for r in expected]
    assert all(r["reportType"] == SETTLEMENT_V2 and r["processingStatus"] == "DONE" for r in reports)


def test_get_reports_requires_report_types_and_a_lone_next_token(api) -> None:  # type: ignore[no-untyped-def]
    missing = api.call("getReports", params={"pageSize": 5})
    assert missing.status_code == 400 and missing.json()["errors"][0]["code"] == "InvalidInput"
    first = api.json("getReports", params={"reportTypes": SETTLEMENT_V2, "pageSize": 1})
    mixed = api.call("getReports", params={"nextToken": first["nextToken"], "reportTypes": SETTLEMENT_V2})
    assert mixed.status_code == 400
    too_big = api.call("getReports", params={"reportTypes": SETTLEMENT_V2, "pageSize": 101})
    assert too_big.status_code == 400


def test_other_report_types_are_empty(api) -> None:  # type: ignore[no-untyped-def]
    body = api.json("getReports", params={"reportTypes": "GET_FLAT_FILE_OPEN_LISTINGS_DATA"})
    assert body == {"reports": []}


def test_get_report_and_unknown_report(api) -> None:  # type: ignore[no-untyped-def]
    report = api.json("getReports", params={"reportTypes": SETTLEMENT_V2})["reports"][0]
    again = api.json("getReport", path_params={"reportId": report["reportId"]})
    assert again == report
    missing = api.call("getReport", path_params={"reportId": "00000000000"})
    assert missing.status_code == 404 and missing.json()["errors"][0]["code"] == "NotFound"


def _document(api, region: str = "na", **params: str) -> tuple[dict, dict]:  # type: ignore[no-untyped-def]
    report = api.json("getReports", region, params={"reportTypes": SETTLEMENT_V2})["reports"][0]
    document = api.json(
        "getReportDocument",
        region,
        path_params={"reportDocumentId": report["reportDocumentId"]},
        params=params,
    )
    return report, document


def test_document_download_needs_no_token_and_is_the_ledgers_file(api) -> None:  # type: ignore[no-untyped-def]
    sellers = [(a.region, a.account_id) for a in api.sim.ledger.accounts() if a.kind == "seller"]
    assert len(sellers) >= 2
    for region, account in sellers:
        report, document = _document(api, region)
        expected = api.sim.ledger.report_document(account, report["reportDocumentId"])
        assert document["url"].startswith(api.sim.documents_url)
        response = httpx.get(document["url"])  # no x-amz-access-token: S3 does not want one
        assert response.status_code == 200
        assert response.headers["content-type"] == f"text/plain; charset={expected.charset}"
        if expected.compress:
            assert document["compressionAlgorithm"] == "GZIP"
            assert gzip.decompress(response.content) == expected.content
        else:
            assert "compressionAlgorithm" not in document
            assert response.content == expected.content


def test_content_encoding_url_header_lets_http_clients_decompress(api) -> None:  # type: ignore[no-untyped-def]
    report, document = _document(api, enableContentEncodingUrlHeader="true")
    expected = api.sim.ledger.report_document("demo-na", report["reportDocumentId"])
    response = httpx.get(document["url"])
    if expected.compress:
        assert response.headers["content-encoding"] == "gzip"
    assert response.content == expected.content  # httpx decoded the gzip transfer itself


def test_presigned_url_expires_after_five_simulated_minutes(api) -> None:  # type: ignore[no-untyped-def]
    _, document = _document(api)
    api.sim.clock.advance(timedelta(seconds=240))
    assert httpx.get(document["url"]).status_code == 200
    api.sim.clock.advance(timedelta(seconds=70))
    expired = httpx.get(document["url"])
    assert expired.status_code == 403
    assert "<Code>AccessDenied</Code>" in expired.text and "expired" in expired.text


def test_tampered_url_is_refused_like_s3(api) -> None:  # type: ignore[no-untyped-def]
    _, document = _document(api)
    tampered = document["url"].replace("X-Amz-Expires=300", "X-Amz-Expires=30000")
    response = httpx.get(tampered)
    assert response.status_code == 403 and "<Code>SignatureDoesNotMatch</Code>" in response.text
    other_account = document["url"].replace("/demo-na/", "/demo-eu/")
    assert httpx.get(other_account).status_code == 403


def test_unknown_document_is_not_found(api) -> None:  # type: ignore[no-untyped-def]
    response = api.call("getReportDocument", path_params={"reportDocumentId": "amzn1.spdoc.1.4.na.nope"})
    assert response.status_code == 404
