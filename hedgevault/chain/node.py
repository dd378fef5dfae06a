"""The chain the tools talk to: an embedded Anvil (default), any RPC URL, or an Anvil fork."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import requests
from web3 import Web3
from web3.providers.rpc import HTTPProvider

from hedgevault.errors import ChainError
from hedgevault.keys import ANVIL_MNEMONIC
from hedgevault.toolchain.paths import NODE_MODULES

_START_TIMEOUT_SEC = 30.0
#: Gas limit of the embedded node's blocks and eth_call: high enough for batched harness calls.
EMBEDDED_GAS_LIMIT = 1_000_000_000


def anvil_path() -> str:
    """The project's Anvil (``node_modules/.bin/anvil``), or one on PATH."""
    local = NODE_MODULES / ".bin" / "anvil"
    if local.exists():
        return str(local)
    found = shutil.which("anvil")
    if found is None:
        raise ChainError("anvil not found: run `make setup` (it installs @foundry-rs/anvil into node_modules)")
    return found


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Node:
    """A running node; ``process`` is set when hedgevault started it (and must stop it)."""

    url: str
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    _log_file: object | None = field(default=None, repr=False)

    def web3(self, timeout_sec: float = 120.0) -> Web3:
        return Web3(HTTPProvider(self.url, request_kwargs={"timeout": timeout_sec}))

    def stop(self) -> None:
        """Stop the node and its children (its process group); idempotent."""
        if self.process is not None and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                with suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        if self._log_file is not None:
            self._log_file.close()  # type: ignore[attr-defined]
            self._log_file = None


def wait_until_answers(url: str, timeout_sec: float, process: subprocess.Popen[bytes] | None) -> None:
    """Poll ``eth_chainId`` until the node answers; fail with the reason otherwise."""
    w3 = Web3(HTTPProvider(url, request_kwargs={"timeout": 2}))
    deadline = time.monotonic() + timeout_sec
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise ChainError(f"the node exited with code {process.returncode} before answering at {url}")
        try:
            _ = w3.eth.chain_id
            return
        except Exception:  # noqa: BLE001 - not up yet
            time.sleep(0.1)
    raise ChainError(f"no node answered at {url} within {timeout_sec:.0f} s")


def check_answers(url: str, timeout_sec: float = 5.0) -> None:
    """One ``eth_chainId`` to a node given by URL: a refused connection fails at once, a silent one within
    ``timeout_sec``, each with what to do."""
    if not url.startswith(("http://", "https://")):
        raise ChainError(f"{url!r} is not an HTTP(S) URL (write it like http://127.0.0.1:8545)")
    w3 = Web3(HTTPProvider(url, request_kwargs={"timeout": timeout_sec}))
    try:
        _ = w3.eth.chain_id
    except requests.exceptions.ConnectionError as exc:
        reason = "connection refused" if "refused" in str(exc).lower() else "cannot connect"
        raise ChainError(f"no node at {url} ({reason}): start one with `hedgevault node --port 8545`") from None
    except requests.exceptions.Timeout:
        raise ChainError(f"the node at {url} did not answer within {timeout_sec:.0f} s") from None
    except Exception as exc:  # noqa: BLE001 - anything else the endpoint says is not a JSON-RPC node
        raise ChainError(f"{url} does not answer as an Ethereum JSON-RPC node ({type(exc).__name__})") from None


def port_is_free(port: int) -> bool:
    """Nothing listens on ``port`` (a port a stopped node left in TIME_WAIT counts as free: the node binds it
    with SO_REUSEADDR, and so does this probe)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _port_and_log(port: int | None, log_dir: Path | None, kind: str) -> tuple[int, Path]:
    """The node's port (``port`` if free, else refused; None: a free one) and its log ``log_dir/KIND-PORT.log``."""
    if port is not None and not port_is_free(port):
        raise ChainError(f"port {port} is in use on 127.0.0.1: stop what listens there or choose another --port")
    port = port or free_port()
    return port, _log_path(log_dir, f"{kind}-{port}.log")


def _log_path(log_dir: Path | None, name: str) -> Path:
    """``log_dir/name`` (default folder: ``$TMPDIR/hedgevault-logs``), the folder created."""
    folder = log_dir or Path(tempfile.gettempdir()) / "hedgevault-logs"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


#: Anvil keeps the states of at most this many recent blocks, in memory only. Without it every mined block's
#: state is also persisted under ~/.foundry/anvil/tmp and never cleaned up (about 2 GB per 384-step
#: simulation; 73 GB had piled up on one machine). Calls at older blocks than that are refused by the node.
PRUNE_HISTORY = ("--prune-history", "128")


def start_anvil(
    *,
    fork_url: str | None = None,
    port: int | None = None,
    log_dir: Path | None = None,
    extra_args: Sequence[str] = (),
) -> Node:
    """Start Anvil on 127.0.0.1 (a free port unless given), keeping the last 128 states in memory
    (``PRUNE_HISTORY``); its log goes to ``log_dir/anvil-PORT.log``."""
    port, log_path = _port_and_log(port, log_dir, "anvil")
    args = [
        anvil_path(),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--gas-limit",
        str(EMBEDDED_GAS_LIMIT),
        *PRUNE_HISTORY,
    ]
    if fork_url:
        args += ["--fork-url", fork_url]
    args += list(extra_args)
    return _launch(args, port, log_path, _START_TIMEOUT_SEC)


def _launch(args: list[str], port: int, log_path: Path, timeout_sec: float) -> Node:
    """Start a node process in its own process group (so ``Node.stop`` stops its children too), its output
    appended to ``log_path``, and wait until it answers on ``port``."""
    log_file = log_path.open("ab")
    process = subprocess.Popen(args, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True)
    node = Node(url=f"http://127.0.0.1:{port}", process=process, log_path=log_path, _log_file=log_file)
    try:
        wait_until_answers(node.url, timeout_sec, process)
    except ChainError as exc:
        node.stop()
        raise ChainError(f"{exc}; see the log at {log_path}") from exc
    return node


def ganache_path() -> str:
    """The project's Ganache (``node_modules/.bin/ganache``, npm ``ganache`` 7.9.2)."""
    local = NODE_MODULES / ".bin" / "ganache"
    if not local.exists():
        raise ChainError("ganache not found: run `make setup` (it installs the npm package ganache into node_modules)")
    return str(local)


def start_ganache(
    *,
    port: int | None = None,
    log_dir: Path | None = None,
    chain_id: int = 1337,
    extra_args: Sequence[str] = (),
) -> Node:
    """Start Ganache 7 on 127.0.0.1 (a free port unless given): Shanghai rules, instant mining, 10 accounts of
    Anvil's development mnemonic with 10,000 ETH each, a 30M block gas limit; its log goes to
    ``log_dir/ganache-PORT.log``. Ganache has no Cancun opcodes (the contracts target Shanghai) and enforces
    the 24,576-byte code size limit (EIP-170) unless ``--chain.allowUnlimitedContractSize`` is passed."""
    port, log_path = _port_and_log(port, log_dir, "ganache")
    args = [
        ganache_path(),
        "--server.host",
        "127.0.0.1",
        "--server.port",
        str(port),
        "--chain.chainId",
        str(chain_id),
        "--chain.hardfork",
        "shanghai",
        "--wallet.mnemonic",
        ANVIL_MNEMONIC,  # so that the keys of ``hedgevault.keys.anvil_account`` are funded
        "--wallet.totalAccounts",
        "10",
        "--wallet.defaultBalance",
        "10000",
        "--miner.blockGasLimit",
        str(30_000_000),
        *extra_args,
    ]
    return _launch(args, port, log_path, 60.0)


@contextmanager
def local_node(
    *,
    rpc_url: str | None = None,
    fork_url: str | None = None,
    log_dir: Path | None = None,
    extra_args: Sequence[str] = (),
    port: int | None = None,
) -> Iterator[Node]:
    """Attach to ``rpc_url``, or start an embedded Anvil (a fork of ``fork_url`` if given; on ``port`` if given).

    An Anvil started here is stopped when the block exits, however it exits.
    """
    if rpc_url and fork_url:
        raise ChainError("give either --rpc-url (attach) or --fork-url (start a fork), not both")
    if rpc_url:
        check_answers(rpc_url)
        yield Node(url=rpc_url)
        return
    node = start_anvil(fork_url=fork_url, port=port, log_dir=log_dir, extra_args=extra_args)
    try:
        yield node
    finally:
        node.stop()


def latest_timestamp(w3: Web3) -> int:
    """Timestamp of the latest block: what a view called at ``latest`` sees."""
    return int(w3.eth.get_block("latest")["timestamp"])


def warp(w3: Web3, seconds: int) -> None:
    """Mine a block ``seconds`` after the latest one (local nodes: Anvil, Ganache).

    Anvil: ``evm_setNextBlockTimestamp`` then ``evm_mine``. Ganache 7 has no ``evm_setNextBlockTimestamp``:
    there ``evm_setTime`` moves its clock (later blocks follow from there, so time never runs backwards) and
    ``evm_mine`` mines at it; a Ganache block may then be up to a second later than asked (its clock runs on).
    """
    target = latest_timestamp(w3) + seconds
    answer = _rpc(w3, "evm_setNextBlockTimestamp", [target])
    if "error" in answer:
        if not is_ganache(w3):
            raise ChainError(
                f"the node refused evm_setNextBlockTimestamp: {answer['error']}; warp needs Anvil or Ganache"
            )
        _rpc_checked(w3, "evm_setTime", [target * 1000])
    _rpc_checked(w3, "evm_mine", [])


def is_ganache(w3: Web3) -> bool:
    """True when the node is Ganache (``web3_clientVersion`` starts with ``Ganache``)."""
    return str(w3.client_version).startswith("Ganache")


def _rpc(w3: Web3, method: str, params: list[object]) -> dict[str, object]:
    return dict(w3.provider.make_request(method, params))  # type: ignore[arg-type]


def _rpc_checked(w3: Web3, method: str, params: list[object]) -> dict[str, object]:
    answer = _rpc(w3, method, params)
    if "error" in answer:
        raise ChainError(f"the node refused {method}: {answer['error']}")
    return answer


def freeze_clock(w3: Web3) -> None:
    """Anvil only: new blocks keep the latest block's timestamp instead of following the wall clock,
    so a bound read from a view (quoteSell, maxWithdraw) holds exactly for the next transaction however
    slow the machine is; time moves only through ``warp``."""
    w3.provider.make_request("anvil_setBlockTimestampInterval", [0])  # type: ignore[arg-type]


def unfreeze_clock(w3: Web3) -> None:
    """Undo ``freeze_clock``: new blocks follow the wall clock again (from the latest block's time on)."""
    w3.provider.make_request("anvil_removeBlockTimestampInterval", [])  # type: ignore[arg-type]
