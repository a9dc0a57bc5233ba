"""StreamedBody: a large response body written chunk by chunk into its final bytes object."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webvi.browser import body as body_module
from webvi.browser.body import StreamedBody, is_streamable


class FakeChunk:
    """A stand-in for a JavaScript Uint8Array behind a JsProxy."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.length = len(data)

    def assign_to(self, target: memoryview) -> None:
        if len(target) != self.length:
            raise ValueError("assign_to needs a target of the chunk's length")
        target[:] = self.data

    def subarray(self, start: int, end: int | None = None) -> FakeChunk:
        return FakeChunk(self.data[start:end])

    def to_bytes(self) -> bytes:
        return self.data


def receive(announced: int, chunks: list[bytes]) -> bytes:
    body = StreamedBody(announced)
    for chunk in chunks:
        body.write(FakeChunk(chunk))
    return body.result()


def test_in_place_fill_supported() -> None:
    assert StreamedBody.supported()


def test_chunks_fill_announced_length() -> None:
    data = bytes(range(256)) * 40

    assert receive(len(data), [data[:1000], data[1000:5000], data[5000:]]) == data


def test_body_longer_than_announced() -> None:
    """A gzip response announces its encoded size, which may be smaller than the body."""
    data = b"abcdefghij" * 100

    assert receive(250, [data[:200], data[200:600], data[600:]]) == data


def test_body_shorter_than_announced() -> None:
    data = b"0123456789" * 10

    assert receive(500, [data[:30], data[30:]]) == data


def test_result_leaves_no_writable_view() -> None:
    body = StreamedBody(4)
    body.write(FakeChunk(b"abcd"))

    assert body.result() == b"abcd"
    with pytest.raises(RuntimeError):
        body.write(FakeChunk(b"e"))
    with pytest.raises(RuntimeError):
        body.result()


def test_shared_small_bytes_never_streamed() -> None:
    """bytes(0) and bytes(1) are shared objects, which must never be written."""
    with pytest.raises(ValueError):
        StreamedBody(1)
    assert not is_streamable(1)
    assert not is_streamable(None)
    assert is_streamable(2)


@given(st.binary(max_size=3000), st.integers(min_value=2, max_value=4000), st.data())
def test_any_split_gives_the_body(data: bytes, announced: int, draw) -> None:
    cuts = sorted(draw.draw(st.lists(st.integers(min_value=0, max_value=len(data)), max_size=6)))
    bounds = [0, *cuts, len(data)]
    chunks = [data[start:end] for start, end in zip(bounds, bounds[1:])]

    assert receive(announced, chunks) == data


def test_body_above_address_limit_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pyodide cannot copy chunks above 2 GiB, so such a body is read whole instead."""
    monkeypatch.setattr(body_module, "_ADDRESS_LIMIT", 4096)

    with pytest.raises(MemoryError, match="would end above 4096"):
        StreamedBody(10_000)
