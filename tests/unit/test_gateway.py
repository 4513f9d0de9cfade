"""The local API's gateway reads a chunked body as API Gateway does, and refuses a malformed one."""

from __future__ import annotations

import io

import pytest

from demo.localcloud.gateway import _MalformedBody, _read_chunked


def test_a_chunked_body_is_read_whole_and_the_stream_left_at_the_next_request():
    stream = io.BytesIO(b"4\r\nWiki\r\n6;ext=1\r\npedia \r\n0\r\nTrailer: x\r\n\r\nGET /health HTTP/1.1\r\n")
    assert _read_chunked(stream) == b"Wikipedia "
    assert stream.read() == b"GET /health HTTP/1.1\r\n"


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"zz\r\nabc\r\n0\r\n\r\n", 400),  # not a size
        (b"-1\r\nabc\r\n0\r\n\r\n", 400),  # a sign is no hex digit
        (b"\r\n", 400),  # no size at all
        (b"6\r\nshort", 400),  # cut short
        (b"3\r\nabcX\r\n0\r\n\r\n", 400),  # a chunk longer than its size
        (b"5\r\n12345\r\n5\r\n67890\r\n0\r\n\r\n", 413),  # over the limit (8 bytes here)
    ],
)
def test_a_malformed_or_too_long_chunked_body_is_refused(raw, status):
    with pytest.raises(_MalformedBody) as refused:
        _read_chunked(io.BytesIO(raw), limit=8)
    assert refused.value.status == status
