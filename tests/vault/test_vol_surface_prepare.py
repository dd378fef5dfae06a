"""Prepared expiries (``VolatilityOracle.prepareExpiry``): placeholders in the storage slots a first post creates,
so the post rewrites them instead of creating them. Anyone may call it, any number of times, for any expiry, before
or after posts; these tests are that attacker. The claims under test:

* PR_READS: a prepared expiry reads exactly as one never prepared (every view, every revert and its figure), and
  the epoch does not move (no cached value in a vault changes);
* PR_SAME: a program of posts (first posts, flat and smile, strikes added in odd and even counts, refused posts of
  every kind, a batch) gives the same outcome, revert data and views with an attacker preparing every expiry before
  every step as without, and each post costs no more gas;
* PR_DATA: preparing a posted expiry writes none of the slots that hold its data (checked at the storage slot: the
  post, the list node of a lone expiry that is all zero, the half-filled strike slot, a zero strike);
* PR_LIST: anyone else's preparation never joins the expiry list; one the updater's preparation listed (branch
  svlist) never hides a posted expiry from another's calendar check (the check walks past it), so neither can stand
  between two posted expiries and hide one from the other;
* PR_SORTED: after every step the list, walked from its head, is strictly increasing, its links agree both ways, and
  its expiries still to come are exactly the posted ones plus the ones the updater's preparation listed;
* PR_RUN: no more than ``MAX_UNPOSTED_RUN`` (4) listed expiries never posted stand in a row (the walk of the calendar
  check past them is bounded: a hot updater key listing many expiries costs a post at most 4 x 5,400 gas a side);
* PR_FIRST: the first post of an expiry the updater listed inserts nothing (about 13,800 gas less than inserting)
  and otherwise gives the same outcome, stored slice and views as the first post of one never listed.

Storage slots (the oracle's layout: AccessControl's roles at 0, the bounds at 1 and 2, then ``_posts`` 3 (the post
and its whole slice in one word, branch svone), ``_nodes`` 4, ``_strikes`` 5) are checked against ``lastPost``,
``sliceOf`` and ``strikesOf`` before use. Tolerances: none.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eth_abi.abi import encode
from eth_utils.crypto import keccak
from vaultkit import DAY, WAD, YEAR, Actors, buy, deposit, fund, now, q, reverts
from web3.exceptions import ContractCustomError

from hedgevault.chain import warp
from hedgevault.suite import Suite
from hedgevault.surface import mirror as M
from hedgevault.surface.oracle_rules import on_grid
from hedgevault.txs import send

SPOT = 3000 * WAD
STRIKES = [2400 * WAD, 2700 * WAD, 3000 * WAD, 3300 * WAD, 3600 * WAD]
POSTS, NODES, STRIKE_SETS, HEAD = 3, 4, 5, 6
#: VolatilityOracle.MAX_UNPOSTED_RUN (internal): listed expiries never posted in a row.
MAX_UNPOSTED_RUN = 4
#: What one listed expiry never posted that the calendar check walks past costs a post: the cold reads of its post
#: slot and its node (2 x 2,100) and the step of the walk (measured about 5,414 a node since the one-word slice,
#: whose skipped word is decoded; room of about 90).
SKIP_GAS = 5_500


def _skew(time_sec: int, atm: float = 0.8) -> M.Slice:
    b, sigma = 0.1, 0.1
    return on_grid(M.Slice.from_floats(atm * atm * time_sec / YEAR - b * sigma, b, -0.5, 0.0, sigma))


def _base(expiry: int, mapping_slot: int) -> int:
    return int.from_bytes(keccak(encode(["uint256", "uint256"], [expiry, mapping_slot])), "big")


def _word(s: Suite, slot: int) -> int:
    return int.from_bytes(s.w3.eth.get_storage_at(s.vol_oracle.address, slot), "big")


def _slots(s: Suite, expiry: int) -> dict[str, int]:
    """The raw words of every slot an expiry owns: post, node and the 8 strike slots."""
    out = {
        "post": _word(s, _base(expiry, POSTS)),
        "node": _word(s, _base(expiry, NODES)),
    }
    for j in range(8):
        out[f"strikes{j}"] = _word(s, _base(expiry, STRIKE_SETS) + j)
    return out


def _field(word: int, lo: int, bits: int, signed: bool = False) -> int:
    x = (word >> lo) & ((1 << bits) - 1)
    return x - (1 << bits) if signed and x >> (bits - 1) else x


def _check_layout(s: Suite, expiry: int) -> None:
    """The post slot decodes as ``lastPost``, ``sliceOf`` and ``strikesOf`` say (VolatilityOracle ``Post``: time in
    bits 0-39, the strike count in 40-47, b / 1e9 in 48-78, then rho / 1e9 (31 bits), m / 1e9 (34), sigma / 1e9
    (33), a / 1e18 (68) or a flat slice's vol, zero above bit 244): the layout above is right."""
    v = s.vol_oracle.functions
    vol, at = (int(x) for x in v.lastPost(expiry).call())
    word = _word(s, _base(expiry, POSTS))
    assert at != 0 and _field(word, 0, 40) == at and _field(word, 40, 8) == len(v.strikesOf(expiry).call())
    assert word >> 245 == 0
    b = _field(word, 48, 31)
    if b == 0:
        assert word >> 177 == vol
        return
    got = (
        _field(word, 177, 68, True) * 10**18,
        b * 10**9,
        _field(word, 79, 31, True) * 10**9,
        _field(word, 110, 34, True) * 10**9,
        _field(word, 144, 33) * 10**9,
    )
    assert got == tuple(v.sliceOf(expiry).call())


def _prepare(s: Suite, who: str, expiry: int, strikes: int) -> Any:
    return send(s.w3, s.vol_oracle.functions.prepareExpiry(expiry, strikes), who)


def _node(s: Suite, expiry: int) -> tuple[int, int]:
    """(prev, next) of a list node (bits 0-63 and 64-127 of its word)."""
    word = _word(s, _base(expiry, NODES))
    return word & (2**64 - 1), (word >> 64) & (2**64 - 1)


def _walk_list(s: Suite) -> list[int]:
    """The expiry list from its head (expired ones not dropped yet included), checking PR_SORTED's order and links."""
    out: list[int] = []
    cur = _word(s, HEAD) & (2**64 - 1)
    while cur != 0:
        assert len(out) < 64, "PR_SORTED: the list does not end"
        prev, nxt = _node(s, cur)
        assert prev == (out[-1] if out else 0), f"PR_SORTED: {cur}'s prev {prev}, walked {out}"
        assert nxt == 0 or nxt > cur, f"PR_SORTED: {cur} before {nxt}"
        out.append(cur)
        cur = nxt
    return out


def _check_list(s: Suite, listed: set[int], expiries: list[int]) -> None:
    """PR_SORTED and PR_RUN: the live part of the list is exactly the posted expiries plus ``listed`` (those the
    updater's preparation listed), and no run of listed expiries never posted is longer than the bound."""
    t = now(s.w3)
    live = [e for e in _walk_list(s) if e > t]
    posted = {e for e in expiries if int(s.vol_oracle.functions.lastPost(e).call()[1]) != 0}
    assert live == sorted(e for e in posted | listed if e > t), ("PR_SORTED", live, posted, listed)
    run = 0
    for e in live:
        run = run + 1 if e not in posted else 0
        assert run <= MAX_UNPOSTED_RUN, ("PR_RUN", live, posted)


def _listed_by(receipt: Any, s: Suite) -> list[tuple[int, int, int]]:
    return [tuple(x["args"].values()) for x in s.vol_oracle.events.ExpiryListed().process_receipt(receipt)]


def _outcome(fn: Any, sender: str) -> tuple[str, Any]:
    try:
        fn.call({"from": sender})
    except ContractCustomError as exc:
        return ("revert", str(exc.data))
    return ("ok", None)


def _views(s: Suite, expiry: int) -> dict[str, Any]:
    """Every view of one expiry, a revert recorded as its data."""
    v = s.vol_oracle.functions
    out: dict[str, Any] = {}
    calls: dict[str, Any] = {
        "volWad": v.volWad(expiry),
        "volWadUntil": v.volWadUntil(expiry),
        "sliceUntil": v.sliceUntil(expiry),
        "sliceOf": v.sliceOf(expiry),
        "strikesOf": v.strikesOf(expiry),
        "lastPost": v.lastPost(expiry),
        "maxStepNowWad": v.maxStepNowWad(expiry),
        "strikeVolWad": v.strikeVolWad(expiry, 2700 * WAD, SPOT),
    }
    for name, fn in calls.items():
        try:
            out[name] = fn.call()
        except ContractCustomError as exc:
            out[name] = ("revert", str(exc.data))
    return out


def _globals(s: Suite) -> tuple[Any, ...]:
    v = s.vol_oracle.functions
    return (v.epoch().call(), v.referenceVolWad().call(), v.params().call(), v.gridPoints().call())


# ------------------------------------------------------------------------------------------------ PR_READS


def test_a_prepared_expiry_reads_as_one_never_posted(suite: Suite, actors: Actors) -> None:
    s = suite
    v = s.vol_oracle.functions
    send(s.w3, v.postVol(now(s.w3) + 20 * DAY, 8 * WAD // 10), s.admin)  # a reference and an epoch to keep
    e = now(s.w3) + 30 * DAY
    before, globals_before = _views(s, e), _globals(s)
    assert before["volWad"] == ("revert", before["sliceUntil"][1])  # VolNotPosted(e)
    assert not v.isPrepared(e, 0).call()
    receipt = _prepare(s, actors.attacker, e, 5)  # anyone: the attacker holds no role
    (event,) = s.vol_oracle.events.ExpiryPrepared().process_receipt(receipt)
    assert dict(event["args"]) == {"expiry": e, "strikes": 5, "slots": 2 + 3}
    assert v.isPrepared(e, 5).call() and v.isPrepared(e, 6).call() and not v.isPrepared(e, 7).call()
    assert _views(s, e) == before and _globals(s) == globals_before
    assert v.lastPost(e).call() == [0, 0] and v.strikesOf(e).call() == []
    assert tuple(v.sliceOf(e).call()) == (0, 0, 0, 0, 0)
    reverts(v.volWad(e), actors.attacker, "VolNotPosted", e)
    assert v.maxStepNowWad(e).call() == s.config.vol.max_vol_wad - s.config.vol.min_vol_wad
    # again: nothing to write, no event, cheaper than the reads and writes of the first call
    again = _prepare(s, actors.attacker, e, 5)
    assert s.vol_oracle.events.ExpiryPrepared().process_receipt(again) == ()
    assert again["gasUsed"] < receipt["gasUsed"] - 4 * 17_000
    assert _views(s, e) == before and _globals(s) == globals_before


def test_prepare_bounds(suite: Suite, actors: Actors) -> None:
    """A passed expiry (or one expiring now) cannot be posted: preparing it reverts ``VolExpiryPassed``; more than
    ``MAX_STRIKES`` strikes reverts ``VolTooManyStrikes`` with the figure, in the view too; an expiry far beyond
    any listing (past 2^64) is prepared at its caller's cost and reads as never posted."""
    s = suite
    v = s.vol_oracle.functions
    t = now(s.w3)
    reverts(v.prepareExpiry(t, 0), actors.attacker, "VolExpiryPassed", t)
    reverts(v.prepareExpiry(t - DAY, 0), actors.attacker, "VolExpiryPassed", t - DAY)
    e = t + 30 * DAY
    reverts(v.prepareExpiry(e, 17), actors.attacker, "VolTooManyStrikes", e, 17, 16)
    reverts(v.isPrepared(e, 17), actors.attacker, "VolTooManyStrikes", e, 17, 16)
    _prepare(s, actors.attacker, e, 16)
    assert v.isPrepared(e, 16).call()
    assert all(_word(s, _base(e, STRIKE_SETS) + j) != 0 for j in range(8))
    assert _word(s, _base(e, STRIKE_SETS) + 8) == 0  # nothing beyond the set's 8 slots
    far = 2**64 + 12_345
    _prepare(s, actors.attacker, far, 16)
    assert v.isPrepared(far, 16).call()
    assert v.lastPost(far).call() == [0, 0] and v.strikesOf(far).call() == []
    reverts(v.sliceUntil(far), actors.attacker, "VolNotPosted", far)


def test_an_attackers_preparations_leave_the_vault_and_its_cache_alone(suite: Suite, actors: Actors) -> None:
    """Preparing many expiries (the traded one included) between two buys: the epoch does not move, so the vault's
    cached marks stay valid, and the second buy costs and pays exactly what it does without the preparations."""
    s = suite
    expiry = now(s.w3) + 30 * DAY
    deposit(s, actors.depositor, q(s, 2_000_000))
    fn = s.vault.functions.listSeries(expiry, 3000 * WAD, True)
    sid = int(fn.call({"from": s.admin}))
    send(s.w3, fn, s.admin)
    send(s.w3, s.vol_oracle.functions.postSlice(expiry, _skew(30 * DAY).as_tuple(), SPOT, STRIKES), s.admin)
    buy(s, actors.buyer, sid, WAD)
    fund(s, actors.buyer, q(s, 100_000))
    snap = s.w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    quiet = send(s.w3, s.vault.functions.buy(sid, WAD, 2**255, actors.buyer), actors.buyer)
    figures = (tuple(s.vault.functions.book().call()), int(s.vault.functions.totalAssets().call()))
    s.w3.provider.make_request("evm_revert", [snap])  # type: ignore[arg-type]
    epoch = s.vol_oracle.functions.epoch().call()
    for e in (expiry, expiry + DAY, expiry + 7 * DAY, now(s.w3) + 1):
        _prepare(s, actors.attacker, e, 16)
    assert s.vol_oracle.functions.epoch().call() == epoch
    loud = send(s.w3, s.vault.functions.buy(sid, WAD, 2**255, actors.buyer), actors.buyer)
    assert loud["gasUsed"] == quiet["gasUsed"]
    assert (tuple(s.vault.functions.book().call()), int(s.vault.functions.totalAssets().call())) == figures


# ------------------------------------------------------------------------------------------------ PR_SAME


def _program(s: Suite) -> tuple[list[int], list[Callable[[], Any]]]:
    """The expiries and the steps: each a function returning a contract call to send from the admin, or None for a
    warp. Outcomes along the way: first posts flat and smile, strikes in odd and even counts, a smile after a flat
    post, ``VolFirstPostTooFar``, ``SviCalendarArbitrage``, ``SviVolStepExceeded``, ``VolPostTooSoon``,
    ``VolOutOfBounds``, a batch, a flat slice without a forward that stores a zero strike, a first smile without a
    forward (``SviMoneynessOutOfRange`` at the stored forward, 0: a placeholder there would show)."""
    v = s.vol_oracle.functions
    t0 = now(s.w3)
    e1, e2, e3, mid, e4, never = (t0 + d * DAY for d in (30, 31, 45, 38, 60, 90))

    def left(e: int) -> int:
        return e - now(s.w3)

    def warp_(sec: int) -> Callable[[], Any]:
        def step() -> None:
            warp(s.w3, sec)

        return step

    c = s.config.vol
    # steps of up to 0.5, at 0.6 an hour: 0.1 after 600 s, 0.2 after 1,200 s
    params = (c.min_vol_wad, c.max_vol_wad, WAD // 2, c.max_age_sec, 6 * WAD // 10, c.min_interval_sec)
    steps: list[Callable[[], Any]] = [
        lambda: v.setParams(params),
        lambda: v.postVol(e1, 8 * WAD // 10),
        lambda: v.postSlice(e2, _skew(left(e2)).as_tuple(), SPOT, STRIKES[1:4]),
        lambda: v.postSlice(e3, _skew(left(e3)).as_tuple(), SPOT, [3000 * WAD]),
        lambda: v.postVol(e4, 8 * WAD // 10),
        warp_(1200),
        lambda: v.postSlice(e1, _skew(left(e1)).as_tuple(), SPOT, [2400 * WAD, 3000 * WAD]),
        lambda: v.postSlice(mid, _skew(left(mid), 1.4).as_tuple(), SPOT, STRIKES),
        lambda: v.postSlice(mid, _skew(left(mid)).as_tuple(), SPOT, STRIKES),
        lambda: v.postSlice(e2, _skew(left(e2), 0.76).as_tuple(), SPOT, [3600 * WAD]),
        lambda: v.postSlice(e4, M.flat_slice(8 * WAD // 10, left(e4)).as_tuple(), 0, [0, 3000 * WAD, 0]),
        lambda: v.postSlice(e3, _skew(left(e3), 0.81).as_tuple(), SPOT, []),
        lambda: v.postSlice(e3, _skew(left(e3), 0.81).as_tuple(), SPOT, []),
        warp_(600),
        lambda: v.postSlices(
            [
                (e3, _skew(left(e3), 0.81).as_tuple(), SPOT, [2600 * WAD]),
                (e2, _skew(left(e2), 0.805).as_tuple(), SPOT, [2600 * WAD, 3600 * WAD]),
            ]
        ),
        lambda: v.postVol(mid, 8 * WAD // 10),
        lambda: v.postSlice(e1, _skew(left(e1), 0.805).as_tuple(), SPOT, [2500 * WAD, 3500 * WAD, 3600 * WAD]),
        lambda: v.postSlice(e4, _skew(left(e4), 3.5).as_tuple(), SPOT, []),
        # a first smile without a forward: its strikes are checked at the stored forward, none yet (0)
        lambda: v.postSlice(never, _skew(left(never)).as_tuple(), 0, [3000 * WAD]),
    ]
    return [e1, e2, e3, mid, e4, never], steps


def _run(s: Suite, admin: str, attacker: str | None) -> tuple[list[Any], list[int], list[int]]:
    """The program's record (each step's outcome, then every expiry's views and the globals) and each sent post's
    gas; with an attacker, every expiry is prepared (0, 1, 3, then 16 strikes, in turn) before every step. An
    attacker that is the updater (``admin``) also lists expiries never posted, up to the run bound (its
    preparation of the rest lists nothing); PR_SORTED and PR_RUN are checked after every step."""
    expiries, steps = _program(s)
    record: list[Any] = []
    gas: list[int] = []
    listed: set[int] = set()
    for i, step in enumerate(steps):
        if attacker is not None:
            for j, e in enumerate(expiries):
                if e <= now(s.w3):
                    continue
                receipt = _prepare(s, attacker, e, (0, 1, 3, 16)[(i + j) % 4])
                listed |= {x[0] for x in _listed_by(receipt, s)}
                _check_list(s, listed, expiries)
        fn = step()
        if fn is None:
            record.append(("warp", now(s.w3)))
            continue
        outcome = _outcome(fn, admin)
        record.append(outcome)
        if outcome[0] == "ok":
            gas.append(int(send(s.w3, fn, admin)["gasUsed"]))
        record.append([_views(s, e) for e in expiries])
        record.append(_globals(s))
        _check_list(s, listed, expiries)
    assert (attacker == admin) == bool(listed), listed  # only the updater's preparation lists
    return record, gas, expiries


def test_posts_with_an_attacker_preparing_everything_match_posts_without(suite: Suite, actors: Actors) -> None:
    s = suite
    snap = s.w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    plain, plain_gas, _ = _run(s, s.admin, None)
    s.w3.provider.make_request("evm_revert", [snap])  # type: ignore[arg-type]
    prepared, prepared_gas, expiries = _run(s, s.admin, actors.attacker)
    outcomes = [r for r in plain if isinstance(r, tuple) and r and r[0] in ("ok", "revert")]
    kinds = {r[1][:10] for r in outcomes if r[0] == "revert"}
    assert len(kinds) >= 4, kinds  # the program reaches several refusals, not only acceptances
    assert sum(r[0] == "ok" for r in outcomes) >= 9
    assert prepared == plain
    # every post costs no more, and the first posts far less
    assert len(prepared_gas) == len(plain_gas)
    assert all(p <= g for p, g in zip(prepared_gas, plain_gas, strict=True)), (prepared_gas, plain_gas)
    assert sum(plain_gas) - sum(prepared_gas) > 10 * 17_100
    # the zero strike is in the set as posted
    assert s.vol_oracle.functions.strikesOf(expiries[4]).call() == [0, 3000 * WAD]


def test_posts_with_the_updater_listing_everything_match_posts_without(suite: Suite, actors: Actors) -> None:
    """The same program with the updater (a hot key) preparing every expiry before every step: its preparations
    list the expiries never posted, at most ``MAX_UNPOSTED_RUN`` in a row (PR_RUN; six expiries, so some are left to
    their first posts), and every outcome, revert datum and view is the same as without (PR_LIST: the calendar
    check walks past the listed ones); the list holds exactly the posted and the listed expiries (PR_SORTED); a
    post costs at most the walk past a full run more, and the first posts of listed expiries far less (PR_FIRST)."""
    s = suite
    snap = s.w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    plain, plain_gas, _ = _run(s, s.admin, None)
    s.w3.provider.make_request("evm_revert", [snap])  # type: ignore[arg-type]
    listed, listed_gas, _ = _run(s, s.admin, s.admin)
    assert listed == plain
    assert len(listed_gas) == len(plain_gas)
    assert all(p <= g + 2 * MAX_UNPOSTED_RUN * SKIP_GAS for p, g in zip(listed_gas, plain_gas, strict=True))
    # the first posts save the slots (17,100 each) and, when listed, the insertion
    assert sum(plain_gas) - sum(listed_gas) > 10 * 17_100 + 2 * 15_000


# ------------------------------------------------------------------------------------------------ PR_DATA


def test_preparing_a_posted_expiry_writes_none_of_its_data(suite: Suite, actors: Actors) -> None:
    """Each slot that holds a post's data keeps its word: a lone expiry posted flat (its list node all zero), a
    smile with three strikes (the second strike slot half-filled), a set whose only strike is 0 (its slot zero and
    data). Only the slots a later post would still create get placeholders."""
    s = suite
    v = s.vol_oracle.functions
    lone = now(s.w3) + 30 * DAY
    send(s.w3, v.postVol(lone, 8 * WAD // 10), s.admin)
    _check_layout(s, lone)
    before = _slots(s, lone)
    assert before["node"] == 0
    assert v.isPrepared(lone, 0).call()  # a first smile creates nothing: the slice lives in the post's word
    assert not v.isPrepared(lone, 1).call()
    _prepare(s, actors.attacker, lone, 16)
    after = _slots(s, lone)
    assert after["post"] == before["post"] and after["node"] == 0
    assert all(after[f"strikes{j}"] != 0 for j in range(8))
    assert v.isPrepared(lone, 16).call()
    # later posts see no placeholder: a second expiry joins the list beside the lone one, each its neighbour
    warp(s.w3, 600)
    smile = now(s.w3) + 40 * DAY
    three = [2700 * WAD, 3000 * WAD, 3300 * WAD]
    send(s.w3, v.postSlice(smile, _skew(smile - now(s.w3)).as_tuple(), SPOT, three), s.admin)
    node = _word(s, _base(lone, NODES))
    assert (node & (2**64 - 1), (node >> 64) & (2**64 - 1)) == (0, smile)  # prev none, next the new expiry
    snap = _slots(s, smile)
    assert snap["strikes1"] == 3300 * WAD and snap["strikes2"] == 0
    _prepare(s, actors.attacker, smile, 16)
    after = _slots(s, smile)
    _check_layout(s, smile)
    for key in ("post", "node", "strikes0", "strikes1"):
        assert after[key] == snap[key], key
    assert all(after[f"strikes{j}"] != 0 for j in range(2, 8))
    assert v.strikesOf(smile).call() == three
    # a zero strike (a flat slice after a flat post without a forward skips the strike checks): its slot is data
    zero = now(s.w3) + 50 * DAY
    send(s.w3, v.postVol(zero, 8 * WAD // 10), s.admin)
    warp(s.w3, 600)
    flat = M.flat_slice(8 * WAD // 10, zero - now(s.w3))
    send(s.w3, v.postSlice(zero, flat.as_tuple(), 0, [0]), s.admin)
    assert v.strikesOf(zero).call() == [0] and _word(s, _base(zero, STRIKE_SETS)) == 0
    _prepare(s, actors.attacker, zero, 4)
    assert _word(s, _base(zero, STRIKE_SETS)) == 0 and _word(s, _base(zero, STRIKE_SETS) + 1) != 0
    assert v.strikesOf(zero).call() == [0]
    # the next strike goes into the zero strike's slot, the one after into the prepared slot
    warp(s.w3, 600)
    flat = M.flat_slice(8 * WAD // 10, zero - now(s.w3))
    send(s.w3, v.postSlice(zero, flat.as_tuple(), 0, [2900 * WAD, 3100 * WAD]), s.admin)
    assert v.strikesOf(zero).call() == [0, 2900 * WAD, 3100 * WAD]


def test_a_placeholder_is_never_read_as_a_strike(suite: Suite, actors: Actors) -> None:
    """Every strike slot prepared, then strikes added one post at a time: each read gives exactly the posted
    strikes (the placeholder in the upper half of a half-filled slot is not a strike), and every post's strike
    checks see the same set (the vol of each at the forward)."""
    s = suite
    v = s.vol_oracle.functions
    e = now(s.w3) + 30 * DAY
    _prepare(s, actors.attacker, e, 16)
    posted: list[int] = []
    for i, strike in enumerate([2500 * WAD, 2600 * WAD, 2700 * WAD, 3100 * WAD, 3200 * WAD]):
        if i:
            warp(s.w3, 600)
        send(s.w3, v.postSlice(e, _skew(e - now(s.w3)).as_tuple(), SPOT, [strike]), s.admin)
        posted.append(strike)
        assert v.strikesOf(e).call() == posted
        assert v.isPrepared(e, 16).call()
    _check_layout(s, e)


# ------------------------------------------------------------------------------------------------ PR_LIST


def test_a_prepared_expiry_cannot_hide_a_neighbour_from_the_calendar_check(suite: Suite, actors: Actors) -> None:
    """The attacker prepares an expiry between two posted ones, hoping it stands between them in the list as a
    neighbour that is skipped (never posted): the calendar check of the nearer against the farther still runs and
    refuses, with the figures it gives without the preparation."""
    s = suite
    v = s.vol_oracle.functions
    e1, e2 = now(s.w3) + 30 * DAY, now(s.w3) + 32 * DAY
    _wide_smiles(s, e1, e2)
    high = _skew(e1 - now(s.w3), 0.84)  # above the farther expiry's total variance: calendar arbitrage
    plain = reverts(v.postSlice(e1, high.as_tuple(), SPOT, []), s.admin, "SviCalendarArbitrage")
    _prepare(s, actors.attacker, e1 + DAY, 16)
    assert reverts(v.postSlice(e1, high.as_tuple(), SPOT, []), s.admin, "SviCalendarArbitrage") == plain
    node = _word(s, _base(e1, NODES))
    assert (node >> 64) & (2**64 - 1) == e2  # e1's next is still e2


def _wide(s: Suite) -> None:
    c = s.config.vol
    send(
        s.w3,
        s.vol_oracle.functions.setParams(
            (c.min_vol_wad, c.max_vol_wad, WAD // 2, c.max_age_sec, WAD, c.min_interval_sec)
        ),
        s.admin,
    )


def _wide_smiles(s: Suite, *expiries: int) -> None:
    """`_wide`, then the skew posted at each expiry (its full strike set), then 10 minutes on."""
    _wide(s)
    for e in expiries:
        send(s.w3, s.vol_oracle.functions.postSlice(e, _skew(e - now(s.w3)).as_tuple(), SPOT, STRIKES), s.admin)
    warp(s.w3, 600)


def test_a_listed_expiry_never_posted_cannot_hide_a_neighbour_from_the_calendar_check(
    suite: Suite, actors: Actors
) -> None:
    """The updater (a hot key) lists an expiry between two posted ones and never posts it: it stands between them
    in the list, and the calendar check of each against the other still runs (walked past), refusing with the
    figures it gives without the listing, on both sides."""
    s = suite
    v = s.vol_oracle.functions
    e1, e2 = now(s.w3) + 30 * DAY, now(s.w3) + 32 * DAY
    _wide_smiles(s, e1, e2)
    high = _skew(e1 - now(s.w3), 0.84)  # the nearer above the farther: calendar arbitrage
    low = _skew(e2 - now(s.w3), 0.76)  # the farther below the nearer
    plain_high = reverts(v.postSlice(e1, high.as_tuple(), SPOT, []), s.admin, "SviCalendarArbitrage")
    plain_low = reverts(v.postSlice(e2, low.as_tuple(), SPOT, []), s.admin, "SviCalendarArbitrage")
    hidden = [e1 + DAY // 2, e1 + DAY, e1 + 3 * DAY // 2]
    for e in hidden:
        assert _listed_by(_prepare(s, s.admin, e, 16), s) != []
    assert _walk_list(s) == [e1, *hidden, e2]
    assert reverts(v.postSlice(e1, high.as_tuple(), SPOT, []), s.admin, "SviCalendarArbitrage") == plain_high
    assert reverts(v.postSlice(e2, low.as_tuple(), SPOT, []), s.admin, "SviCalendarArbitrage") == plain_low
    # a listed expiry next to one stale (a posted neighbour gone stale is none, as before): the walk stops there
    _check_list(s, set(hidden), [e1, e2, *hidden])


def test_the_updaters_listing_makes_the_first_post_insert_nothing(suite: Suite, actors: Actors) -> None:
    """PR_FIRST. A new expiry between two posted smiles: anyone's preparation writes placeholders and lists nothing
    (the attacker's answer from ``isPrepared`` is "nothing to do", the updater's "list it"); the updater's lists it
    (``ExpiryListed`` with its neighbours), moves no epoch and leaves every view as never posted; its first post then
    costs at least 13,000 less than the same post inserting it, with the same outcome, views and list."""
    s = suite
    v = s.vol_oracle.functions
    e1, e3 = now(s.w3) + 30 * DAY, now(s.w3) + 45 * DAY
    _wide_smiles(s, e1, e3)
    e2, ks = now(s.w3) + 38 * DAY, [2600 * WAD, 2650 * WAD]
    before, globals_before = _views(s, e2), _globals(s)
    receipt = _prepare(s, actors.attacker, e2, len(ks))
    assert _listed_by(receipt, s) == [] and _walk_list(s) == [e1, e3]
    assert v.isPrepared(e2, len(ks)).call({"from": actors.attacker})
    assert not v.isPrepared(e2, len(ks)).call({"from": s.admin})

    def first_post() -> tuple[int, Any]:
        fn = v.postSlice(e2, _skew(e2 - now(s.w3), 0.8125).as_tuple(), SPOT, ks)
        gas = int(send(s.w3, fn, s.admin)["gasUsed"])
        return gas, ([_views(s, e) for e in (e1, e2, e3)], _globals(s), _walk_list(s))

    snap = s.w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    inserting, plain = first_post()
    s.w3.provider.make_request("evm_revert", [snap])  # type: ignore[arg-type]
    receipt = _prepare(s, s.admin, e2, len(ks))
    assert _listed_by(receipt, s) == [(e2, e1, e3)]
    assert s.vol_oracle.events.ExpiryPrepared().process_receipt(receipt) == ()  # the slots were ready
    assert _walk_list(s) == [e1, e2, e3] and v.isPrepared(e2, len(ks)).call({"from": s.admin})
    assert _views(s, e2) == before and _globals(s) == globals_before
    again = _prepare(s, s.admin, e2, len(ks))  # nothing left to do
    assert _listed_by(again, s) == [] and s.vol_oracle.events.ExpiryPrepared().process_receipt(again) == ()
    listed, figures = first_post()
    assert figures == plain
    assert inserting - listed > 13_000, (inserting, listed)  # measured 13,803


def test_a_hot_updater_key_listing_many_expiries_cannot_make_posts_walk_far(suite: Suite, actors: Actors) -> None:
    """PR_RUN. The updater's key lists 12 expiries between two posted ones: only ``MAX_UNPOSTED_RUN`` (4) in a row
    join the list, the rest are left to their first posts (their preparation lists nothing and ``isPrepared`` says
    so); a re-post of either neighbour costs at most the walk past those 4 more than without them; posting one of
    the run splits it and lets the next one be listed; a stranger's calls list nothing; a listed expiry that passes
    unposted ends no run and the list drops it at the next insertion."""
    s = suite
    v = s.vol_oracle.functions
    _wide(s)
    a, c = now(s.w3) + 20 * DAY, now(s.w3) + 40 * DAY
    send(s.w3, v.postSlice(a, _skew(a - now(s.w3)).as_tuple(), SPOT, STRIKES), s.admin)
    send(s.w3, v.postSlice(c, _skew(c - now(s.w3)).as_tuple(), SPOT, STRIKES), s.admin)
    warp(s.w3, 600)

    def repost(e: int, atm: float) -> int:
        fn = v.postSlice(e, _skew(e - now(s.w3), atm).as_tuple(), SPOT, [])
        return int(send(s.w3, fn, s.admin)["gasUsed"])

    snap = s.w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    quiet = (repost(a, 0.805), repost(c, 0.805))
    s.w3.provider.make_request("evm_revert", [snap])  # type: ignore[arg-type]
    for _ in range(3):  # a stranger, again and again
        assert _listed_by(_prepare(s, actors.attacker, a + DAY, 16), s) == []
    grief = [a + d * DAY for d in range(1, 13)]
    listed = [e for e in grief if _listed_by(_prepare(s, s.admin, e, 1), s)]
    assert listed == grief[:MAX_UNPOSTED_RUN]
    # before the run (its run reaches forward) and after it (backward): full both ways
    for e in (a + DAY // 2, grief[MAX_UNPOSTED_RUN - 1] + DAY // 2):
        assert _listed_by(_prepare(s, s.admin, e, 1), s) == []
    assert all(v.isPrepared(e, 1).call({"from": s.admin}) for e in grief)  # nothing more the updater's call does
    assert _walk_list(s) == [a, *listed, c]
    loud = (repost(a, 0.805), repost(c, 0.805))
    assert all(q_ <= l_ <= q_ + MAX_UNPOSTED_RUN * SKIP_GAS for q_, l_ in zip(quiet, loud, strict=True)), (quiet, loud)
    # one of the run posted: the run splits, and one more expiry can be listed beside the shorter run
    send(s.w3, v.postSlice(listed[1], _skew(listed[1] - now(s.w3), 0.805).as_tuple(), SPOT, []), s.admin)
    more = grief[MAX_UNPOSTED_RUN]
    assert not v.isPrepared(more, 1).call({"from": s.admin})
    assert _listed_by(_prepare(s, s.admin, more, 1), s) == [(more, grief[MAX_UNPOSTED_RUN - 1], c)]
    _check_list(s, {*listed, more}, [a, c, *grief])
    # a never-posted listed expiry passes: posts around it run (the nearer side ends there), and the next insertion
    # drops it with the expired head
    warp(s.w3, a + DAY - now(s.w3) + 1)
    assert listed[0] <= now(s.w3) < listed[1]
    reverts(v.postSlice(a, _skew(1, 0.8).as_tuple(), SPOT, []), s.admin, "VolExpiryPassed", a)
    repost(listed[1], 0.805)
    late = c + 10 * DAY
    send(s.w3, v.postSlice(late, _skew(late - now(s.w3), 0.805).as_tuple(), SPOT, []), s.admin)
    assert _walk_list(s)[0] == listed[1]
    _check_list(s, {*listed, more}, [a, c, late, *grief])


def test_a_lone_listed_expiry_is_the_head_and_stays_listed(suite: Suite, actors: Actors) -> None:
    """The updater lists an expiry into an empty list: its node is all zero (no neighbours), and the head names it.
    Anyone's preparation then must not read that zero node as free (a placeholder there would unlist it), the
    updater's has nothing left to do, and its first post does not insert it a second time (a node linked to itself
    would never end the list); a second expiry then links to it both ways."""
    s = suite
    v = s.vol_oracle.functions
    assert _walk_list(s) == []  # the suite posts nothing at deployment
    lone = now(s.w3) + 30 * DAY
    assert _listed_by(_prepare(s, s.admin, lone, 0), s) == [(lone, 0, 0)]
    assert _walk_list(s) == [lone] and _word(s, _base(lone, NODES)) == 0
    _prepare(s, actors.attacker, lone, 16)
    assert _word(s, _base(lone, NODES)) == 0 and _walk_list(s) == [lone]
    assert v.isPrepared(lone, 16).call({"from": s.admin})
    send(s.w3, v.postSlice(lone, _skew(lone - now(s.w3)).as_tuple(), SPOT, STRIKES), s.admin)
    assert _walk_list(s) == [lone]
    later = lone + 7 * DAY
    send(s.w3, v.postSlice(later, _skew(later - now(s.w3)).as_tuple(), SPOT, STRIKES), s.admin)
    assert _walk_list(s) == [lone, later]
    _check_list(s, set(), [lone, later])


def test_an_expired_listed_expiry_ends_a_run(suite: Suite, actors: Actors) -> None:
    """PR_RUN counts live expiries only: a listed expiry never posted that has passed (still linked before the head
    until an insertion drops it) does not count toward the run of the ones after it, so a fourth live one is still
    listed beside three."""
    s = suite
    t = now(s.w3)
    gone = t + 3600
    live = [t + d * DAY for d in (1, 2, 3)]
    for e in (gone, *live):
        assert _listed_by(_prepare(s, s.admin, e, 0), s) != []
    assert _walk_list(s) == [gone, *live]
    warp(s.w3, 2 * 3600)
    fourth = t + 4 * DAY
    assert _listed_by(_prepare(s, s.admin, fourth, 0), s) == [(fourth, live[-1], 0)]
    assert _walk_list(s) == [*live, fourth]  # the insertion dropped the passed head
    fifth = t + 5 * DAY
    assert _listed_by(_prepare(s, s.admin, fifth, 0), s) == []  # four live in a row: full
    _check_list(s, {*live, fourth}, [gone, *live, fourth, fifth])
