"""Oracle updates the keeper posts on local chains: the feed price (``MockAggregator.setAnswer``) and
implied volatilities (``VolatilityOracle.postVol``, which needs ``VOL_UPDATER_ROLE``).

Volatility posts follow the oracle's rate rule (``hedgevault.volrule.plan_vol_post``): a target further from
the last post than the oracle allows now is posted clipped to the allowed step toward it, a post sooner than
the minimum interval after the last one waits, and the updater keeps walking toward an unreached target on
later ticks until it is reached or the source gives a new one.

A ``MarketSource`` says what to post now; the simulator passes its own scenario, and ``PoolMarketSource``
(``hedgevault keeper --local-oracles``) re-posts the Uniswap pool's TWAP and the current vols so they stay
fresh. Units: prices and vols are wad (1e18 = 1.0), expiries unix seconds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.exceptions import ContractLogicError

from hedgevault.chain.abi import artifact_abi
from hedgevault.params import VolParams
from hedgevault.surface.mirror import Slice
from hedgevault.surface.oracle_rules import neighbour_now, refreshed
from hedgevault.surface.walk import PostRules, WalkStep, blend_shape, reshape, walk_toward
from hedgevault.volrule import VolPostPlan, allowed_step_wad, plan_vol_post

if TYPE_CHECKING:
    from hedgevault.surface.fit import SmilePoints

WAD = 10**18
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MarketQuote:
    """What to post now: ``price_wad`` (None: leave the feed) and ``vols_wad`` {expiry: vol wad}."""

    price_wad: int | None = None
    vols_wad: Mapping[int, int] = field(default_factory=dict)


class MarketSource(Protocol):
    """Where prices and vols come from."""

    def quote(self) -> MarketQuote | None:
        """The price and vols to post now (None: nothing new)."""
        ...


@dataclass(frozen=True)
class OracleCall:
    """One oracle transaction: ``slot`` keys the keeper's one-pending-per-slot rule (``oracle:feed``,
    ``oracle:vol:<expiry>``); ``description`` goes to the logs; ``note`` says why a vol post is not the
    source's target (clipped to the oracle's allowed step), "" otherwise."""

    slot: str
    to: str
    data: bytes
    description: str
    note: str = ""


@dataclass(frozen=True)
class HeldPost:
    """A vol post that may not be sent yet (the oracle's minimum interval): ``fresh`` when the target came
    from the source's quote in this pass (the keeper logs it at INFO), else a remembered target (DEBUG)."""

    slot: str
    to: str
    reason: str
    fresh: bool


@dataclass(frozen=True)
class OraclePlan:
    """The transactions for now and the vol posts held back."""

    calls: list[OracleCall]
    held: list[HeldPost]


@dataclass
class VolPostStats:
    """Counts of vol posts planned: sent (as asked or clipped), of which clipped to the allowed step, and the
    source's targets held back for the minimum interval (re-checks of a remembered target not counted)."""

    posted: int = 0
    clipped: int = 0
    held: int = 0


class OracleUpdater:
    """Turns a ``MarketSource``'s quotes into feed and volatility transactions for the keeper to send.

    Volatility targets pass through the oracle's rate rule (``plan_vol_post``, on the oracle's ``params()``,
    the expiry's ``lastPost`` and the head block's time); a target not reached at once is remembered and
    walked toward on later passes. The keeper simulates each call first (what would still revert is skipped
    with its reason) and sends them signed by ``account``, before it checks the vaults."""

    def __init__(
        self,
        w3: Web3,
        account: LocalAccount,
        feed_address: str,
        vol_oracle_address: str,
        source: MarketSource,
        quotes_file: Path | None = None,
        spot_wad: Callable[[], int] | None = None,
        surface_walk: bool = True,
    ) -> None:
        self.w3 = w3
        self.account = account
        self.source = source
        self.feed = w3.eth.contract(address=Web3.to_checksum_address(feed_address), abi=artifact_abi("MockAggregator"))
        self.vol_oracle = w3.eth.contract(
            address=Web3.to_checksum_address(vol_oracle_address), abi=artifact_abi("VolatilityOracle")
        )
        self._feed_decimals: int | None = None
        #: Targets not reached yet: expiry -> vol wad.
        self.targets: dict[int, int] = {}
        self.stats = VolPostStats()
        #: Fitted slices from a quotes file (keeper setting ``quotes_file``): the expiries it owns get no flat post.
        #: ``surface_walk`` False: a fit the rate limit refuses keeps the last good slice (no partial steps).
        self.surface = (
            None
            if quotes_file is None
            else SurfacePoster(
                self.vol_oracle, quotes_file, spot_wad=spot_wad, walk=surface_walk, sender=account.address
            )
        )

    def feed_decimals(self) -> int:
        if self._feed_decimals is None:
            self._feed_decimals = int(self.feed.functions.decimals().call())
        return self._feed_decimals

    def calls(self) -> list[OracleCall]:
        """The transactions for the source's current quote (empty when it has nothing new)."""
        return self.plan().calls

    def plan(self, *, block: int | None = None, now_sec: int | None = None) -> OraclePlan:
        """The transactions for the source's current quote and the remembered vol targets, and the vol posts
        held back for the oracle's minimum interval; the oracle is read at ``block`` whose time is ``now_sec``
        (the keeper's head; default: the latest block)."""
        out: list[OracleCall] = []
        held: list[HeldPost] = []
        owned: set[int] = set()
        if self.surface is not None:
            if block is None or now_sec is None:
                latest = self.w3.eth.get_block("latest")
                block, now_sec = int(latest["number"]), int(latest["timestamp"])
            out, held, owned = self.surface.plan(block=block, now_sec=now_sec)
            for expiry in owned:
                self.targets.pop(expiry, None)
        quote = self.source.quote()
        if quote is None and not self.targets:
            return OraclePlan(out, held)
        if quote is not None and quote.price_wad is not None:
            answer = quote.price_wad * 10 ** self.feed_decimals() // WAD
            data = bytes.fromhex(self.feed.encode_abi("setAnswer", [answer])[2:])
            out.append(OracleCall("oracle:feed", self.feed.address, data, f"setAnswer({answer})"))
        fresh = {e: v for e, v in (quote.vols_wad if quote is not None else {}).items() if e not in owned}
        wanted = {**self.targets, **fresh}
        if not wanted:
            return OraclePlan(out, held)
        if block is None or now_sec is None:
            latest = self.w3.eth.get_block("latest")
            block, now_sec = int(latest["number"]), int(latest["timestamp"])
        now = now_sec
        params = VolParams(*(int(v) for v in self.vol_oracle.functions.params().call(block_identifier=block)))
        # the first post of an expiry is bounded by the oracle's latest post, which each post here moves
        reference = int(self.vol_oracle.functions.referenceVolWad().call(block_identifier=block))
        for expiry, target in sorted(wanted.items()):
            slot = f"oracle:vol:{expiry}"
            last = self.vol_oracle.functions.lastPost(expiry).call(block_identifier=block)
            last_vol, last_at = int(last[0]), int(last[1])
            if expiry <= now or (expiry not in fresh and last_vol == target):
                self.targets.pop(expiry, None)  # expired, or a remembered target reached
                continue
            plan = plan_vol_post(
                target,
                last_vol_wad=last_vol,
                last_updated_at=last_at,
                now_sec=now,
                params=params,
                reference_vol_wad=reference,
            )
            self._remember(expiry, plan)
            if plan.vol_wad is None:
                self.stats.held += expiry in fresh  # a remembered target waiting again is not counted twice
                held.append(HeldPost(slot, self.vol_oracle.address, plan.reason, expiry in fresh))
                continue
            self.stats.clipped += plan.clipped
            self.stats.posted += 1
            reference = plan.vol_wad
            data = bytes.fromhex(self.vol_oracle.encode_abi("postVol", [expiry, plan.vol_wad])[2:])
            out.append(
                OracleCall(slot, self.vol_oracle.address, data, f"postVol({expiry}, {plan.vol_wad})", note=plan.reason)
            )
        return OraclePlan(out, held)

    def _remember(self, expiry: int, plan: VolPostPlan) -> None:
        if plan.vol_wad == plan.target_wad:
            self.targets.pop(expiry, None)
        else:
            self.targets[expiry] = plan.target_wad


class PoolMarketSource:
    """Local chains: post the pool's TWAP to the feed when it moved ``min_change_bps`` from the feed or the
    feed is ``feed_refresh_sec`` old, and re-post each live expiry's current vol when its post is
    ``vol_refresh_sec`` old (so neither goes stale while the chain's clock moves)."""

    def __init__(
        self,
        w3: Web3,
        vault_addresses: Sequence[str],
        *,
        min_change_bps: int = 10,
        feed_refresh_sec: int = 1800,
        vol_refresh_sec: int = 43_200,
    ) -> None:
        self.w3 = w3
        self.vaults = [
            w3.eth.contract(address=Web3.to_checksum_address(a), abi=artifact_abi("OptionVault"))
            for a in vault_addresses
        ]
        first = self.vaults[0]
        self.price_oracle = w3.eth.contract(
            address=first.functions.priceOracle().call(), abi=artifact_abi("PriceOracle")
        )
        self.feed = w3.eth.contract(
            address=self.price_oracle.functions.feed().call(), abi=artifact_abi("MockAggregator")
        )
        self.vol_oracle = w3.eth.contract(
            address=first.functions.volOracle().call(), abi=artifact_abi("VolatilityOracle")
        )
        self.decimals = int(self.feed.functions.decimals().call())
        self.min_change_bps = min_change_bps
        self.feed_refresh_sec = feed_refresh_sec
        self.vol_refresh_sec = vol_refresh_sec

    def _pool_price_wad(self) -> int:
        try:
            return int(self.price_oracle.functions.twapWad().call())
        except ContractLogicError:  # not enough pool history for the window yet: the current price
            return int(self.price_oracle.functions.poolSpotWad().call())

    def quote(self) -> MarketQuote | None:
        now = int(self.w3.eth.get_block("latest")["timestamp"])
        _, answer, _, updated_at, _ = self.feed.functions.latestRoundData().call()
        feed_wad = int(answer) * WAD // 10**self.decimals
        pool_wad = self._pool_price_wad()
        moved = feed_wad <= 0 or abs(pool_wad - feed_wad) * 10_000 >= self.min_change_bps * feed_wad
        price = pool_wad if moved or now - int(updated_at) >= self.feed_refresh_sec else None
        vols: dict[int, int] = {}
        expiries = {
            int(vault.functions.series(sid).call()[0])
            for vault in self.vaults
            for sid in vault.functions.liveSeries().call()
        }
        for expiry in sorted(e for e in expiries if e > now):
            vol_wad, posted_at = self.vol_oracle.functions.lastPost(expiry).call()
            if int(vol_wad) > 0 and now - int(posted_at) >= self.vol_refresh_sec:
                vols[expiry] = int(vol_wad)
        if price is None and not vols:
            return None
        return MarketQuote(price, vols)


class NoMarketSource:
    """A ``MarketSource`` with nothing to post (a keeper that posts fitted slices only)."""

    def quote(self) -> MarketQuote | None:
        return None


class SurfacePoster:
    """Fits one SVI slice per quoted expiry from a quotes file (keeper setting ``quotes_file``; JSON or CSV as
    ``hedgevault.surface.fit.load_quotes`` reads them) and plans one ``postSlices`` transaction for them.

    On each pass it refits when the file changed or an expiry's post is ``refresh_sec`` old. Each fitted slice
    is checked with the oracle's rules in the mirror (``hedgevault.surface.oracle_rules.check_post``: the
    at-the-money rules, every strike of the expiry's strike set, butterfly and calendar on the oracle's grid
    against the nearer slice of this batch or on chain) before it is posted. A fit refused only for the rate limit
    is walked toward (``hedgevault.surface.walk``, ``walk`` True): the largest partial step every rule accepts is
    posted, logged with its lambda and the largest per-strike move left (``walks``), and the expiry is refitted on
    the next pass until the fit itself is posted. Any other failed fit (or none, or no step that passes) falls
    back to the expiry's last good slice on chain, re-posted when due so it stays fresh, with the reason
    logged (``fallbacks``). An expiry whose post is younger than the oracle's minimum interval waits. The slices of
    one pass go in one ``postSlices`` (the oracle stores the batch and then checks each against its neighbours, so the
    order of expiries does not matter). ``spot_wad`` gives the spot for a CSV (JSON files carry their own).

    A post that would create oracle storage (an expiry's first post, its first smile, a strike set growing into a
    new slot) is preceded by ``prepareExpiry`` for the post's strike set (slot ``oracle:prepare:<expiry>``) when the
    listing did not prepare it (``hedgevault.surface.prepare``): the post itself stays within its gas figure. The
    keeper holds ``VOL_UPDATER_ROLE``, so its preparation of an expiry never posted also inserts it into the oracle's
    expiry list (``sender``: the keeper's address, whom ``isPrepared`` answers for), unless the oracle's run of
    listed expiries never posted is full (then the post inserts the expiry itself)."""

    def __init__(
        self,
        vol_oracle: Any,
        quotes_file: Path,
        *,
        spot_wad: Callable[[], int] | None = None,
        refresh_sec: int = 43_200,
        walk: bool = True,
        sender: str,
    ) -> None:
        self.vol_oracle = vol_oracle
        self.walk = walk
        #: The keeper's address: ``isPrepared`` answers for its caller (the updater's preparation lists the expiry).
        self.sender = sender
        self.quotes_file = Path(quotes_file)
        self.spot_wad = spot_wad
        self.refresh_sec = refresh_sec
        self._mtime: float | None = None
        #: expiry -> a strike count the oracle has answered `isPrepared` for (its slots never return to zero before
        #: the expiry: no need to ask again for as many strikes or fewer)
        self._prepared: dict[int, int] = {}
        #: Why each expiry kept its last good slice on the latest pass (expiry -> reason).
        self.fallbacks: dict[int, str] = {}
        #: The partial steps toward a fit the rate limit refused on the latest pass (expiry -> step).
        self.walks: dict[int, WalkStep] = {}
        #: The expiries whose fit itself was posted on the latest pass.
        self.posted_fits: set[int] = set()
        #: Partial steps posted since the start.
        self.walk_posts = 0
        #: Whether the latest pass refitted (False: nothing was due; the fields above are the pass before).
        self.refitted = False
        #: Expiries walking toward a fit not reached yet: the next pass refits them even if the file is unchanged.
        self._unreached: set[int] = set()
        #: The expiries of the latest quotes file read.
        self._expiries: tuple[int, ...] = ()

    def _due(self, now_sec: int, block: int) -> bool:
        try:
            mtime = self.quotes_file.stat().st_mtime
        except OSError as exc:
            log.warning("quotes file %s unreadable (%s): no slice posts", self.quotes_file, exc.strerror)
            return False
        if mtime != self._mtime or self._unreached:
            return True
        for expiry in self._expiries:
            posted_at = int(self.vol_oracle.functions.lastPost(expiry).call(block_identifier=block)[1])
            if expiry > now_sec and now_sec - posted_at >= self.refresh_sec:
                return True
        return False

    def plan(self, *, block: int, now_sec: int) -> tuple[list[OracleCall], list[HeldPost], set[int]]:
        """The ``postSlices`` call (or none), the expiries held for the minimum interval, and every expiry this
        poster owns (the flat vol path leaves them alone)."""
        from hedgevault.surface.errors import SurfaceFitError
        from hedgevault.surface.fit import fit_expiry, load_quotes, smile_points
        from hedgevault.surface.oracle_rules import Previous
        from hedgevault.surface.walk import RULE_ERRORS, PostRules

        owned = set(self._expiries)
        self.refitted = False
        if not self._due(now_sec, block):
            return [], [], owned
        self._mtime = self.quotes_file.stat().st_mtime
        spot = None if self.spot_wad is None else self.spot_wad() / WAD
        try:
            snapshot = replace(load_quotes(self.quotes_file, spot=spot, now=now_sec), now=now_sec)
        except SurfaceFitError as exc:
            log.warning("%s: no slice posts this pass", exc)
            return [], [], owned
        points, _ = smile_points(snapshot)
        self._expiries = tuple(p.expiry for p in points)
        owned |= set(self._expiries)
        o = self.vol_oracle.functions
        params = VolParams(*(int(v) for v in o.params().call(block_identifier=block)))
        reference = int(o.referenceVolWad().call(block_identifier=block))
        grid_points = int(o.gridPoints().call(block_identifier=block))
        posts: list[tuple[int, tuple[int, ...], int, list[int]]] = []
        prepares: list[OracleCall] = []
        held: list[HeldPost] = []
        nearer: Slice | None = None
        self.refitted = True
        self.fallbacks = {}
        self.walks = {}
        self.posted_fits = set()
        notes: list[str] = []
        for i, pts in enumerate(points):
            _, last_at = (int(x) for x in o.lastPost(pts.expiry).call(block_identifier=block))
            on_chain = Slice(*(int(x) for x in o.sliceOf(pts.expiry).call(block_identifier=block)))
            strikes = [int(x) for x in o.strikesOf(pts.expiry).call(block_identifier=block)]
            previous = None if last_at == 0 else Previous(on_chain, pts.expiry - last_at)
            if last_at != 0 and now_sec - last_at < params.min_interval_sec:
                reason = f"minimum interval: last post at {last_at}"
                held.append(HeldPost(f"oracle:vol:{pts.expiry}", self.vol_oracle.address, reason, True))
                nearer = neighbour_now(on_chain, pts.expiry - last_at, pts.time_sec, True)
                continue
            allowed = 0 if last_at == 0 else allowed_step_wad(params, now_sec - last_at)
            strike_set = strikes + [k for k in pts.strikes_wad if k not in strikes]
            rules = PostRules(
                time_sec=pts.time_sec,
                previous=previous,
                strikes_wad=tuple(strike_set),
                forward_wad=pts.forward_wad,
                allowed_step_wad=allowed,
                reference_vol_wad=reference,
                max_step_wad=params.max_step_wad,
                min_vol_wad=params.min_vol_wad,
                max_vol_wad=params.max_vol_wad,
                grid_points=grid_points,
                nearer=nearer,
            )
            res = fit_expiry(
                pts,
                nearer=nearer,
                last_good=on_chain if last_at else None,
                previous=None if previous is None else (previous.slice, previous.time_sec),
                max_step_wad=allowed if previous is not None else None,
                grid_points=grid_points,
            )
            candidate, reason = res.slice, res.reason
            target = res.refused  # a fit the rate limit refused in the fit itself
            if res.fitted and candidate is not None:
                try:
                    rules.check(candidate)
                except RULE_ERRORS as exc:
                    target = candidate
                    candidate, reason = (on_chain if last_at else None), f"the oracle's rules refuse the fit: {exc}"
            step: WalkStep | None = None
            if target is not None and previous is not None and self.walk:
                step = self._walk(pts, i, points, rules, on_chain, last_at, target, block, now_sec)
                if step is None:
                    reason += "; not walked toward: refused for more than the rate limit"
                elif step.num == 0:
                    reason += f"; no step toward it passes ({step.reason})"
            self._unreached.discard(pts.expiry)
            if step is not None and step.num > 0:
                candidate = step.slice
                self.walks[pts.expiry] = step
                self.walk_posts += 1
                if step.slice != target:
                    self._unreached.add(pts.expiry)
                note = (
                    f"expiry {pts.expiry}: partial step toward the refused fit, lambda {step.lam:.6f}, largest "
                    f"per-strike move left {step.max_left_wad / WAD:.6f} ({step.reason or 'the fit reached'})"
                )
                notes.append(note)
                log.info("%s", note)
                posts.append((pts.expiry, candidate.as_tuple(), pts.forward_wad, list(pts.strikes_wad)))
                self._prepare(pts.expiry, len(strike_set), block, prepares)
            elif candidate is None or not res.fitted or candidate is on_chain:
                if step is not None:
                    self._unreached.add(pts.expiry)  # retried on the next pass, even with the same quotes
                self.fallbacks[pts.expiry] = reason
                log.warning("expiry %d: %s; keeping the last good slice", pts.expiry, reason)
                if last_at == 0 or now_sec - last_at < self.refresh_sec:
                    if last_at:
                        nearer = neighbour_now(on_chain, pts.expiry - last_at, pts.time_sec, True)
                    continue
                # re-posted so that it stays fresh, its total variance scaled to the time left (a and b times
                # T_now / T_post, as the oracle's neighbour rule): the oracle reads a slice as sqrt(w / T) at its
                # post, so the same numbers re-posted later would raise every vol by sqrt(T_post / T_now) and
                # break the rate limit (reverting the whole batch)
                candidate = refreshed(on_chain, pts.expiry - last_at, pts.time_sec)  # on the storage grid
                posts.append((pts.expiry, candidate.as_tuple(), pts.forward_wad, []))
            else:
                posts.append((pts.expiry, candidate.as_tuple(), pts.forward_wad, list(pts.strikes_wad)))
                self.posted_fits.add(pts.expiry)
                self._prepare(pts.expiry, len(strike_set), block, prepares)
            reference = mirror_atm(candidate, pts.time_sec)
            nearer = candidate
        if not posts:
            return [], held, owned
        data = bytes.fromhex(self.vol_oracle.encode_abi("postSlices", [posts])[2:])
        desc = "postSlices(" + ", ".join(str(p[0]) for p in posts) + ")"
        call = OracleCall("oracle:surface", self.vol_oracle.address, data, desc, note="; ".join(notes))
        return [*prepares, call], held, owned

    def _prepare(self, expiry: int, strike_count: int, block: int, prepares: list[OracleCall]) -> None:
        """A ``prepareExpiry`` call before a post naming ``strike_count`` strikes when the oracle is not prepared."""
        from hedgevault.surface.prepare import MAX_STRIKES, strikes_to_prepare

        if self._prepared.get(expiry, -1) >= min(strike_count, MAX_STRIKES):
            return
        n = strikes_to_prepare(self.vol_oracle, expiry, strike_count, self.sender, block)
        if n is None:
            self._prepared[expiry] = min(strike_count, MAX_STRIKES)
            return
        data = bytes.fromhex(self.vol_oracle.encode_abi("prepareExpiry", [expiry, n])[2:])
        prepares.append(
            OracleCall(f"oracle:prepare:{expiry}", self.vol_oracle.address, data, f"prepareExpiry({expiry}, {n})")
        )

    def _walk(
        self,
        pts: SmilePoints,
        index: int,
        points: Sequence[SmilePoints],
        rules: PostRules,
        on_chain: Slice,
        last_at: int,
        target: Slice,
        block: int,
        now_sec: int,
    ) -> WalkStep | None:
        """The partial step toward ``target`` (refused by the rules), or None when the target is refused for more
        than the rate limit (arbitrage, bounds: not walked toward). The start is the re-post (the on-chain slice
        rescaled to the time left); the rules gain the next quoted expiry's on-chain slice as the farther
        neighbour (total variance now, rounded down; the oracle checks a post against it unless the batch moves
        it, and then the farther's own check against this step as its nearer covers the pair).

        A target that crosses only that on-chain farther slice is judged against the farther expiry's own fit of
        the same quotes: if it crosses the quotes' farther smile too, the quotes imply calendar arbitrage and it is
        not walked toward; if not, the farther slice merely lags the market (it is walking too) and the walk goes
        as far as the on-chain farther allows now."""
        from hedgevault.surface.fit import fit_expiry

        farther = None
        if index + 1 < len(points):
            far = points[index + 1].expiry
            o = self.vol_oracle.functions
            far_at = int(o.lastPost(far).call(block_identifier=block)[1])
            if far_at != 0 and far > now_sec:
                far_slice = Slice(*(int(x) for x in o.sliceOf(far).call(block_identifier=block)))
                farther = neighbour_now(far_slice, far - far_at, far - now_sec, False)
        rules = replace(rules, farther=farther)
        if not rules.refused_only_for_rate(target):
            if farther is None or not replace(rules, farther=None).refused_only_for_rate(target):
                return None
            far_fit = fit_expiry(points[index + 1], grid_points=rules.grid_points)
            if far_fit.slice is None or not far_fit.fitted:
                return None
            if not replace(rules, farther=far_fit.slice).refused_only_for_rate(target):
                return None  # the quotes' own farther smile is crossed: calendar arbitrage in the quotes
        start = neighbour_now(on_chain, pts.expiry - last_at, pts.time_sec, False)
        step = walk_toward(reshape(start, target, rules.strikes_wad, pts.forward_wad), target, rules, path=blend_shape)
        if step.num == 0:  # the start not representable in the fit's shape within a step: the parameters' blend
            step = walk_toward(start, target, rules)
        return step


def mirror_atm(s: Slice, time_sec: int) -> int:
    """The slice's at-the-money (k = 0) vol over ``time_sec`` (what the oracle stores as the post's vol)."""
    from hedgevault.surface.mirror import _vol_at

    return _vol_at(s, 0, time_sec)
