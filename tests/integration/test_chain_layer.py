"""The chain layer (``hedgevault.chain``: rpc, abi, sending) against the session Anvil: batched reads with a
revert per call decoded into the custom error and its arguments in user units, a node that is down reported at
once, fee caps refused before anything is signed, signed sends and their receipts (single and batched), and a
mined revert raised with its decoded reason."""

from __future__ import annotations

import socket
import time

import pytest
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractCustomError
from web3.providers.rpc import HTTPProvider

from hedgevault.chain import free_port
from hedgevault.chain.abi import AbiFunction, Call, artifact_abi
from hedgevault.chain.rpc import Revert, Reverted, Rpc, RpcUnavailable
from hedgevault.chain.sending import (
    FeeCapTooLow,
    Fees,
    Signer,
    TransactionReverted,
    TxRequest,
    capped_fees,
    send,
    send_signed,
)
from hedgevault.greeks.onchain import GreeksHarness
from hedgevault.keys import anvil_account
from hedgevault.reverts import error_name_of
from hedgevault.toolchain.compiler import compile_project
from hedgevault.toolchain.deploy import deploy

WAD = 10**18
#: Inputs the harness prices: spot 3,000, strike 3,000, 30 days, 60% vol, zero rate.
GOOD = (3000 * WAD, 3000 * WAD, 30 * 86_400, 6 * WAD // 10, 0)


@pytest.fixture(scope="module")
def token(w3: Web3, deployer: str) -> Contract:
    """A 6-decimals ERC-20 (OpenZeppelin 5: ``ERC20InsufficientBalance`` on an overdraft)."""
    return deploy(w3, compile_project()["MockERC20"], "Chain", "CHN", 6, sender=deployer)


def test_batch_keeps_each_calls_revert_decoded_in_user_units(w3: Web3, harness: GreeksHarness) -> None:
    rpc = Rpc(w3)
    c = harness.contract
    bad = (*GOOD[:3], 1, 0)  # volWad = 1 wei of a wad: VolatilityOutOfRange(volWad=1)
    calls = [Call(c, "price", GOOD), Call(c, "price", bad), Call(c, "delta", GOOD)]
    first, refused, third = rpc.results(calls)
    assert first == tuple(c.functions.price(*GOOD).call())  # outputs decoded as web3 decodes them
    assert third == tuple(c.functions.delta(*GOOD).call())
    assert isinstance(refused, Revert)
    assert refused.name == "VolatilityOutOfRange"
    assert refused.text == "VolatilityOutOfRange(volWad=1)"  # raw units
    assert refused.describe(quote_decimals=6) == "VolatilityOutOfRange(volWad=0.000000000000000001)"  # user units
    # all or nothing: the revert is raised, named
    with pytest.raises(Reverted) as caught:
        rpc.calls(calls)
    assert caught.value.name == "VolatilityOutOfRange"
    # the same read through the compiled-ABI helper the keeper uses: one request, same answers
    price = AbiFunction.of(artifact_abi("BlackScholesHarness"), "price")
    raw = rpc.eth_calls([(c.address, price.calldata(*GOOD)), (c.address, price.calldata(*bad))])
    assert raw[0].output is not None and price.decode_output(raw[0].output) == first
    assert raw[1].revert == refused
    # and through web3's exception, as the keeper's portfolio reads see it: the same name
    with pytest.raises(ContractCustomError) as web3_error:
        c.functions.price(*bad).call()
    assert error_name_of(web3_error.value) == "VolatilityOutOfRange"


def test_quote_amounts_read_as_tokens(w3: Web3) -> None:
    """``ProceedsBelowMin`` carries quote amounts: with the quote's decimals they read as tokens."""
    data = Web3.keccak(text="ProceedsBelowMin(uint256,uint256)")[:4] + (24_728_098).to_bytes(32, "big")
    data += (100_000_000).to_bytes(32, "big")
    revert = Revert.of_data(data)
    assert revert.name == "ProceedsBelowMin"
    assert revert.describe(quote_decimals=6) == "ProceedsBelowMin(proceeds=24.728098, minProceeds=100)"
    assert revert.describe() == "ProceedsBelowMin(proceeds=24728098, minProceeds=100000000)"


@pytest.mark.parametrize("retrying", [False, True], ids=["no-retries", "web3-default-retries"])
def test_refused_connection_is_unavailable_at_once(retrying: bool) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    rpc = Rpc(Web3(HTTPProvider(url))) if retrying else Rpc.connect(url)
    started = time.monotonic()
    with pytest.raises(RpcUnavailable, match="node not answering"):
        rpc.head()
    with pytest.raises(RpcUnavailable):
        rpc.batch([("eth_blockNumber", []), ("eth_chainId", [])])
    assert time.monotonic() - started < 1.0


def test_silent_node_is_unavailable_after_one_timeout() -> None:
    """A node that accepts the connection and never answers: one timeout, not web3's six (it retries a read
    that timed out five times with backoff: about 2.2 s here)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # connections queue in the backlog; nobody accepts or answers
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        rpc = Rpc(Web3(HTTPProvider(url, request_kwargs={"timeout": 0.3})))
        started = time.monotonic()
        with pytest.raises(RpcUnavailable, match="Timeout"):
            rpc.head()
        assert time.monotonic() - started < 1.0


def test_fee_cap_rule() -> None:
    assert capped_fees(base_fee_wei=10, priority_fee_wei=3, fee_cap_wei=None) == Fees(23, 3)
    assert capped_fees(base_fee_wei=10, priority_fee_wei=3, fee_cap_wei=23) == Fees(23, 3)
    assert capped_fees(base_fee_wei=10, priority_fee_wei=3, fee_cap_wei=13) == Fees(13, 3)  # just enough
    with pytest.raises(FeeCapTooLow, match="fee cap 12 wei/gas is below the base fee 10 \\+ tip 3"):
        capped_fees(base_fee_wei=10, priority_fee_wei=3, fee_cap_wei=12)


def test_fee_cap_below_base_fee_is_refused_before_sending(w3: Web3, token: Contract) -> None:
    account = anvil_account(6)
    rpc = Rpc(w3)
    base_fee = rpc.head().base_fee_wei
    assert base_fee > 0
    nonce = rpc.nonce(account.address, "pending")
    for cap in (base_fee - 1, base_fee + 10**9 - 1):  # below the base fee; below base fee + tip
        with pytest.raises(FeeCapTooLow, match="fee cap"):
            send_signed(
                w3, token.functions.mint(account.address, 1), account, max_fee_cap_wei=cap, priority_fee_wei=10**9
            )
    assert rpc.nonce(account.address, "pending") == nonce  # nothing signed, nothing sent
    receipt = send_signed(
        w3, token.functions.mint(account.address, 1), account, max_fee_cap_wei=base_fee + 10**9, priority_fee_wei=10**9
    )
    assert receipt["status"] == 1
    assert int(w3.eth.get_transaction(receipt["transactionHash"])["maxFeePerGas"]) == base_fee + 10**9


def test_signed_send_and_receipts_single_and_batched(w3: Web3, token: Contract) -> None:
    account = anvil_account(5)
    rpc = Rpc(w3)
    signer = Signer(rpc, account)
    assert signer.chain_id == w3.eth.chain_id
    mint = AbiFunction.of(artifact_abi("MockERC20"), "mint")
    transfer = AbiFunction.of(artifact_abi("MockERC20"), "transfer")
    base_fee = rpc.head().base_fee_wei
    fees = capped_fees(base_fee_wei=base_fee, priority_fee_wei=10**9, fee_cap_wei=None)
    nonce = signer.nonce("pending")
    ok = signer.send(TxRequest(token.address, mint.calldata(account.address, 7), 100_000), nonce, fees)
    receipt = rpc.wait_receipt(ok)
    assert int(receipt["status"], 16) == 1
    assert receipt["from"].lower() == account.address.lower()
    assert int(receipt["type"], 16) == 2
    assert token.functions.balanceOf(account.address).call() == 7
    # an overdraft with a fixed gas limit is mined and reverts
    overdraft = TxRequest(token.address, transfer.calldata(anvil_account(4).address, 8), 100_000)
    failed = signer.send(overdraft, nonce + 1, fees)
    rpc.wait_receipt(failed)
    unknown = "0x" + "ab" * 32
    statuses = rpc.tx_statuses([ok, failed, unknown])
    assert [(s.known, s.mined, s.success) for s in statuses] == [
        (True, True, True),
        (True, True, False),
        (False, False, False),
    ]
    assert statuses[0].gas_used == int(receipt["gasUsed"], 16)
    # why it reverted, replayed on the state before its block (not the latest: the account is richer now), decoded
    send(w3, token.functions.mint(account.address, 100), str(w3.eth.accounts[0]))
    why = rpc.replay(failed)
    assert why.name == "ERC20InsufficientBalance"
    assert why.text == f"ERC20InsufficientBalance(sender={account.address}, balance=7, needed=8)"


def test_reverted_send_raises_with_the_decoded_reason(w3: Web3, token: Contract, deployer: str) -> None:
    poor = str(w3.eth.accounts[3])
    send(w3, token.functions.mint(poor, 5), deployer)
    # unlocked account, gas given (no estimate): mined, reverted, decoded
    with pytest.raises(TransactionReverted) as caught:
        send(w3, token.functions.transfer(deployer, 6), poor, gas=100_000)
    assert caught.value.revert.name == "ERC20InsufficientBalance"
    assert f"reverted: ERC20InsufficientBalance(sender={poor}, balance=5, needed=6)" in str(caught.value)
    # signed locally: the same
    account = anvil_account(5)
    with pytest.raises(TransactionReverted, match=r"ERC20InsufficientBalance\(sender=0x[0-9a-fA-F]{40}, balance="):
        send_signed(w3, token.functions.transfer(deployer, 10**30), account, gas=100_000)
    assert token.functions.balanceOf(poor).call() == 5


def test_replay_of_a_transaction_still_in_the_pool_says_so(w3: Web3, token: Contract) -> None:
    """A hash the node holds but has not mined: nothing to replay, said in words (it used to fail on the
    missing block number with a TypeError)."""
    account = anvil_account(7)
    rpc = Rpc(w3)
    signer = Signer(rpc, account)
    fees = capped_fees(base_fee_wei=rpc.head().base_fee_wei, priority_fee_wei=10**9, fee_cap_wei=None)
    request = TxRequest(
        token.address, AbiFunction.of(artifact_abi("MockERC20"), "mint").calldata(account.address, 1), 100_000
    )
    pending = ""
    rpc.request("evm_setAutomine", [False])
    try:
        pending = signer.send(request, signer.nonce("pending"), fees)
        why = rpc.replay(pending)
        assert (why.name, why.text) == ("unknown", f"transaction {pending} is not mined yet: nothing to replay")
        # given the block (as `send` does from the receipt: Anvil can answer a mined hash from its pool for an
        # instant, without a block number), it replays there and never reads the record's block
        replayed = rpc.replay(pending, rpc.block_number() + 1)
        assert replayed.text == "reverted, but not when replayed on the state before its block"  # a mint succeeds
    finally:
        if pending:
            rpc.request("anvil_dropTransaction", [pending])
        rpc.request("evm_setAutomine", [True])
    assert rpc.request("eth_getTransactionByHash", [pending]) is None
