"""Priority path: LWA, getReports pagination, getReportDocument and the verified document download."""

from __future__ import annotations

import gzip
import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from spapi_testkit import FAKE_CLIENT_SECRET, FAKE_REFRESH_TOKEN, Harness, Reply

from spapi.errors import DocumentDownloadError

REPORTS = "/reports/2021-06-30/reports"
SETTLEMENT_TYPES = ("GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2", "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE")
DOCUMENT_TEXT = b"settlement-id\tsettlement-start-date\ttotal-amount\n12345\t2026-11-01\t1016.08\n"


def _report(number: int) -> dict[str, object]:
    return {
        "reportId": str(number),
        "reportType": SETTLEMENT_TYPES[0],
        "createdTime": "2026-11-01T00:00:00Z",
        "processingStatus": "DONE",
        "reportDocumentId": f"amzn1.spdoc.1.4.na.{number}",
    }


def test_get_reports_follows_next_token_sending_it_alone(harness: Harness) -> None:
    harness.api.route(
        "GET",
        REPORTS,
        Reply(200, {"reports": [_report(1), _report(2)], "nextToken": "page-2"}, {"x-amzn-RequestId": "r1"}),
        Reply(200, {"reports": [_report(3)]}, {"x-amzn-RequestId": "r2"}),
    )
    with harness.client() as client:
        pages = list(client.iter_reports(SETTLEMENT_TYPES, created_since=datetime(2026, 8, 25, tzinfo=UTC)))
    assert [[item["reportId"] for item in page.items] for page in pages] == [["1", "2"], ["3"]]
    assert [page.request_id for page in pages] == ["r1", "r2"]
    assert pages[0].next_token == "page-2" and pages[1].next_token is None
    first, second = harness.api.calls(REPORTS)
    assert first.q("reportTypes") == ",".join(SETTLEMENT_TYPES)
    assert first.q("processingStatuses") == "DONE"
    assert first.q("createdSince") == "2026-08-25T00:00:00Z"
    assert first.q("pageSize") == "100"
    # Amazon: "include this token as the only parameter" for getReports.
    assert second.query == {"nextToken": ["page-2"]}
    # The exact bytes are kept for the raw archive.
    assert b'"reportId": "3"' in pages[1].raw


def test_access_token_is_sent_to_spapi_and_cached(harness: Harness) -> None:
    harness.api.route("GET", REPORTS, Reply(200, {"reports": []}))
    with harness.client() as client:
        for _ in range(3):
            list(client.iter_reports(SETTLEMENT_TYPES))
    assert len(harness.lwa.issued) == 1
    token = harness.lwa.issued[0]
    assert all(call.headers.get("x-amz-access-token") == token for call in harness.api.calls(REPORTS))
    exchange = harness.lwa.server.calls()[0]
    assert b"grant_type=refresh_token" in exchange.body
    # The secret travels only in the POST body to LWA, never to the SP-API origin.
    sent = "".join(str(call.headers) + call.body.decode() for call in harness.api.requests)
    assert FAKE_CLIENT_SECRET not in sent


def _serve_document(harness: Harness, doc_id: str, *replies: Reply, gzip_it: bool = True) -> None:
    body: dict[str, object] = {"reportDocumentId": doc_id, "url": harness.document_url(f"doc/{doc_id}")}
    if gzip_it:
        body["compressionAlgorithm"] = "GZIP"
    harness.api.route("GET", f"/reports/2021-06-30/documents/{doc_id}", Reply(200, body))
    harness.documents.route("GET", f"/doc/{doc_id}", *replies)


def test_gzip_document_is_downloaded_gunzipped_and_verified(harness: Harness, tmp_path: Path) -> None:
    _serve_document(
        harness, "doc-1", Reply(200, gzip.compress(DOCUMENT_TEXT), {"Content-Type": "text/plain"})
    )
    with harness.client() as client:
        document = client.download_report_document("doc-1", tmp_path)
    assert document.path.read_bytes() == DOCUMENT_TEXT
    assert document.size == len(DOCUMENT_TEXT)
    assert document.sha256 == hashlib.sha256(DOCUMENT_TEXT).hexdigest()
    assert document.content_type == "text/plain"
    assert [p.name for p in tmp_path.iterdir()] == [document.path.name]  # no temp file left behind


def test_no_token_or_authorization_reaches_the_documents_origin(harness: Harness, tmp_path: Path) -> None:
    _serve_document(harness, "doc-2", Reply(200, gzip.compress(DOCUMENT_TEXT)))
    with harness.client() as client:
        client.download_report_document("doc-2", tmp_path)
    (download,) = harness.documents.calls()
    assert "x-amz-access-token" not in download.headers
    assert "authorization" not in download.headers
    for secret in (*harness.lwa.issued, FAKE_CLIENT_SECRET, FAKE_REFRESH_TOKEN):
        assert secret not in str(download.headers) and secret not in download.path
    # ...while the getReportDocument call itself did carry the token.
    (metadata_call,) = harness.api.calls("/reports/2021-06-30/documents/doc-2")
    assert metadata_call.headers["x-amz-access-token"] == harness.lwa.issued[0]


def test_truncated_gzip_is_retried_and_never_returned(harness: Harness, tmp_path: Path) -> None:
    compressed = gzip.compress(DOCUMENT_TEXT * 50)
    _serve_document(
        harness,
        "doc-3",
        Reply(200, compressed, truncate_to=len(compressed) // 2),  # connection drops mid-body
        Reply(200, compressed[:-8]),  # complete HTTP response, but the gzip trailer (CRC, length) is missing
        Reply(200, compressed),
    )
    with harness.client() as client:
        document = client.download_report_document("doc-3", tmp_path)
    assert document.path.read_bytes() == DOCUMENT_TEXT * 50
    assert len(harness.documents.calls()) == 3
    assert list(tmp_path.iterdir()) == [document.path]


def test_corrupt_crc_is_detected(harness: Harness, tmp_path: Path) -> None:
    compressed = bytearray(gzip.compress(DOCUMENT_TEXT))
    compressed[-8] ^= 0xFF  # flip a bit of the CRC32 in the trailer
    _serve_document(harness, "doc-4", Reply(200, bytes(compressed)))
    with harness.client(max_download_attempts=3) as client, pytest.raises(DocumentDownloadError) as raised:
        client.download_report_document("doc-4", tmp_path)
    assert "gzip verification failed" in str(raised.value)
    assert len(harness.documents.calls()) == 3
    assert list(tmp_path.iterdir()) == []  # nothing half-verified is left for anyone to archive


def test_expired_url_asks_getreportdocument_again(harness: Harness, tmp_path: Path) -> None:
    expired = Reply(403, b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>")
    _serve_document(harness, "doc-5", expired, Reply(200, gzip.compress(DOCUMENT_TEXT)))
    with harness.client() as client:
        document = client.download_report_document("doc-5", tmp_path)
    assert document.path.read_bytes() == DOCUMENT_TEXT
    assert len(harness.api.calls("/reports/2021-06-30/documents/doc-5")) == 2


def test_uncompressed_document_keeps_its_charset(harness: Harness, tmp_path: Path) -> None:
    text = "settlement-id\tamount\n1\t95,00 €\n".encode("cp1252")
    _serve_document(
        harness,
        "doc-6",
        Reply(200, text, {"Content-Type": "text/plain; charset=windows-1252"}),
        gzip_it=False,
    )
    with harness.client() as client:
        document = client.download_report_document("doc-6", tmp_path)
    assert document.path.read_bytes() == text
    assert document.charset == "windows-1252"
