"""Signing secrets sealed under a key kept outside the database, and where that key comes from."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from outbound.secret_box import SecretBox, SecretKeyMismatch, load_key

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def test_a_sealed_secret_opens_with_its_key() -> None:
    box = SecretBox(Fernet.generate_key().decode())
    sealed = box.seal(SECRET)
    assert SECRET not in sealed
    assert box.open(sealed) == SECRET


def test_sealing_twice_gives_two_texts() -> None:
    box = SecretBox(Fernet.generate_key().decode())
    assert box.seal(SECRET) != box.seal(SECRET)


def test_another_key_cannot_open_it_and_the_error_names_the_setting_only() -> None:
    key, other = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    sealed = SecretBox(key).seal(SECRET)
    with pytest.raises(SecretKeyMismatch, match="INCIDENTS_SECRET_KEY") as raised:
        SecretBox(other).open(sealed)
    message = str(raised.value)
    for hidden in (key, other, SECRET, sealed):
        assert hidden not in message
    assert raised.value.__cause__ is None
    assert raised.value.__suppress_context__


@pytest.mark.parametrize("sealed", ["", "not a token", "gAAAAA" + "x" * 80, "caf\u00e9"])
def test_a_text_that_is_no_sealed_secret_does_not_open(sealed: str) -> None:
    with pytest.raises(SecretKeyMismatch):
        SecretBox(Fernet.generate_key().decode()).open(sealed)


def test_the_box_does_not_show_its_key() -> None:
    key = Fernet.generate_key().decode()
    box = SecretBox(key)
    assert key not in repr(box)
    assert key not in str(box)
    assert not hasattr(box, "__dict__")


def test_the_configured_key_is_used(tmp_path: Path) -> None:
    key = Fernet.generate_key().decode()
    assert load_key(f" {key}\n", tmp_path / "key") == key
    assert not (tmp_path / "key").exists()


@pytest.mark.parametrize("configured", ["hunter2-not-a-key", "x" * 44, "caf\u00e9" * 11])
def test_a_configured_key_that_is_no_fernet_key_is_refused_without_echoing_it(
    configured: str, tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match="INCIDENTS_SECRET_KEY") as raised:
        load_key(configured, tmp_path / "key")
    assert configured not in str(raised.value)
    assert raised.value.__cause__ is None
    assert not (tmp_path / "key").exists()


def test_the_box_refuses_a_bad_key_the_same_way() -> None:
    with pytest.raises(ValueError, match="INCIDENTS_SECRET_KEY") as raised:
        SecretBox("hunter2-not-a-key")
    assert "hunter2" not in str(raised.value)


@pytest.mark.parametrize("configured", [None, "", "  "])
def test_without_a_configured_key_a_key_file_is_made_0600_and_reused(
    configured: str | None, tmp_path: Path
) -> None:
    key_file = tmp_path / "state" / "keys" / "secret.key"
    key = load_key(configured, key_file)
    Fernet(key)  # a valid key
    assert key_file.read_text().strip() == key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert load_key(configured, key_file) == key
    assert os.listdir(key_file.parent) == ["secret.key"]  # no temporary file left behind


def test_the_key_file_is_private_whatever_the_umask(tmp_path: Path) -> None:
    before = os.umask(0)
    try:
        load_key(None, tmp_path / "secret.key")
    finally:
        os.umask(before)
    assert stat.S_IMODE((tmp_path / "secret.key").stat().st_mode) == 0o600


def test_a_key_file_that_exists_already_wins_over_a_new_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = tmp_path / "secret.key"
    first = Fernet.generate_key().decode()
    key_file.write_text(first + "\n")
    # As when another process linked its key in between this one's check and its link.
    monkeypatch.setattr(Path, "exists", lambda _: False)
    assert load_key(None, key_file) == first
    assert os.listdir(tmp_path) == ["secret.key"]


def test_processes_starting_together_agree_on_one_key(tmp_path: Path) -> None:
    key_file = tmp_path / "secret.key"
    start = threading.Barrier(8)
    keys: list[str] = []

    def load() -> None:
        start.wait()
        keys.append(load_key(None, key_file))

    threads = [threading.Thread(target=load) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(keys) == 8
    assert set(keys) == {key_file.read_text().strip()}


def test_a_key_file_that_holds_no_key_is_refused_without_echoing_it(tmp_path: Path) -> None:
    key_file = tmp_path / "secret.key"
    key_file.write_text("hunter2-not-a-key\n")
    with pytest.raises(ValueError, match="key file") as raised:
        load_key(None, key_file)
    assert "hunter2" not in str(raised.value)


def test_a_secret_sealed_under_the_key_file_opens_after_a_restart(tmp_path: Path) -> None:
    key_file = tmp_path / "secret.key"
    sealed = SecretBox(load_key(None, key_file)).seal(SECRET)
    assert SecretBox(load_key(None, key_file)).open(sealed) == SECRET
