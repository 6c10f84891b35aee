"""Run the client through successes, every kind of failure and retries, over REST and over gRPC; grep
everything it produced for the API key: log lines (DEBUG and up), error messages and reprs, object
reprs, stats and events."""

from __future__ import annotations

import logging
import traceback
from typing import Any

import pytest

from bulkops.api import Client, ClientConfig, GrpcReply, MockGrpcTransport, MockTransport, RequestEvent
from bulkops.errors import BulkopsError, TransportError
from bulkops.limits.retry import RetryPolicy
from bulkops.models import Record
from bulkops.server import ServerConfig, parse_faults, serve_local

from .conftest import API_KEY, INDEX_HOST
from .doubles import Routes, text_response

FAST = RetryPolicy(max_attempts=3, base_delay=0.001, max_delay=0.002)


def _texts_of(error: BaseException) -> list[str]:
    texts = [str(error), repr(error), "".join(traceback.format_exception(error))]
    for attr in ("last_error", "__cause__", "__context__"):
        inner = getattr(error, attr, None)
        if isinstance(inner, BaseException) and inner is not error:
            texts += [str(inner), repr(inner)]
    return texts


@pytest.mark.parametrize("transport", ["rest", "grpc"])
async def test_the_api_key_appears_in_no_log_error_or_repr(
    caplog: pytest.LogCaptureFixture, transport: str
) -> None:
    caplog.set_level(logging.DEBUG)
    produced: list[str] = []
    events: list[RequestEvent] = []

    async def attempt(call: Any) -> None:
        try:
            await call
        except BulkopsError as exc:
            produced.extend(_texts_of(exc))

    faults = parse_faults("500:0.1,503:0.1,reset:0.1,429:0.1")
    async with serve_local(ServerConfig(api_key=API_KEY, faults=faults, seed=3)) as server:
        await server.create_index_direct("secret", dimension=2)
        options = {"retry": FAST, "retry_budget_tokens": 5, "transport": transport}
        async with Client(API_KEY, server.url, **options) as client:  # type: ignore[arg-type]
            client.subscribe(events.append)
            index = await client.index(name="secret")
            assert index.transport == transport
            for i in range(30):
                await attempt(index.upsert([Record(f"r{i}", [1.0, 2.0])], namespace="ns"))
                await attempt(index.fetch([f"r{i}"], namespace="ns"))
                await attempt(index.delete_ids([f"r{i}"], namespace="never-created"))
            await attempt(index.upsert([Record("bad", [1.0])], namespace="ns"))  # 400
            await attempt(client.control.describe_index("missing"))  # 404
            await attempt(client.control.delete_index("missing"))
            produced += [repr(client), repr(client.config), repr(index), repr(client.control)]
            produced += [repr(index.limiter), repr(client.stats), str(client.stats)]
        async with Client("wrong-" + API_KEY, server.url, transport=transport) as wrong:
            await attempt(wrong.control.list_indexes())  # 401
            await attempt(wrong.index_at(server.index_host("secret")).fetch(["r1"], namespace="ns"))
            produced.append(repr(wrong))

    # transport failures with the key in the URL path on purpose (a user pasting it as a host)
    async with Client(API_KEY, "http://127.0.0.1:9", retry=FAST, timeout=0.5) as dead:
        await attempt(dead.control.list_indexes())
    produced += [repr(ClientConfig.resolve(API_KEY))] + [repr(event) for event in events]
    produced += [record.getMessage() for record in caplog.records] + [caplog.text]

    assert len(produced) > 100
    assert sum("HTTP 401" in text for text in produced) >= 2
    assert any("HTTP 400" in text for text in produced)
    assert any("TransportError" in text or "ClientConnectorError" in text for text in produced)
    leaks = [text for text in produced if API_KEY in text]
    assert leaks == []


async def test_a_key_that_ends_up_in_a_transport_message_is_redacted() -> None:
    said = TransportError(f"POST {INDEX_HOST}/vectors/delete: proxy said no to Api-Key {API_KEY}")
    transport = MockTransport(Routes().add("POST", f"{INDEX_HOST}/vectors/delete", said, repeat=True))
    async with Client(API_KEY, "http://ctl.test:1", retry=FAST, transport=transport) as client:
        index = client.index_at(INDEX_HOST)
        with pytest.raises(BulkopsError) as caught:
            await index.delete_ids(["a"], namespace="ns")
    texts = _texts_of(caught.value)
    assert any("***" in text for text in texts)
    assert not [text for text in texts if API_KEY in text]


async def test_a_grpc_status_message_echoing_the_key_is_redacted() -> None:
    echo = f"failed to connect to all addresses; last error: proxy refused api-key {API_KEY}"
    transport = MockGrpcTransport(lambda _: GrpcReply("UNAVAILABLE", message=echo))
    async with Client(API_KEY, "http://ctl.test:1", retry=FAST, transport=transport) as client:
        with pytest.raises(BulkopsError) as caught:
            await client.index_at(INDEX_HOST).fetch(["a"], namespace="ns")
    texts = _texts_of(caught.value)
    assert any("api-key ***" in text for text in texts)
    assert not [text for text in texts if API_KEY in text]


async def test_an_error_body_echoing_the_key_is_redacted() -> None:
    from bulkops.errors import AuthenticationError

    echo = text_response(401, f"bad header Api-Key: {API_KEY}")
    transport = MockTransport(Routes().add("GET", "http://ctl.test:1/indexes", echo))
    async with Client(API_KEY, "http://ctl.test:1", transport=transport) as client:
        with pytest.raises(AuthenticationError) as caught:
            await client.control.list_indexes()
    assert "Api-Key: ***" in caught.value.message
    assert not [text for text in _texts_of(caught.value) if API_KEY in text]
