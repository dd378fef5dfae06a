// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ISviMath} from "./ISviMath.sol";

/// @title IVolatilityOracle
/// @notice Implied volatilities posted per expiry by an updater role. Every post is bounded: within
/// [minVolWad, maxVolWad], at least `minIntervalSec` after the previous post of the same expiry, and by
/// a step that grows with the time since that post at `maxRatePerHourWad` up to `maxStepWad`. Reads fail
/// closed when nothing was posted or the post is older than the staleness limit.
/// Units: `volWad` is annual volatility in wad (0.8e18 = 80%); `expiry` is a unix time in seconds.
///
/// Rate bound: a post at time t after the previous post of the same expiry at time t0 may move the
/// volatility by at most allowedStepWad = min(maxStepWad, floor(maxRatePerHourWad x (t - t0) / 3600)), and
/// only when t - t0 >= minIntervalSec. Hence, with the parameters unchanged, over any window of W seconds the
/// volatility of one expiry changes by at most maxStepWad + maxRatePerHourWad x W / 3600 (the first post in
/// the window takes at most maxStepWad, the others at most the rate times the time between them). At the
/// defaults (maxStepWad 0.05e18, maxRatePerHourWad 0.05e18, minIntervalSec 300) that is 10 vol points in
/// any hour, so a compromised updater key cannot walk 80% -> 5% -> 300% in one block.
/// The first post of an expiry must be within maxStepWad of the oracle's latest post of any expiry
/// (`referenceVolWad`). @dev Warning: the oracle's very first post is bounded only by [minVolWad,
/// maxVolWad]; nothing trades against an expiry before its first post (reads revert `VolNotPosted`).
/// Warning: `setParams` (admin) takes effect at once; the bound above holds between parameter changes.
///
/// Volatility surface (issue 13, docs/volatility-surface.md). Every expiry holds one raw SVI slice
/// (`ISviMath`); `postVol(expiry, v)` posts the flat slice of v (`SviMath.flatSlice`, every strike at v to the
/// wei), `postSlice` / `postSlices` a smile. A slice is read as implied volatilities: the volatility of
/// log-moneyness k is sigma(k) = sqrt(w(k) / T0) with T0 the time to expiry at its post (so a flat slice's
/// volatility is the posted v at any later time, as today). A post checks, in this order: the expiry has not
/// passed, the parameters (`SviMath.checkParams`), a smile's parameters on the storage grid (`VolSliceOffGrid`: a
/// in steps of 1e-18, b, rho, m and sigma in steps of 1e-9; a flat slice is stored as its volatility, to the wei),
/// the interval since the expiry's previous post, the
/// at-the-money volatility (k = 0) within [minVolWad, maxVolWad] and its step (`VolRateExceeded`) or, for a
/// first post, its distance to `referenceVolWad` (`VolFirstPostTooFar`), then at every strike of the
/// expiry's strike set (`strikesOf`; a slice post adds its strikes to the set, nothing removes them, at
/// most `MAX_STRIKES`) the volatility within the bounds (`VolStrikeOutOfBounds`) and within the same
/// allowed step of the previous post's volatility at that strike, both at the post's forward
/// (`ISviMath.SviVolStepExceeded`). A flat slice posted after a flat one skips the per-strike loop (every strike
/// is at the at-the-money volatility). Last, once the post (the whole batch) is stored: butterfly arbitrage on
/// a grid of `gridPoints` equally spaced k over the strike set's range (widened to at least [-0.1, 0.1])
/// and calendar arbitrage on the same grid against the neighbouring expiries (the nearer and the farther; one that is stale or expired is skipped), whose total
/// variances are taken at now (w x T_now / T0, rounded against the post). `postVol` runs the calendar check
/// only against neighbours that are not flat (two flat expiries are the legacy path, as before).
/// Cross-expiry order: `postSlices` stores every slice of the batch first and then checks each against the
/// stored neighbours, so a whole surface moves in one transaction in any order; single posts are checked
/// against the neighbours stored at the time (raise the far expiries first, lower the near ones first).
///
/// Storage: an expiry's post and its whole slice share one word (the post time, the strike set's size, and either
/// the flat slice's volatility or the smile's five parameters on the grid above).
///
/// Prepared expiries (`prepareExpiry`, anyone). The first post of an expiry creates its storage: the post's slot,
/// the list node and the strike set's slots (two strikes each), 22,100 gas each, on top of the post's checks. `prepareExpiry` moves that cost off the post, as Uniswap V3's
/// `increaseObservationCardinalityNext` moves it off swaps: it writes a placeholder into each of those slots that
/// is still empty, so the post later rewrites a non-zero slot (2,900 gas beside the cold read the post makes
/// anyway). A placeholder sits in a field no read looks at before the slot holds a post (the post word's rho, read
/// only after a smile post, which writes the whole word; the node's links, read only for an expiry in the list, which its insertion writes; a strike slot wholly beyond the set's
/// size, read only below it), at a value no post stores there. So a prepared expiry reads exactly as an
/// unprepared one (`VolNotPosted`, an empty slice and strike set, `lastPost` (0, 0)), every post's checks,
/// errors and stored values are the same, and `epoch` does not move (no cached value changes). A slot that holds
/// a post's data is never written: preparing a posted expiry writes only what a later post would still create
/// (strike slots beyond the set).
///
/// Listed expiries (the updater's `prepareExpiry`). The first post of an expiry also inserts it into the sorted
/// list of expiries the calendar check takes its neighbours from: about 13,800 gas between two neighbours (the head
/// and the nodes walked read cold, both neighbours' links rewritten). When the caller of `prepareExpiry` holds
/// `VOL_UPDATER_ROLE` (who inserts expiries by posting anyway), the preparation also inserts an expiry never posted
/// (`ExpiryListed`), so its first post inserts nothing. The calendar check walks past a listed expiry never posted
/// to the nearest posted one on that side (stale and expired ones stay as before: none), so such an expiry hides no
/// neighbour from another's check. A run of them is at most `MAX_UNPOSTED_RUN` (4) long: the updater's preparation
/// that would make a longer one lists nothing (its first post inserts the expiry, as without preparation), which
/// bounds the walk (each one passed costs a post two cold reads and a step, about 5,400 gas: at most about 21,700 a
/// side). Anyone else's preparation does not touch the list. `isPrepared` answers for its caller: false for the
/// updater while its call would list the expiry.
interface IVolatilityOracle {
    /// @notice Bounds of the oracle, set by the admin within hard bounds. Fields share storage slots:
    /// the first four with the epoch (one cold read for a reader that checks the epoch), the last two
    /// together.
    struct VolParams {
        uint64 minVolWad;
        uint64 maxVolWad;
        uint64 maxStepWad; // largest change of one post, vol wad (0.05e18 = 5 vol points)
        uint32 maxAgeSec;
        uint64 maxRatePerHourWad; // vol wad the allowed step grows by per hour since the previous post
        uint32 minIntervalSec; // least time between two posts of one expiry
    }

    /// @notice Nothing was ever posted for `expiry`.
    error VolNotPosted(uint256 expiry);
    /// @notice The post for `expiry` is older than `maxAgeSec`.
    error VolStale(uint256 expiry, uint256 updatedAt, uint256 maxAgeSec);
    /// @notice A post outside [minVolWad, maxVolWad].
    error VolOutOfBounds(uint256 volWad, uint256 minVolWad, uint256 maxVolWad);
    /// @notice A post of `expiry` less than `minIntervalSec` after its previous post at `lastUpdatedAt`.
    error VolPostTooSoon(uint256 expiry, uint256 lastUpdatedAt, uint256 minIntervalSec);
    /// @notice A post that moves more than `allowedStepWad` (= min(maxStepWad, maxRatePerHourWad x
    /// seconds since the previous post / 3600), rounded down) from the previous one.
    error VolRateExceeded(uint256 previousVolWad, uint256 newVolWad, uint256 allowedStepWad);
    /// @notice The first post of an expiry more than `maxStepWad` from the oracle's latest post of any expiry
    /// (`referenceVolWad`): a new expiry starts next to the curve and then moves at the rate.
    error VolFirstPostTooFar(uint256 expiry, uint256 volWad, uint256 referenceVolWad, uint256 maxStepWad);
    /// @notice A post for an expiry in the past.
    error VolExpiryPassed(uint256 expiry);
    /// @notice A parameter outside its hard bound.
    error VolParamOutOfBounds(bytes32 name, uint256 value, uint256 min, uint256 max);

    /// @notice The volatility of strike `strikeWad` of `expiry` under a posted slice is outside [minVolWad,
    /// maxVolWad].
    error VolStrikeOutOfBounds(uint256 expiry, uint256 strikeWad, uint256 volWad, uint256 minVolWad, uint256 maxVolWad);
    /// @notice A slice post would bring the strike set of `expiry` above `maxStrikes`.
    error VolTooManyStrikes(uint256 expiry, uint256 count, uint256 maxStrikes);
    /// @notice A batch of slices with no post, or with an expiry twice.
    error VolBatchInvalid(uint256 length);
    /// @notice A smile's parameter `name` ("a36", "bWad", "rhoWad", "mWad", "sigmaWad") is not a multiple of its
    /// storage step `unit` (a36: 1e18, the others 1e9): the oracle stores a smile in one word and rounds nothing.
    error VolSliceOffGrid(bytes32 name, int256 value, int256 unit);

    /// @notice One slice of a post (`postSlices`): the expiry, the slice (`ISviMath`), the forward the keeper
    /// fitted it at (wad; the rate limit and the grid evaluate the strikes at it) and strikes to add to the
    /// expiry's strike set (wad; the listed strikes of the vaults that price from this oracle).
    struct SlicePost {
        uint256 expiry;
        ISviMath.SviSlice slice;
        uint256 forwardWad;
        uint256[] strikesWad;
    }

    /// @notice What a pricer needs of an expiry (`sliceUntil`).
    struct SliceRead {
        /// @dev A flat slice's volatility (every strike's); 0 for a smile, whose volatilities are its slice's
        /// (`lastPost` / `volWad` give a smile's at-the-money one).
        uint256 atmVolWad;
        /// @dev The post stays fresh until this time (post time + max age, unix seconds).
        uint256 freshUntilSec;
        /// @dev The time to expiry at the post: sigma(k) = sqrt(w(k) / postTimeSec x 1 year).
        uint256 postTimeSec;
        uint256 minVolWad;
        uint256 maxVolWad;
        /// @dev The slice; all zero for a flat one (b = 0: every strike at `atmVolWad`; `sliceOf` gives its a).
        ISviMath.SviSlice slice;
    }

    /// @notice A volatility was posted.
    event VolPosted(uint256 indexed expiry, uint256 volWad, address indexed updater);
    /// @notice A slice was posted for `expiry` (its at-the-money volatility in `VolPosted`, emitted too).
    event SlicePosted(uint256 indexed expiry, ISviMath.SviSlice slice, uint256 forwardWad);
    /// @notice The number of grid points of the arbitrage checks changed.
    event GridPointsSet(uint256 points);
    /// @notice `prepareExpiry` wrote placeholders into `slots` storage slots for `expiry`'s first post and a strike
    /// set of `strikes` strikes (not emitted when every slot was ready).
    event ExpiryPrepared(uint256 indexed expiry, uint256 strikes, uint256 slots);
    /// @notice The updater's `prepareExpiry` inserted `expiry`, never posted, into the sorted expiry list between
    /// `prev` and `next` (0: none).
    event ExpiryListed(uint256 indexed expiry, uint256 prev, uint256 next);
    /// @notice The bounds changed.
    event VolParamsSet(VolParams params);

    /// @notice Post `volWad` for `expiry` (updater role). Reverts `VolExpiryPassed`, `VolOutOfBounds`,
    /// for an expiry posted before `VolPostTooSoon` or `VolRateExceeded` (see the rate bound above), and for
    /// the first post of an expiry `VolFirstPostTooFar` beyond `maxStepWad` of `referenceVolWad()` (the
    /// oracle's latest post of any expiry; unbounded for the oracle's very first post), so a compromised
    /// updater cannot open a newly listed expiry at the bottom of the bounds.
    function postVol(uint256 expiry, uint256 volWad) external;

    /// @notice Set the bounds (admin role). Hard bounds: min/max within [0.01, 5] (max >= min), maxStep in
    /// [0.001, 1], maxAge in [60 s, 7 days], maxRatePerHour in [0.001, 1], minInterval in [60 s, 1 day] and
    /// at most maxAge (so an expiry can be re-posted before its post goes stale).
    function setParams(VolParams calldata params) external;

    /// @notice The largest |change| a post of `expiry` may make now, in vol wad: 0 when no post is possible
    /// now (the expiry has passed, or less than `minIntervalSec` since its previous post); maxVolWad -
    /// minVolWad when it was never posted (the first post is bounded by `referenceVolWad()` instead); else
    /// min(maxStepWad, floor(maxRatePerHourWad x (now - lastUpdatedAt) / 3600)).
    function maxStepNowWad(uint256 expiry) external view returns (uint256);

    /// @notice The oracle's latest post of any expiry (0 before the first): a first post of an expiry must be
    /// within `maxStepWad` of it.
    function referenceVolWad() external view returns (uint256);

    /// @notice The fresh volatility of `expiry`; reverts `VolNotPosted` / `VolStale`.
    function volWad(uint256 expiry) external view returns (uint256);

    /// @notice The fresh volatility of `expiry` and the time until which it stays fresh (post time + max
    /// age, unix seconds); reverts like `volWad`.
    function volWadUntil(uint256 expiry) external view returns (uint256 volWad, uint256 freshUntilSec);

    /// @notice A counter that changes with every post and every change of the bounds (modulo 2^32): a reader
    /// that cached values computed from the posted volatilities knows they may have changed when it differs.
    function epoch() external view returns (uint64);

    /// @notice The largest step of any one post (`VolParams.maxStepWad`): what one post can move an
    /// expiry's vol by at most. One storage read (the slot `epoch` reads), for the vault's swing.
    function maxStepWad() external view returns (uint256);

    /// @notice The last post of `expiry` without freshness check (0, 0 if none).
    function lastPost(uint256 expiry) external view returns (uint256 volWad, uint256 updatedAt);

    /// @notice The current bounds.
    function params() external view returns (VolParams memory);

    /// @notice Post one slice (updater role): `postSlices` with one post.
    function postSlice(uint256 expiry, ISviMath.SviSlice calldata slice, uint256 forwardWad, uint256[] calldata strikesWad)
        external;

    /// @notice Post several expiries' slices in one transaction (updater role): each checked as above
    /// against its own previous post, all stored, then each checked for butterfly and calendar arbitrage
    /// against the stored neighbours (the batch's own included). Reverts `VolBatchInvalid` (empty, or an
    /// expiry twice), the errors of `postVol`, `ISviMath`'s, `VolStrikeOutOfBounds`, `VolTooManyStrikes`.
    function postSlices(SlicePost[] calldata posts) external;

    /// @notice The fresh slice of `expiry` with what a pricer needs (a flat slice: all zero, read `atmVolWad`);
    /// reverts like `volWad`.
    function sliceUntil(uint256 expiry) external view returns (SliceRead memory);

    /// @notice The slice of `expiry` as stored, without freshness check (all zero if none).
    function sliceOf(uint256 expiry) external view returns (ISviMath.SviSlice memory);

    /// @notice The strike set of `expiry` (wad): the strikes every slice post of it is checked at.
    function strikesOf(uint256 expiry) external view returns (uint256[] memory);

    /// @notice The volatility of `strikeWad` of `expiry` at forward `forwardWad` under its fresh slice (wad;
    /// the slice's sigma(k) at k = ln(strike / forward), not clamped to the bounds). Reverts like `volWad`
    /// and `SviMath.volWad`.
    function strikeVolWad(uint256 expiry, uint256 strikeWad, uint256 forwardWad) external view returns (uint256);

    /// @notice The number of grid points of the arbitrage checks (2..64; 24 at deployment).
    function gridPoints() external view returns (uint256);

    /// @notice Set the number of grid points (admin role), within [8, 64]; reverts `VolParamOutOfBounds`.
    function setGridPoints(uint256 points) external;

    /// @notice Write placeholders into the storage slots a post of `expiry` would create while its strike set holds
    /// at most `strikes` strikes (anyone; the caller pays about 22,100 gas a slot, the posts save 17,100 each):
    /// for an expiry never posted its post slot and list node, and the strike set's slots beyond its current size
    /// up to `strikes`. Idempotent: a slot already holding data
    /// or a placeholder is left alone (a call with nothing to write costs only its reads and emits nothing). No
    /// read, check, error or stored value of any post changes, and `epoch` does not move (see above). Reverts
    /// `VolExpiryPassed` for an expiry at or before now and `VolTooManyStrikes(expiry, strikes, MAX_STRIKES)`
    /// beyond `MAX_STRIKES`.
    /// The updater's call (`VOL_UPDATER_ROLE`) also inserts an expiry never posted into the sorted list (see
    /// "Listed expiries" above; `ExpiryListed`), unless that would make more than `MAX_UNPOSTED_RUN` (4) listed
    /// expiries never posted stand in a row (then the first post inserts it).
    /// @dev Warning: preparing an expiry that is never posted costs its caller and saves nobody anything; anyone
    /// else's cannot cost the protocol (the updater's posts, the vaults' reads) anything. An expiry the updater
    /// listed and never posted costs each post of its posted neighbours about 5,400 gas (two cold reads) until it
    /// is posted or expires.
    function prepareExpiry(uint256 expiry, uint256 strikes) external;

    /// @notice Whether `prepareExpiry(expiry, strikes)` called by `msg.sender` would write nothing: every slot a post
    /// of `expiry` with at most `strikes` strikes would otherwise create holds data or a placeholder (the time is not
    /// looked at) and, for a caller holding `VOL_UPDATER_ROLE`, the expiry is posted, in the list, or not to be
    /// listed now (its run would exceed `MAX_UNPOSTED_RUN`). Reverts `VolTooManyStrikes` beyond `MAX_STRIKES`.
    function isPrepared(uint256 expiry, uint256 strikes) external view returns (bool);
}
