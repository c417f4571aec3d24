"""The documents origin: report documents behind pre-signed, expiring URLs, as Amazon serves them from S3.

No access token is needed or looked at here. A URL is valid for 5 simulated minutes; after that S3's XML
`AccessDenied` answers, as does a URL whose signature does not match. Compressed documents are gzip bytes
(deterministic: mtime 0); with `enableContentEncodingUrlHeader` they also carry `Content-Encoding: gzip`.
"""

from __future__ import annotations

import gzip
from datetime import datetime, timedelta
from urllib.parse import urlencode
from xml.sax.saxutils import escape

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from simulator.asgi_log import SCOPE_KEY, LoggedOrigin
from simulator.errors import new_request_id
from simulator.faults import Fault
from simulator.state import SimulatorState

URL_LIFETIME = timedelta(minutes=5)
_AMZ_DATE = "%Y%m%dT%H%M%SZ"


def _string_to_sign(account_id: str, document_id: str, amz_date: str, expires: str, encoding: str) -> str:
    return "\n".join(("GET", account_id, document_id, amz_date, expires, encoding))


def presign(state: SimulatorState, account_id: str, document_id: str, content_encoding: bool) -> str:
    amz_date = state.clock.now().strftime(_AMZ_DATE)
    expires = str(int(URL_LIFETIME.total_seconds()))
    encoding = "gzip" if content_encoding else "identity"
    signature = state.signer.signature(_string_to_sign(account_id, document_id, amz_date, expires, encoding))
    query = {
        "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
        "X-Amz-Date": amz_date,
        "X-Amz-Expires": expires,
        "X-Amz-SignedHeaders": "host",
        "response-content-encoding": encoding,
        "X-Amz-Signature": signature,
    }
    return f"{state.documents_url}/{account_id}/{document_id}?{urlencode(query)}"


def _s3_error(status: int, code: str, message: str, request_id: str) -> Response:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message>"
        f"<RequestId>{request_id}</RequestId></Error>"
    )
    return Response(
        body, status_code=status, media_type="application/xml", headers={"x-amz-request-id": request_id}
    )


def build_documents_origin(state: SimulatorState) -> LoggedOrigin:
    async def document(request: Request) -> Response:
        request_id = new_request_id()
        account_id = request.path_params["account_id"]
        document_id = request.path_params["document_id"]
        query = request.query_params
        amz_date, expires = query.get("X-Amz-Date", ""), query.get("X-Amz-Expires", "")
        encoding = query.get("response-content-encoding", "identity")
        expected = _string_to_sign(account_id, document_id, amz_date, expires, encoding)
        if not state.signer.verify(expected, query.get("X-Amz-Signature", "")):
            return _s3_error(
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided.",
                request_id,
            )
        signed_at = datetime.strptime(amz_date, _AMZ_DATE).replace(tzinfo=state.clock.now().tzinfo)
        if state.clock.now() > signed_at + timedelta(seconds=int(expires)):
            return _s3_error(403, "AccessDenied", "Request has expired", request_id)
        sim_document = state.ledger.report_document(account_id, document_id)
        if sim_document is None:
            return _s3_error(404, "NoSuchKey", "The specified key does not exist.", request_id)

        body = sim_document.content
        headers = {"x-amz-request-id": request_id}
        if sim_document.compress:
            body = gzip.compress(body, mtime=0)
            if encoding == "gzip":
                headers["Content-Encoding"] = "gzip"
            if state.faults.truncate_document_download():
                request.scope[SCOPE_KEY]["fault"] = Fault.TRUNCATED_DOCUMENT
                body = body[: len(body) // 2]
        return Response(body, media_type=f"text/plain; charset={sim_document.charset}", headers=headers)

    routes = [Route("/{account_id}/{document_id}", document, methods=["GET"])]
    return LoggedOrigin(Starlette(routes=routes), origin="documents", log=state.request_log)
