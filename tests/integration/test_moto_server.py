"""The embedded AWS server keeps connections open between requests (its one-at-a-time processing
is what tests/integration/test_limits_concurrency.py and test_credits_concurrency.py rely on)."""

from __future__ import annotations

import http.client
import json

from sluice.local.moto_server import MotoProcess

LIST_TABLES = {
    "X-Amz-Target": "DynamoDB_20120810.ListTables",
    "Content-Type": "application/x-amz-json-1.0",
    "Authorization": "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/dynamodb/aws4_request, "
    "SignedHeaders=host, Signature=0",
}


def test_a_connection_serves_several_requests(moto_server: MotoProcess) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", moto_server.port, timeout=5)
    try:
        answers = []
        for _ in range(3):
            connection.request("POST", "/", body=b"{}", headers=LIST_TABLES)
            response = connection.getresponse()
            answers.append((response.status, response.getheader("connection"), json.loads(response.read())))
            sock = connection.sock
        assert all(status == 200 and header != "close" for status, header, _ in answers), answers
        assert all("TableNames" in body for _, _, body in answers)
        assert sock is not None and connection.sock is sock, "the same socket all along"
    finally:
        connection.close()
