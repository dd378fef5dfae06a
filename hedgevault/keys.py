"""Signing keys: an encrypted keystore (eth-account) or an environment variable; never a file in the
repository. Anvil's well-known development keys are here for local chains and tests only."""

from __future__ import annotations

import getpass
import json
import os
import sys
from functools import cache
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from hedgevault.errors import SigningKeyError
from hedgevault.toolchain.paths import PROJECT_ROOT

#: Anvil's (and Hardhat's) public development mnemonic: its keys hold nothing on any real chain.
ANVIL_MNEMONIC = "test test test test test test test test test test test junk"
#: Chain ids of local development nodes (Anvil, Hardhat: 31337; Ganache: 1337), where the dev keys may sign.
DEV_CHAIN_IDS = frozenset({31337, 1337})
DEFAULT_KEY_ENV = "HEDGEVAULT_PRIVATE_KEY"
DEFAULT_PASSWORD_ENV = "HEDGEVAULT_KEYSTORE_PASSWORD"


@cache
def anvil_account(index: int) -> LocalAccount:
    """Anvil's development account ``index`` (0-9 are funded on a fresh Anvil). Local chains only."""
    if not 0 <= index < 1000:
        raise SigningKeyError(f"anvil account index must be in 0..999, got {index}")
    Account.enable_unaudited_hdwallet_features()
    account: LocalAccount = Account.from_mnemonic(ANVIL_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}")
    return account


def _inside_repository(path: Path) -> bool:
    return path.resolve().is_relative_to(PROJECT_ROOT)


def _from_keystore(keystore: Path, password_env: str) -> LocalAccount:
    if _inside_repository(keystore):
        raise SigningKeyError(
            f"keystore {keystore} is inside the repository ({PROJECT_ROOT}); keep keys outside the checkout "
            "(e.g. ~/.hedgevault/keystore.json) so they can never be committed"
        )
    try:
        encrypted = json.loads(keystore.read_text())
    except FileNotFoundError:
        raise SigningKeyError(f"keystore {keystore} does not exist") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise SigningKeyError(f"keystore {keystore} is not a readable JSON keystore: {exc}") from None
    password = os.environ.get(password_env)
    if password is None:
        if not sys.stdin.isatty():
            raise SigningKeyError(f"set {password_env} to the keystore's password (no terminal to ask on)")
        password = getpass.getpass(f"password for {keystore}: ")
    try:
        key = Account.decrypt(encrypted, password)
    except ValueError:
        raise SigningKeyError(f"wrong password for keystore {keystore} (from {password_env} or the prompt)") from None
    account: LocalAccount = Account.from_key(key)
    return account


def _from_env(key_env: str) -> LocalAccount:
    raw = os.environ.get(key_env)
    if not raw:
        raise SigningKeyError(
            f"no signing key: set {key_env} to a hex private key, or pass --keystore PATH (password in "
            f"{DEFAULT_PASSWORD_ENV}); on the embedded Anvil use --anvil-account N"
        )
    text = raw.strip().removeprefix("0x")
    if len(text) != 64 or any(c not in "0123456789abcdefABCDEF" for c in text):
        raise SigningKeyError(f"{key_env} is not a private key: expected 64 hex digits (optionally 0x-prefixed)")
    account: LocalAccount = Account.from_key(bytes.fromhex(text))
    return account


def load_account(
    *,
    keystore: Path | None = None,
    key_env: str = DEFAULT_KEY_ENV,
    password_env: str = DEFAULT_PASSWORD_ENV,
) -> LocalAccount:
    """The signing account: from ``keystore`` (an eth-account JSON keystore outside the repository, its
    password from ``password_env`` or a prompt) when given, else from the hex key in ``key_env``."""
    if keystore is not None:
        return _from_keystore(keystore, password_env)
    return _from_env(key_env)
