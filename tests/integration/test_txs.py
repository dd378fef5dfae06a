"""Locally signed EIP-1559 transactions (hedgevault.txs.send_signed) on the session Anvil."""

from __future__ import annotations

import pytest
from web3 import Web3
from web3.exceptions import ContractCustomError, ContractLogicError

from hedgevault.errors import TransactionError
from hedgevault.keys import anvil_account
from hedgevault.toolchain.compiler import compile_project
from hedgevault.txs import eip1559_fees, send_signed


def test_deploy_and_call_signed_locally(w3: Web3) -> None:
    account = anvil_account(7)
    artifact = compile_project()["MockERC20"]
    factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    receipt = send_signed(w3, factory.constructor("Signed", "SGN", 6), account)
    token = w3.eth.contract(address=receipt["contractAddress"], abi=artifact.abi)
    receipt = send_signed(w3, token.functions.mint(account.address, 5), account)
    assert receipt["type"] == 2  # EIP-1559
    assert receipt["from"] == account.address
    assert token.functions.balanceOf(account.address).call() == 5
    # a call that would revert fails while estimating gas: nothing is sent
    nonce = w3.eth.get_transaction_count(account.address)
    with pytest.raises((ContractCustomError, ContractLogicError)):
        send_signed(w3, token.functions.transfer(anvil_account(8).address, 6), account)
    assert w3.eth.get_transaction_count(account.address) == nonce


def test_fee_cap_below_the_base_fee_is_refused(w3: Web3) -> None:
    base_fee = int(w3.eth.get_block("latest")["baseFeePerGas"])
    with pytest.raises(TransactionError, match="fee cap"):
        eip1559_fees(w3, priority_fee_wei=10**9, max_fee_cap_wei=base_fee + 10**9 - 1)
    max_fee, tip = eip1559_fees(w3, priority_fee_wei=10**9, max_fee_cap_wei=base_fee + 10**9)
    assert (max_fee, tip) == (base_fee + 10**9, 10**9)
