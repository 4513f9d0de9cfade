"""The folder server of the slides and the site's tests: quiet when a browser drops a connection."""

from __future__ import annotations

import httpx
import pytest

from demo.workshop.slides import _Quiet, _Server, serving


def test_serving_answers_the_folder_s_files(tmp_path):
    (tmp_path / "index.html").write_text("<p>deck</p>", encoding="utf-8")
    with serving(tmp_path) as url:
        assert httpx.get(url + "index.html").text == "<p>deck</p>"
        assert httpx.get(url + "missing.html").status_code == 404


@pytest.mark.parametrize("dropped", [ConnectionResetError, BrokenPipeError])
def test_a_connection_the_browser_drops_prints_nothing(dropped, capsys):
    server = _Server(("127.0.0.1", 0), _Quiet)
    try:
        try:
            raise dropped()
        except ConnectionError:
            server.handle_error(None, ("127.0.0.1", 1))
        assert capsys.readouterr().err == ""
        try:  # anything else is still reported
            raise ValueError("a real bug")
        except ValueError:
            server.handle_error(None, ("127.0.0.1", 1))
        assert "a real bug" in capsys.readouterr().err
    finally:
        server.server_close()
