"""Signing keys: environment variable, encrypted keystore outside the repository, Anvil dev keys."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eth_account import Account

from hedgevault.errors import SigningKeyError
from hedgevault.keys import anvil_account, load_account
from hedgevault.toolchain.paths import PROJECT_ROOT

KEY = "0x" + "11" * 32


def test_anvil_accounts_are_the_well_known_ones() -> None:
    # Anvil prints these addresses for accounts 0 and 1 at start-up
    assert anvil_account(0).address == "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
    assert anvil_account(1).address == "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


def test_key_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HV_TEST_KEY", KEY)
    assert load_account(key_env="HV_TEST_KEY").address == Account.from_key(KEY).address


@pytest.mark.parametrize("value", ["", "0x1234", "zz" * 32])
def test_bad_or_missing_key_says_what_to_do(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("HV_TEST_KEY", value)
    with pytest.raises(SigningKeyError, match="HV_TEST_KEY") as err:
        load_account(key_env="HV_TEST_KEY")
    assert "11" * 32 not in str(err.value)


def test_keystore_outside_the_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    keystore = tmp_path / "key.json"
    keystore.write_text(json.dumps(Account.encrypt(KEY, "pw", iterations=2)))
    monkeypatch.setenv("HV_TEST_PW", "pw")
    assert load_account(keystore=keystore, password_env="HV_TEST_PW").address == Account.from_key(KEY).address
    monkeypatch.setenv("HV_TEST_PW", "wrong")
    with pytest.raises(SigningKeyError, match="wrong password"):
        load_account(keystore=keystore, password_env="HV_TEST_PW")


def test_keystore_inside_the_repository_is_refused() -> None:
    with pytest.raises(SigningKeyError, match="inside the repository"):
        load_account(keystore=PROJECT_ROOT / "deployments" / "key.json")


def test_missing_keystore(tmp_path: Path) -> None:
    with pytest.raises(SigningKeyError, match="does not exist"):
        load_account(keystore=tmp_path / "none.json")
