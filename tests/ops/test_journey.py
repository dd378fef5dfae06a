"""A new user's whole journey with `hedgevault` commands only, against `hedgevault node` (a real process on a
fixed port): deploy, faucet, list a call and a put, post vols, deposit, buy, sell part, status and positions,
warp past expiry, settle, claim, withdraw all, each effect checked. Then a table of bad inputs across the
commands: each exits 2 with a one-line message and no traceback, and `status --json` is unchanged after all.

The commands run in-process (``hedgevault.cli.main``, what the console script calls); a few run as real
processes too, to check exit codes and stderr as a shell sees them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from hedgevault.chain import check_answers, free_port
from hedgevault.cli import main
from hedgevault.errors import ChainError

ALICE, BOB, CAROL = 1, 2, 3  # Anvil's dev accounts: a depositor, a buyer, a lister/settler
ALICE_ADDRESS = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8"  # all lowercase on purpose: accepted


@pytest.fixture(scope="module")
def node_url() -> Iterator[str]:
    """`hedgevault node --port P` as a process, stopped (SIGTERM) when the module ends."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "hedgevault.cli", "node", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert f"Anvil listening at http://127.0.0.1:{port}" in line, line + (proc.stderr.read() if proc.stderr else "")
    yield f"http://127.0.0.1:{port}"
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)


@pytest.fixture(scope="module")
def env(node_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    manifest = tmp_path_factory.mktemp("journey") / "manifest.json"
    assert main(["deploy", "--rpc-url", node_url, "--manifest", str(manifest)]) == 0
    return {"url": node_url, "manifest": str(manifest)}


def hv(capsys: pytest.CaptureFixture[str], env: dict[str, str], *argv: str, code: int = 0) -> str:
    """Run `hedgevault ARGV --rpc-url URL --manifest M` in-process; assert its exit code; return stdout."""
    capsys.readouterr()
    got = main([*argv, "--rpc-url", env["url"], "--manifest", env["manifest"]])
    out, err = capsys.readouterr()
    assert got == code, (argv, got, out, err)
    return out


def hv_json(capsys: pytest.CaptureFixture[str], env: dict[str, str], *argv: str) -> Any:
    return json.loads(hv(capsys, env, *argv, "--json"))


def test_the_whole_journey_with_hedgevault_commands_only(
    capsys: pytest.CaptureFixture[str], env: dict[str, str]
) -> None:
    # the faucet: nobody holds quote after a fresh deploy
    minted = hv_json(capsys, env, "faucet", "--to", ALICE_ADDRESS, "--quote", "100000")
    assert Decimal(minted["quote"]["balance"]) >= 100_000
    hv_json(capsys, env, "faucet", "--anvil-account", str(BOB), "--quote", "5000")

    # the operator lists a call and a put of the same expiry and posts their volatility
    call = hv_json(
        capsys, env, "list-series", "--anvil-account", "0", "--expiry", "+7d", "--strike", "3000", "--type", "call"
    )
    put = hv_json(
        capsys, env, "list-series", "--anvil-account", "0", "--expiry", "+7d", "--strike", "2800", "--type", "put"
    )
    assert call["expiry"] == put["expiry"] and call["series"] + 1 == put["series"]
    assert call["expiry"] % 86_400 == 8 * 3600  # a relative expiry lands on 08:00 UTC
    # the first listing prepared the expiry's oracle storage (its first post rewrites slots instead of creating
    # them); the second strike shares the first one's slot: nothing more to prepare
    assert call["prepared"]["strikes"] == 1 and call["prepared"]["tx"].startswith("0x")
    assert put["prepared"] == {"strikes": 2, "tx": None}
    hv_json(capsys, env, "post-vol", "--anvil-account", "0", "--series", str(call["series"]), "--vol", "0.8")
    rows = {r["id"]: r for r in json.loads(hv(capsys, env, "series", "--json"))}
    assert rows[call["series"]]["iv"] == "0.8" and rows[put["series"]]["iv"] == "0.8"
    assert Decimal(rows[call["series"]]["bid"]) < Decimal(rows[call["series"]]["ask"])

    # a deposit (previewed first), a buy, a partial sale back
    preview = hv_json(capsys, env, "deposit", "--anvil-account", str(ALICE), "--amount", "50000", "--dry-run")
    assert preview["dry_run"] is True and Decimal(preview["shares"]) > 0
    deposited = hv_json(capsys, env, "deposit", "--anvil-account", str(ALICE), "--amount", "50000")
    assert deposited["assets"] == "50000" and deposited["tx"].startswith("0x")
    assert Decimal(deposited["shares"]) == Decimal(preview["shares"])  # the preview was exact (same block state)
    bought = hv_json(capsys, env, "buy", "--anvil-account", str(BOB), "--series", str(call["series"]), "--amount", "2")
    assert bought["amount"] == "2" and Decimal(bought["premium"]) > 0
    sold = hv_json(capsys, env, "sell", "--anvil-account", str(BOB), "--series", str(call["series"]), "--amount", "0.5")
    assert sold["amount"] == "0.5" and Decimal(sold["proceeds"]) < Decimal(bought["premium"])

    status = hv_json(capsys, env, "status", "--account", ALICE_ADDRESS)
    assert status
    held = hv_json(capsys, env, "positions", "--anvil-account", str(BOB))
    assert [(o["id"], o["amount"]) for o in held["options"]] == [(call["series"], "1.5")]

    # past the expiry: a feed round after it, settlement, the claim, then everything out
    hv_json(capsys, env, "warp", "--by", "8d")
    hv_json(capsys, env, "set-price", "--price", "3300", "--move-pool")
    settled = hv_json(capsys, env, "settle", "--anvil-account", str(CAROL))
    assert settled["expiry"] == call["expiry"] and settled["price"] == "3300"
    held = hv_json(capsys, env, "positions", "--anvil-account", str(BOB))
    (option,) = held["options"]
    assert option["claimable"] == "450"  # 1.5 x (3300 - 3000)
    before = Decimal(held["quote_balance"])
    claimed = hv_json(capsys, env, "claim", "--anvil-account", str(BOB), "--series", str(call["series"]))
    assert claimed["payout"] == "450"
    after = hv_json(capsys, env, "positions", "--anvil-account", str(BOB))
    assert Decimal(after["quote_balance"]) == before + 450 and after["options"] == []
    # the pool moved with the price: right now its TWAP lags the feed, and the vault fails closed (it says so)
    capsys.readouterr()
    assert (
        main(
            ["withdraw", "--anvil-account", str(ALICE), "--all", "--rpc-url", env["url"], "--manifest", env["manifest"]]
        )
        == 2
    )
    assert "TwapDeviation" in capsys.readouterr().err
    hv_json(capsys, env, "warp", "--by", "15m")  # past the 10-minute TWAP window
    out = hv_json(capsys, env, "withdraw", "--anvil-account", str(ALICE), "--all")
    assert Decimal(out["assets"]) > 0
    alice = hv_json(capsys, env, "positions", "--account", ALICE_ADDRESS)
    assert alice["shares"] == "0"


#: (argv, a fragment of the one-line message). Every one exits 2; none sends anything.
BAD_INPUTS: list[tuple[list[str], str]] = [
    (["buy", "--series", "-1", "--amount", "1"], "negative"),
    (["buy", "--series", "1" * 80, "--amount", "1"], "above the largest series id"),
    (["buy", "--series", "x", "--amount", "1"], "not a whole number"),
    (["buy", "--series", "1", "--amount", "-1"], "must be > 0"),
    (["buy", "--series", "1", "--amount", "0"], "must be > 0"),
    (["buy", "--series", "1", "--amount", "nan"], "not a finite number"),
    (["buy", "--series", "1", "--amount", "1", "--max-premium", "-5"], "--max-premium must be >= 0"),
    (["buy", "--series", "1", "--amount", "1", "--slippage-bps", "20000"], "above the largest"),
    (["buy", "--series", "999", "--amount", "1", "--anvil-account", "2"], "UnknownSeries"),
    (["buy", "--series", "1", "--amount", "1", "--anvil-account", "12"], "above the largest account index"),
    (["buy", "--series", "1", "--amount", "1", "--receiver", "vitalik.eth"], "looks like a name"),
    (["buy", "--series", "1", "--amount", "1", "--receiver", "0x1234"], "is not an address"),
    (
        ["buy", "--series", "1", "--amount", "1", "--receiver", "0x70997970C51812dc3A010C7d01b50e0d17dc79c8"],
        "wrong checksum",
    ),
    (["sell", "--series", "1", "--amount", "1", "--min-proceeds", "-5"], "--min-proceeds must be >= 0"),
    (["sell", "--series", "-3", "--amount", "1"], "negative"),
    (["sell", "--series", "1", "--amount", "1e400x"], "not a number"),
    (["deposit", "--amount", "-5"], "must be > 0"),
    (["deposit", "--amount", "abc"], "not a number"),
    (["deposit", "--amount", "inf"], "not a finite number"),
    (["deposit", "--amount", "1.0000001", "--anvil-account", "1"], "more than 6 decimals"),
    (["deposit", "--amount", "10", "--anvil-account", "7"], "holds 0 tUSD"),
    (["deposit", "--amount", "10", "--receiver", "not-an-address"], "is not an address"),
    (["withdraw", "--amount", "5", "--all"], "not allowed with argument"),
    (["withdraw"], "one of the arguments --amount --all is required"),
    (["withdraw", "--amount", "-1"], "must be > 0"),
    (["withdraw", "--amount", "10", "--anvil-account", "8"], "at most 0 tUSD"),
    (["claim", "--series", "-1"], "negative"),
    (["claim", "--series", "99", "--anvil-account", "2"], "UnknownSeries"),
    (["status", "--account", "0xZZ97970c51812dc3a010c7d01b50e0d17dc79c8"], "is not an address"),
    (["status", "--account", "alice.eth"], "looks like a name"),
    (["positions"], "give --account"),
    (["positions", "--account", "0x12"], "is not an address"),
    (["series", "--bogus"], "unrecognized arguments"),
    (["faucet", "--quote", "-1"], "must be > 0"),
    (["faucet"], "give --quote"),
    (["faucet", "--quote", "10", "--to", "bob.eth"], "looks like a name"),
    (["set-price", "--price", "0"], "must be > 0"),
    (["set-price", "--price", "abc"], "not a number"),
    (["warp", "--by", "-5"], "not a whole, non-negative"),
    (["warp", "--by", "1h", "--to", "2030-01-01"], "exactly one of --by"),
    (["warp", "--to", "2001-01-01"], "time only moves forward"),
    (["warp", "--to", "next tuesday"], "is not a time"),
    (["mine", "--blocks", "-1"], "negative"),
    (["list-series", "--expiry", "+7d", "--strike", "-3000", "--type", "call"], "must be > 0"),
    (["list-series", "--expiry", "+7d", "--strike", "3000", "--type", "straddle"], "invalid choice"),
    (["list-series", "--expiry", "yesterday", "--strike", "3000", "--type", "call"], "is not a time"),
    (["list-series", "--expiry", "+7d", "--strike", "3000", "--type", "call", "--anvil-account", "5"], "AccessControl"),
    (["post-vol", "--series", "1", "--expiry", "+7d", "--vol", "0.8"], "exactly one of --series"),
    (["post-vol", "--series", "77", "--vol", "0.8", "--anvil-account", "0"], "no series 77"),
    (["post-vol", "--series", "1", "--vol", "-0.8"], "must be > 0"),
    (["settle", "--expiry", "+30d", "--anvil-account", "3"], "has not passed"),
    (["pause", "--anvil-account", "6"], "AccessControl"),
    (["greeks", "--spot", "3000", "--strike", "3000", "--time", "7d"], "give --vol"),
    (
        ["greeks", "--spot", "3000", "--strike", "3000", "--time", "7d", "--vol", "0.8", "--type", "put"],
        "give --price too",
    ),
    (["greeks", "--spot", "abc", "--strike", "3000", "--time", "7d", "--vol", "0.8"], "not a number"),
    (["greeks", "--spot", "3000", "--strike", "3000", "--time", "soon", "--vol", "0.8"], "not a duration"),
    (["simulate", "--seed", "-1"], "negative"),
    (["simulate", "--drift", "nan"], "not a finite number"),
    (["simulate", "--vol", "nan"], "not a finite number"),
    (["simulate", "--drift", "1e10"], "outside"),
    (["simulate", "--days", "100000"], "more than 366 days"),
    (["node", "--port", "99999"], "above the largest port"),
    (["deploy", "--set", "garbage"], "expected SECTION.KEY=VALUE"),
    (["deploy", "--config", "/nonexistent.yaml"], "cannot read the deployment config"),
    (["deploy", "--set", "risk.hf_floor_wad=5e18"], "is outside"),
    (
        ["keeper", "--once", "--anvil-account", "3", "--vault", "0x5FbDB2315678afecb367f032d93F642f64180aa3"],
        "not an option vault",
    ),
]

#: Commands that take neither --rpc-url nor --manifest (or must not be given the journey's node).
_NO_CHAIN = {"greeks", "simulate", "node"}


def test_bad_inputs_exit_2_with_one_line_and_change_nothing(
    capsys: pytest.CaptureFixture[str], env: dict[str, str]
) -> None:
    assert len(BAD_INPUTS) >= 50
    before = hv(capsys, env, "status", "--json")
    block_before = hv_json(capsys, env, "mine", "--blocks", "0")["block"]
    failures: list[tuple[list[str], int, str]] = []
    for argv, fragment in BAD_INPUTS:
        capsys.readouterr()
        full = list(argv)
        if argv[0] not in _NO_CHAIN:
            full += ["--rpc-url", env["url"]]
            if argv[0] not in ("deploy", "keeper"):
                full += ["--manifest", env["manifest"]]
            elif argv[0] == "deploy":
                full += (
                    ["--manifest", env["manifest"], "--check"]
                    if "hf_floor" not in argv[-1]
                    else ["--manifest", env["manifest"]]
                )
        code = main(full)
        out, err = capsys.readouterr()
        lines = [line for line in err.splitlines() if line.strip()]
        ok = code == 2 and len(lines) == 1 and "Traceback" not in err + out and fragment in lines[0]
        if not ok:
            failures.append((argv, code, err.strip()[:300]))
    assert not failures, "\n".join(map(str, failures))
    # nothing was sent: no new block, the same status to the byte
    assert hv_json(capsys, env, "mine", "--blocks", "0")["block"] == block_before
    assert hv(capsys, env, "status", "--json") == before


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["buy", "--series", "-1", "--amount", "1"], "negative"),
        (["status", "--rpc-url", "http://127.0.0.1:1"], "connection refused"),
        ([], "usage: hedgevault"),
    ],
)
def test_a_real_process_exits_as_a_shell_sees_it(argv: list[str], fragment: str) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "hedgevault.cli", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "HEDGEVAULT_RPC_URL": ""},
    )
    assert "Traceback" not in run.stderr
    assert fragment in run.stdout + run.stderr
    assert run.returncode == (0 if not argv else 2)


def test_a_refused_connection_is_reported_at_once() -> None:
    """No retries and no waiting for the timeout on a refused connection (it took 10 s): measured in process,
    with a timeout far above the bound, so that a loaded machine's interpreter start-up cannot matter."""
    started = time.perf_counter()
    with pytest.raises(ChainError, match="connection refused"):
        check_answers("http://127.0.0.1:1", timeout_sec=60)
    assert time.perf_counter() - started < 5


def test_status_into_a_closed_pipe_is_quiet(env: dict[str, str]) -> None:
    """`hedgevault status | head -1`: the reader leaves early; no BrokenPipeError traceback."""
    cmd = f"{sys.executable} -m hedgevault.cli status --rpc-url {env['url']} --manifest {env['manifest']} | head -1"
    run = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, timeout=60)
    assert run.stdout.strip() and "Traceback" not in run.stderr and "BrokenPipe" not in run.stderr
    piped = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], capture_output=True, text=True, timeout=60)
    assert piped.returncode in (0, 141)  # 141 when status still had lines to print after head left


def test_version_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0 and capsys.readouterr().out.startswith("hedgevault ")
    assert main([]) == 0 and "COMMAND" in capsys.readouterr().out


def test_every_subcommand_says_what_it_does(capsys: pytest.CaptureFixture[str]) -> None:
    from hedgevault.cli import build_parser

    parser = build_parser()
    (sub,) = [a for a in parser._actions if a.dest == "command"]
    assert len(sub.choices) >= 28
    for name, subparser in sub.choices.items():  # type: ignore[union-attr]
        assert subparser.description, name
        text = subparser.format_help()
        assert "%%" not in text and "%(" not in text, name


def test_revert_data_reads_in_the_units_a_user_types() -> None:
    from eth_abi.abi import encode
    from web3 import Web3

    from hedgevault.reverts import describe_data

    data = Web3.keccak(text="ProceedsBelowMin(uint256,uint256)")[:4] + encode(
        ["uint256"] * 2, [24_728_098, 100_000_000]
    )
    assert describe_data(data, quote_decimals=6) == "ProceedsBelowMin(proceeds=24.728098, minProceeds=100)"
    assert describe_data(data) == "ProceedsBelowMin(proceeds=24728098, minProceeds=100000000)"
    other = Web3.keccak(text="AaveLiquidityShort(uint256,uint256)")[:4] + encode(["uint256"] * 2, [5, 7])
    assert describe_data(other, quote_decimals=6) == "AaveLiquidityShort(available=5, wanted=7)"  # not quote
