"""The local cloud's state folder: the signing secret survives a restart, kept for its user only."""

from __future__ import annotations

import stat

import pytest

from demo.localcloud import state


def test_the_secret_is_created_once_then_read_again(tmp_path):
    folder = tmp_path / ".bankdemo"
    first = state.signing_secret(folder)
    assert state.signing_secret(folder) == first and len(first) == 64
    assert stat.S_IMODE((folder / state.KEPT_AS).stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_a_rotated_secret_kept_at_a_clean_stop_is_the_one_read_next(tmp_path):
    state.signing_secret(tmp_path)
    state.keep(tmp_path, "ab" * 32)
    assert state.signing_secret(tmp_path) == "ab" * 32


@pytest.mark.parametrize("content", ["", "not a secret", "AB" * 32, "ab" * 33])
def test_a_file_that_holds_no_secret_is_refused_and_left_as_it_is(tmp_path, content):
    (tmp_path / state.KEPT_AS).write_text(content)
    with pytest.raises(state.BadState, match="remove it"):
        state.signing_secret(tmp_path)
    assert (tmp_path / state.KEPT_AS).read_text() == content
