// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

import {ISviMath} from "../../interfaces/ISviMath.sol";
import {IVolatilityOracle} from "../../interfaces/IVolatilityOracle.sol";
import {SviMath} from "../libraries/SviMath.sol";

/// @title VolatilityOracle
/// @notice Posted implied volatilities per expiry, one SVI slice each (a flat one for `postVol`); see
/// `IVolatilityOracle`.
contract VolatilityOracle is IVolatilityOracle, AccessControl {
    bytes32 public constant VOL_UPDATER_ROLE = keccak256("VOL_UPDATER_ROLE");

    uint256 internal constant HARD_MIN_VOL_WAD = 0.01e18;
    uint256 internal constant HARD_MAX_VOL_WAD = 5e18;
    uint256 internal constant HARD_MIN_STEP_WAD = 0.001e18;
    uint256 internal constant HARD_MAX_STEP_WAD = 1e18;
    uint256 internal constant HARD_MIN_AGE_SEC = 60;
    uint256 internal constant HARD_MAX_AGE_SEC = 7 days;
    uint256 internal constant HARD_MIN_RATE_PER_HOUR_WAD = 0.001e18;
    uint256 internal constant HARD_MAX_RATE_PER_HOUR_WAD = 1e18;
    uint256 internal constant HARD_MIN_INTERVAL_SEC = 60;
    uint256 internal constant HARD_MAX_INTERVAL_SEC = 1 days;
    uint256 internal constant HARD_MIN_GRID_POINTS = 8;
    uint256 internal constant HARD_MAX_GRID_POINTS = 64;
    uint256 internal constant DEFAULT_GRID_POINTS = 24;
    /// @notice The most strikes an expiry's strike set holds (each costs a post about 3,200 gas).
    uint256 public constant MAX_STRIKES = 16;
    /// @dev The grid of the arbitrage checks covers at least k in [-0.1, 0.1] and at most |k| <= 5.
    int256 internal constant MIN_GRID_HALF_WIDTH_WAD = 0.1e18;
    int256 internal constant MAX_ABS_K_WAD = 5e18;
    uint256 internal constant MAX_FORWARD_WAD = 1e30;

    /// @dev `prepareExpiry`'s placeholders (see `IVolatilityOracle`), each in a field no read looks at before its
    /// slot holds a post and at a value no post stores there. The post word's rho field: read only when b != 0
    /// (after a smile post, which writes the whole word); every post has |rho| < 1e18, |rho / 1e9| < 2^30.
    int256 internal constant PREPARED_RHO_NANO = -(1 << 30);
    /// @dev The list node's links: read only for an expiry in the list, whose insertion writes both; no expiry in
    /// the list is 2^64 - 1.
    uint64 internal constant PREPARED_LINK = type(uint64).max;
    /// @dev A strike slot wholly beyond the set's size (read only below the post's strike count): 1 wei in each half.
    uint256 internal constant PREPARED_STRIKE_PAIR = (1 << 128) | 1;
    /// @dev `_unprepared`'s bits: the post slot, the node, then strike slot j at bit 3 + j (bit 1 unused: the slice's
    /// second word is gone, the slice lives in the post's word).
    uint256 internal constant PREPARE_POST = 1;
    uint256 internal constant PREPARE_NODE = 4;
    uint256 internal constant PREPARE_STRIKE_SLOT = 8;
    /// @dev `prepareExpiry`'s list insertion (the updater's call for an expiry not in the list), above the strike bits.
    uint256 internal constant PREPARE_LIST = 1 << 16;
    /// @dev The longest run of consecutive expiries in the list that were listed by the updater's
    /// `prepareExpiry` and never posted (the calendar check walks past them to the nearest posted expiry).
    uint256 internal constant MAX_UNPOSTED_RUN = 4;

    /// @dev The post of an expiry and its whole slice in one storage word (`_posts`). Bits, from the lowest, with
    /// the bound of each field (the checks run before every store: `SviMath.checkParams`' domain, the grid of
    /// `_checkGrid`, the bounds of the oracle):
    /// - updatedAt [0, 40): a block time, below 2^40;
    /// - strikeCount [40, 48): at most `MAX_STRIKES` (16);
    /// - b / 1e9 [48, 79), unsigned: Lee's bound b (1 + |rho|) <= 2 (`SviLeeBoundExceeded`), so 0 <= b <= 2e18 and
    ///   b / 1e9 <= 2e9 < 2^31;
    /// - rho / 1e9 [79, 110), signed: |rho| < 1e18, so |rho / 1e9| < 1e9 < 2^30;
    /// - m / 1e9 [110, 144), signed: |m| <= 5e18, so |m / 1e9| <= 5e9 < 2^33;
    /// - sigma / 1e9 [144, 177), unsigned: 1e9 <= sigma <= 5e18, so 1 <= sigma / 1e9 <= 5e9 < 2^33;
    /// - a36 / 1e18 [177, 245), signed: |a36| <= 100e36, so |a36 / 1e18| <= 1e20 < 2^67;
    ///   for a flat slice (b = 0) the same bits hold its volatility (wad, unsigned: <= 5e18 < 2^63) instead;
    /// - [245, 256) zero.
    /// A smile's at-the-money volatility is not stored: it is its slice's at k = 0 and the post's time to expiry
    /// (`_atmOf`), as the post computed it.
    uint256 internal constant AT_SHIFT = 0;
    uint256 internal constant COUNT_SHIFT = 40;
    uint256 internal constant B_SHIFT = 48;
    uint256 internal constant RHO_SHIFT = 79;
    uint256 internal constant M_SHIFT = 110;
    uint256 internal constant SIGMA_SHIFT = 144;
    uint256 internal constant A_SHIFT = 177;
    uint256 internal constant AT_BITS = 40;
    uint256 internal constant COUNT_BITS = 8;
    uint256 internal constant B_BITS = 31;
    uint256 internal constant RHO_BITS = 31;
    uint256 internal constant M_BITS = 34;
    uint256 internal constant SIGMA_BITS = 33;
    uint256 internal constant A_BITS = 68;
    /// @dev The grid of a stored smile: b, rho, m and sigma in steps of 1e-9 (1e9 wad), a in steps of 1e-18
    /// (1e18 in 1e36 units). A smile post off it reverts `VolSliceOffGrid`.
    int256 internal constant NANO_WAD = 1e9;
    int256 internal constant A_UNIT_36 = 1e18;

    /// @dev A post word decoded (`_load`). b = 0: a flat slice of `volWad` (the slice's other fields zero);
    /// otherwise a smile (`volWad` 0).
    struct Post {
        uint256 volWad;
        uint256 updatedAt;
        uint256 strikeCount;
        ISviMath.SviSlice slice;
    }

    /// @dev The expiries ever posted or listed by the updater's `prepareExpiry`, a list sorted by expiry (0: none),
    /// and the forward of the expiry's latest slice post (wad < 2^128; 0 before one).
    struct Node {
        uint64 prev;
        uint64 next;
        uint128 forwardWad;
    }

    /// @dev The bounds and the epoch share one slot: a reader checks the epoch and reads a volatility with
    /// one cold read of it. The epoch wraps modulo 2^32 (readers compare it for equality).
    uint64 internal _minVolWad;
    uint64 internal _maxVolWad;
    uint64 internal _maxStepWad;
    uint32 internal _maxAgeSec;
    uint32 internal _epoch;
    /// @dev The rate limit: its own slot, read by posts only.
    uint64 internal _maxRatePerHourWad;
    uint32 internal _minIntervalSec;
    /// @dev The latest post of any expiry (the first post of a new expiry's reference), in the same slot.
    uint64 internal _referenceVolWad;
    /// @dev The number of grid points, in the same slot (every post reads it there warm).
    uint8 internal _gridPoints;
    /// @dev The post word of each expiry (see `Post`).
    mapping(uint256 expiry => uint256) internal _posts;
    mapping(uint256 expiry => Node) internal _nodes;
    /// @dev The strike set, two strikes a slot (a strike below 2^128; its size is `Post.strikeCount`).
    mapping(uint256 expiry => uint128[MAX_STRIKES]) internal _strikes;
    /// @dev The earliest expiry of the sorted list (expired ones are dropped as new expiries are inserted).
    uint64 internal _head;

    constructor(address admin, VolParams memory initialParams) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _setParams(initialParams);
        _gridPoints = uint8(DEFAULT_GRID_POINTS);
    }

    /// @inheritdoc IVolatilityOracle
    function postVol(uint256 expiry, uint256 newVolWad) external onlyRole(VOL_UPDATER_ROLE) {
        if (expiry <= block.timestamp) revert VolExpiryPassed(expiry);
        VolParams memory p = params();
        if (newVolWad < p.minVolWad || newVolWad > p.maxVolWad) {
            revert VolOutOfBounds(newVolWad, p.minVolWad, p.maxVolWad);
        }
        ISviMath.SviSlice memory flat = SviMath.flatSlice(newVolWad, expiry - block.timestamp);
        (uint256 forwardWad, ISviMath.SviGrid memory grid, bool known) = _post(expiry, flat, 0, new uint256[](0), p);
        _checkArbitrage(expiry, flat, forwardWad, true, grid, known, p);
    }

    /// @inheritdoc IVolatilityOracle
    function postSlice(
        uint256 expiry,
        ISviMath.SviSlice calldata slice,
        uint256 forwardWad,
        uint256[] calldata strikesWad
    ) external onlyRole(VOL_UPDATER_ROLE) {
        VolParams memory p = params();
        (, ISviMath.SviGrid memory grid, bool known) = _post(expiry, slice, forwardWad, strikesWad, p);
        _checkArbitrage(expiry, slice, forwardWad, false, grid, known, p);
    }

    /// @inheritdoc IVolatilityOracle
    function postSlices(SlicePost[] calldata posts) external onlyRole(VOL_UPDATER_ROLE) {
        uint256 n = posts.length;
        if (n == 0) revert VolBatchInvalid(0);
        VolParams memory p = params();
        // every slice stored first (a repeated expiry reverts `VolPostTooSoon`), then the arbitrage checks
        // against the neighbours as the whole batch leaves them
        ISviMath.SviGrid[] memory grids = new ISviMath.SviGrid[](n);
        bool[] memory known = new bool[](n);
        for (uint256 i; i < n; ++i) {
            (, grids[i], known[i]) = _post(posts[i].expiry, posts[i].slice, posts[i].forwardWad, posts[i].strikesWad, p);
        }
        for (uint256 i; i < n; ++i) {
            _checkArbitrage(posts[i].expiry, posts[i].slice, posts[i].forwardWad, false, grids[i], known[i], p);
        }
    }

    /// @dev The checks of one post that need only its own expiry (see `IVolatilityOracle`), then the store.
    /// `forwardWad` 0 (`postVol`): the forward of the expiry's latest slice post, which is returned. Also returns
    /// the grid of the arbitrage checks when the strike checks had the logarithms it needs (`known`; see `_grid`).
    function _post(
        uint256 expiry,
        ISviMath.SviSlice memory s,
        uint256 forwardWad,
        uint256[] memory addStrikesWad,
        VolParams memory p
    ) internal returns (uint256, ISviMath.SviGrid memory grid, bool known) {
        if (expiry <= block.timestamp) revert VolExpiryPassed(expiry);
        SviMath.checkParams(s);
        // a smile is stored on the grid (flat: only its at-the-money volatility is stored, to the wei)
        if (s.bWad != 0) _checkGrid(s);
        StrikeCheck memory c;
        (c.expiry, c.timeSec) = (expiry, expiry - block.timestamp);
        uint256 atm = SviMath.volAtLogMoneyness(s, 0, c.timeSec);
        if (atm < p.minVolWad || atm > p.maxVolWad) revert VolOutOfBounds(atm, p.minVolWad, p.maxVolWad);
        Post memory last = _load(expiry);
        c.allowedStepWad = _checkAtm(expiry, atm, last, p);
        c.forwardWad = _forward(expiry, forwardWad);
        uint256[] memory strikes = _addStrikes(expiry, last.strikeCount, addStrikesWad, c.forwardWad);
        // a flat slice after a flat one: every strike's volatility is the at-the-money one, checked above
        if (strikes.length != 0 && (s.bWad != 0 || last.slice.bWad != 0)) {
            grid = _checkStrikes(s, last, c, p, strikes);
            // the grid's logarithms are the strikes' at the post's own forward (not the stored one for 0)
            known = forwardWad != 0;
        }
        // atm <= maxVolWad <= 5e18 < 2^64
        _referenceVolWad = uint64(atm);
        _posts[expiry] = _encode(atm, strikes.length, s);
        unchecked {
            ++_epoch;
        }
        emit VolPosted(expiry, atm, msg.sender);
        if (addStrikesWad.length != 0 || s.bWad != 0) emit SlicePosted(expiry, s, c.forwardWad);
        return (c.forwardWad, grid, known);
    }

    /// @dev The at-the-money rules (today's `postVol` rules on the at-the-money volatility): after a previous
    /// post the interval and the step, returning the allowed step; a first post within maxStep of the
    /// reference, and the expiry joins the sorted list.
    function _checkAtm(uint256 expiry, uint256 atm, Post memory last, VolParams memory p)
        private
        returns (uint256 allowedStepWad)
    {
        if (last.updatedAt != 0) {
            uint256 elapsedSec = block.timestamp - last.updatedAt;
            if (elapsedSec < p.minIntervalSec) revert VolPostTooSoon(expiry, last.updatedAt, p.minIntervalSec);
            allowedStepWad = _allowedStepWadDown(p, elapsedSec);
            uint256 previous = last.slice.bWad == 0 ? last.volWad : _atmOf(expiry, last);
            uint256 step = atm > previous ? atm - previous : previous - atm;
            if (step > allowedStepWad) revert VolRateExceeded(previous, atm, allowedStepWad);
        } else {
            uint256 reference_ = _referenceVolWad;
            uint256 distance = atm > reference_ ? atm - reference_ : reference_ - atm;
            if (reference_ != 0 && distance > p.maxStepWad) {
                revert VolFirstPostTooFar(expiry, atm, reference_, p.maxStepWad);
            }
            // listed by the updater's preparation: its links are in place (the post's cost stays a re-post's)
            if (!_listed(expiry)) _insert(expiry);
        }
    }

    /// @dev The post's forward (stored), or the stored one for 0.
    function _forward(uint256 expiry, uint256 forwardWad) private returns (uint256) {
        if (forwardWad == 0) return _nodes[expiry].forwardWad;
        if (forwardWad > MAX_FORWARD_WAD) revert ISviMath.SviMoneynessOutOfRange(0, forwardWad);
        // forwardWad <= 1e30 < 2^128
        _nodes[expiry].forwardWad = uint128(forwardWad);
        return forwardWad;
    }

    /// @dev What the per-strike checks of one post compare (one memory struct: the stack).
    struct StrikeCheck {
        uint256 expiry;
        uint256 timeSec;
        uint256 forwardWad;
        uint256 allowedStepWad;
        uint256 previousTimeSec;
        bool hasPrevious;
        ISviMath.SviSlice previous;
    }

    /// @dev Every strike of the set: its volatility under the new slice within the bounds and, after a previous
    /// post, within `allowedStepWad` of its volatility under that post (both at `forwardWad`). Returns the grid of
    /// `_grid` from the same logarithms.
    function _checkStrikes(
        ISviMath.SviSlice memory s,
        Post memory last,
        StrikeCheck memory c,
        VolParams memory p,
        uint256[] memory strikes
    ) private view returns (ISviMath.SviGrid memory g) {
        (g.kLoWad, g.kHiWad, g.points) = (-MIN_GRID_HALF_WIDTH_WAD, MIN_GRID_HALF_WIDTH_WAD, _gridPoints);
        if (last.updatedAt != 0) {
            c.hasPrevious = true;
            c.previousTimeSec = c.expiry - last.updatedAt;
            c.previous = _sliceOf(last, c.previousTimeSec);
        }
        uint256 n = strikes.length;
        for (uint256 i; i < n; ++i) {
            uint256 strikeWad = strikes[i];
            int256 k = SviMath.logMoneynessWad(strikeWad, c.forwardWad);
            _widen(g, k);
            uint256 next = SviMath.volAtLogMoneyness(s, k, c.timeSec);
            if (next < p.minVolWad || next > p.maxVolWad) {
                revert VolStrikeOutOfBounds(c.expiry, strikeWad, next, p.minVolWad, p.maxVolWad);
            }
            if (!c.hasPrevious) continue;
            uint256 before = SviMath.volAtLogMoneyness(c.previous, k, c.previousTimeSec);
            if ((next > before ? next - before : before - next) > c.allowedStepWad) {
                revert ISviMath.SviVolStepExceeded(i, before, next, c.allowedStepWad);
            }
        }
    }

    /// @dev Add the strikes not in the set yet (reverts `VolTooManyStrikes` beyond `MAX_STRIKES`), returning the
    /// whole set in order. A strike at or above 2^128 (far outside the prices the checks accept, 1e30) reverts
    /// `SviMoneynessOutOfRange` (with `forwardWad`, as the strike checks would) before it is stored.
    function _addStrikes(uint256 expiry, uint256 count, uint256[] memory add, uint256 forwardWad)
        private
        returns (uint256[] memory strikes)
    {
        uint128[MAX_STRIKES] storage stored = _strikes[expiry];
        strikes = new uint256[](MAX_STRIKES);
        uint256 n = count;
        for (uint256 j; j < n; ++j) {
            strikes[j] = stored[j];
        }
        for (uint256 i; i < add.length; ++i) {
            uint256 strikeWad = add[i];
            bool known;
            for (uint256 j; j < n; ++j) {
                if (strikes[j] == strikeWad) {
                    known = true;
                    break;
                }
            }
            if (known) continue;
            if (n == MAX_STRIKES) revert VolTooManyStrikes(expiry, n + 1, MAX_STRIKES);
            if (strikeWad > type(uint128).max) revert ISviMath.SviMoneynessOutOfRange(strikeWad, forwardWad);
            stored[n] = uint128(strikeWad);
            strikes[n] = strikeWad;
            ++n;
        }
        assembly ("memory-safe") {
            // n <= MAX_STRIKES: the array shrinks to the set
            mstore(strikes, n)
        }
    }

    /// @dev Whether `expiry` (not expired, never posted) is in the sorted list: its links are not `prepareExpiry`'s
    /// placeholder and not the zero links of a node never written, unless it is the list's only node (the head).
    /// A node outside the list holds (0, 0) or the placeholder: a list insertion writes real links, and no node
    /// leaves the list before its expiry.
    function _listed(uint256 expiry) private view returns (bool) {
        Node storage node = _nodes[expiry];
        (uint256 prev, uint256 next) = (node.prev, node.next);
        if (prev == PREPARED_LINK) return false;
        if (prev != 0 || next != 0) return true;
        return _head == expiry;
    }

    /// @dev Insert a new expiry into the sorted list, dropping the expired ones at its head.
    function _insert(uint256 expiry) private {
        (uint256 head, uint256 prev, uint256 cur) = _position(expiry);
        // expiries are block times of the future, far below 2^64
        Node storage node = _nodes[expiry];
        (node.prev, node.next) = (uint64(prev), uint64(cur));
        if (cur != 0) _nodes[cur].prev = uint64(expiry);
        if (prev != 0) _nodes[prev].next = uint64(expiry);
        else head = expiry;
        if (head != 0) _nodes[head].prev = 0;
        _head = uint64(head);
    }

    /// @dev Where `expiry` goes in the sorted list: the first expiry not passed (the head once the expired ones are
    /// dropped) and the live neighbours it goes between (0: none).
    function _position(uint256 expiry) private view returns (uint256 head, uint256 prev, uint256 cur) {
        head = _head;
        while (head != 0 && head <= block.timestamp) {
            head = _nodes[head].next;
        }
        cur = head;
        while (cur != 0 && cur < expiry) {
            prev = cur;
            cur = _nodes[cur].next;
        }
    }

    /// @dev Whether an expiry never posted may be listed between the live neighbours `prev` and `next` (0: none):
    /// the run of consecutive listed expiries never posted it joins is at most `MAX_UNPOSTED_RUN` long. Every run
    /// in the list is at most that long: only the updater's preparation lengthens one, after this check (a post, a
    /// post's insertion or the head's drop of expired expiries splits or shortens a run), so the walks here and in
    /// `_neighbour` read at most `MAX_UNPOSTED_RUN` nodes each.
    function _runAllows(uint256 prev, uint256 next) private view returns (bool) {
        uint256 run = 1;
        // expired ones (still linked before the head until an insertion drops them) end the run
        while (prev > block.timestamp && _postedAt(prev) == 0) {
            ++run;
            prev = _nodes[prev].prev;
        }
        while (next != 0 && _postedAt(next) == 0) {
            ++run;
            next = _nodes[next].next;
        }
        return run <= MAX_UNPOSTED_RUN;
    }

    /// @dev Butterfly and calendar arbitrage of the stored slice `s` of `expiry` (see `IVolatilityOracle`).
    /// `legacy` (`postVol`): only against neighbours that are not flat, and skipped when there is none.
    /// `known`: `grid` is the grid (from the strike checks' logarithms), otherwise it is computed here.
    function _checkArbitrage(
        uint256 expiry,
        ISviMath.SviSlice memory s,
        uint256 forwardWad,
        bool legacy,
        ISviMath.SviGrid memory grid,
        bool known,
        VolParams memory p
    ) internal view {
        Node memory node = _nodes[expiry];
        (ISviMath.SviSlice memory nearer, bool hasNearer) = _neighbour(node.prev, p, true);
        (ISviMath.SviSlice memory farther, bool hasFarther) = _neighbour(node.next, p, false);
        if (legacy) {
            hasNearer = hasNearer && nearer.bWad != 0;
            hasFarther = hasFarther && farther.bWad != 0;
            if (!hasNearer && !hasFarther) return;
        }
        if (!known) grid = _grid(expiry, forwardWad);
        SviMath.checkArbitrage(s, grid, nearer, hasNearer, farther, hasFarther);
    }

    /// @dev The grid over the strike set's log-moneyness at `forwardWad`, widened to [-0.1, 0.1] at least and
    /// clamped to |k| <= 5; [-0.1, 0.1] without a forward or strikes.
    function _grid(uint256 expiry, uint256 forwardWad) private view returns (ISviMath.SviGrid memory g) {
        g.kLoWad = -MIN_GRID_HALF_WIDTH_WAD;
        g.kHiWad = MIN_GRID_HALF_WIDTH_WAD;
        g.points = _gridPoints;
        if (forwardWad == 0) return g;
        uint128[MAX_STRIKES] storage strikes = _strikes[expiry];
        uint256 n = _load(expiry).strikeCount;
        for (uint256 i; i < n; ++i) {
            _widen(g, SviMath.logMoneynessWad(strikes[i], forwardWad));
        }
    }

    /// @dev The grid widened to k, clamped to |k| <= 5.
    function _widen(ISviMath.SviGrid memory g, int256 k) private pure {
        if (k < g.kLoWad) g.kLoWad = k < -MAX_ABS_K_WAD ? -MAX_ABS_K_WAD : k;
        if (k > g.kHiWad) g.kHiWad = k > MAX_ABS_K_WAD ? MAX_ABS_K_WAD : k;
    }

    /// @dev The slice of neighbour `expiry` (0: none) as total variance now: a and b times T_now / T_post,
    /// rounded up for the nearer expiry and down for the farther (against the post under check). Missing,
    /// expired or stale: none. A listed expiry never posted (the updater's `prepareExpiry`) is walked past to the
    /// next one out (the nearer's nearer, the farther's farther): at most `MAX_UNPOSTED_RUN` of them in a row.
    function _neighbour(uint256 expiry, VolParams memory p, bool up)
        private
        view
        returns (ISviMath.SviSlice memory s, bool ok)
    {
        if (expiry <= block.timestamp) return (s, false);
        Post memory post = _load(expiry);
        if (block.timestamp - post.updatedAt > p.maxAgeSec) {
            if (post.updatedAt != 0) return (s, false);
            Node storage node = _nodes[expiry];
            return _neighbour(up ? node.prev : node.next, p, up);
        }
        uint256 postTimeSec = expiry - post.updatedAt;
        s = _sliceOf(post, postTimeSec);
        uint256 nowSec = expiry - block.timestamp;
        if (nowSec != postTimeSec) {
            s.a36 = _scale(s.a36, nowSec, postTimeSec, up);
            s.bWad = _scale(s.bWad, nowSec, postTimeSec, up);
        }
        return (s, true);
    }

    /// @dev x num / den rounded up (`up`) or down, for |x| <= 1e38 and num <= den < 2^64.
    function _scale(int256 x, uint256 num, uint256 den, bool up) private pure returns (int256 q) {
        // |x| num < 2^127 2^64: fits; den > 0
        int256 prod = x * int256(num);
        int256 d = int256(den);
        q = prod / d;
        int256 r = prod % d;
        if (up && r > 0) ++q;
        if (!up && r < 0) --q;
    }

    /// @dev The stored slice of a post (`post`, `postTimeSec` to expiry at it): a flat one rebuilt from
    /// its volatility (`flatSlice`: every strike at that volatility, to the wei).
    function _sliceOf(Post memory post, uint256 postTimeSec) private pure returns (ISviMath.SviSlice memory s) {
        if (post.slice.bWad == 0) return SviMath.flatSlice(post.volWad, postTimeSec);
        s = post.slice;
    }

    /// @dev The at-the-money volatility of a smile post of `expiry`: its slice at k = 0 with the post's time to
    /// expiry, the figure the post computed (and checked) from the same slice and time, so it cannot revert.
    function _atmOf(uint256 expiry, Post memory post) private pure returns (uint256) {
        uint256 postTimeSec = expiry - post.updatedAt;
        return SviMath.volAtLogMoneyness(_sliceOf(post, postTimeSec), 0, postTimeSec);
    }

    /// @dev The post's volatility: a flat one's stored, a smile's at the money (`_atmOf`); 0 before a post.
    function _volOf(uint256 expiry, Post memory post) private pure returns (uint256) {
        return post.slice.bWad == 0 ? post.volWad : _atmOf(expiry, post);
    }

    /// @dev Reverts `VolSliceOffGrid` unless every parameter of the smile `s` is on the storage grid (see `Post`):
    /// a36 a multiple of 1e18, b, rho, m and sigma multiples of 1e9. Nothing is rounded.
    function _checkGrid(ISviMath.SviSlice memory s) private pure {
        if (s.a36 % A_UNIT_36 != 0) revert VolSliceOffGrid("a36", s.a36, A_UNIT_36);
        if (s.bWad % NANO_WAD != 0) revert VolSliceOffGrid("bWad", s.bWad, NANO_WAD);
        if (s.rhoWad % NANO_WAD != 0) revert VolSliceOffGrid("rhoWad", s.rhoWad, NANO_WAD);
        if (s.mWad % NANO_WAD != 0) revert VolSliceOffGrid("mWad", s.mWad, NANO_WAD);
        if (s.sigmaWad % NANO_WAD != 0) revert VolSliceOffGrid("sigmaWad", s.sigmaWad, NANO_WAD);
    }

    /// @dev The post word of a post now of at-the-money volatility `atm` (<= 5e18 < 2^63), `count` strikes (<=
    /// `MAX_STRIKES`) and slice `s`, which passed `checkParams` and, for a smile, `_checkGrid`: every field within
    /// its bits (see `Post`), so nothing is cut.
    function _encode(uint256 atm, uint256 count, ISviMath.SviSlice memory s) private view returns (uint256 w) {
        // block.timestamp < 2^40
        w = block.timestamp | (count << COUNT_SHIFT);
        if (s.bWad == 0) return w | (atm << A_SHIFT);
        // each quotient exact (`_checkGrid`) and within its field's bits (see `Post`); the masks keep a negative
        // field's two's complement inside its bits
        w |= (uint256(s.bWad / NANO_WAD) << B_SHIFT)
            | ((uint256(s.rhoWad / NANO_WAD) & ((1 << RHO_BITS) - 1)) << RHO_SHIFT)
            | ((uint256(s.mWad / NANO_WAD) & ((1 << M_BITS) - 1)) << M_SHIFT)
            | (uint256(s.sigmaWad / NANO_WAD) << SIGMA_SHIFT)
            | ((uint256(s.a36 / A_UNIT_36) & ((1 << A_BITS) - 1)) << A_SHIFT);
    }

    /// @dev The post of `expiry`, decoded (all zero before a post; a prepared word reads as no post).
    function _load(uint256 expiry) private view returns (Post memory p) {
        uint256 w = _posts[expiry];
        (p.updatedAt, p.strikeCount) = (w & ((1 << AT_BITS) - 1), (w >> COUNT_SHIFT) & ((1 << COUNT_BITS) - 1));
        p.volWad = _unpack(w, p.slice);
    }

    /// @dev The time of `expiry`'s latest post (0: never posted; a prepared word reads as no post).
    function _postedAt(uint256 expiry) private view returns (uint256) {
        return _posts[expiry] & ((1 << AT_BITS) - 1);
    }

    /// @dev A post word's slice written into `s` (left as it is, all zero, for a flat one), returning a flat one's
    /// volatility (0 for a smile).
    function _unpack(uint256 w, ISviMath.SviSlice memory s) private pure returns (uint256 flatVolWad) {
        assembly ("memory-safe") {
            let b := and(shr(B_SHIFT, w), 0x7fffffff)
            switch b
            case 0 {
                // flat: the volatility in a's field (bits 245-255 zero)
                flatVolWad := shr(A_SHIFT, w)
            }
            default {
                // a signed field [lo, hi) moved to the top by a left shift of 256 - hi, then arithmetically right
                // by 256 - bits; each times its unit (|field| x unit <= 100e36: no overflow)
                mstore(s, mul(sar(188, shl(11, w)), A_UNIT_36))
                mstore(add(s, 0x20), mul(b, NANO_WAD))
                mstore(add(s, 0x40), mul(sar(225, shl(146, w)), NANO_WAD))
                mstore(add(s, 0x60), mul(sar(222, shl(112, w)), NANO_WAD))
                mstore(add(s, 0x80), mul(and(shr(SIGMA_SHIFT, w), 0x1ffffffff), NANO_WAD))
            }
        }
    }

    /// @inheritdoc IVolatilityOracle
    function sliceUntil(uint256 expiry) external view returns (SliceRead memory r) {
        // two slots (the post word, the bounds with the maximum age), a smile's slice included
        uint256 w = _posts[expiry];
        uint256 updatedAt = w & ((1 << AT_BITS) - 1);
        if (updatedAt == 0) revert VolNotPosted(expiry);
        (uint256 minVol, uint256 maxVol, uint256 maxAge) = (_minVolWad, _maxVolWad, _maxAgeSec);
        if (block.timestamp - updatedAt > maxAge) revert VolStale(expiry, updatedAt, maxAge);
        (r.freshUntilSec, r.postTimeSec) = (updatedAt + maxAge, expiry - updatedAt);
        (r.minVolWad, r.maxVolWad) = (minVol, maxVol);
        r.atmVolWad = _unpack(w, r.slice);
    }

    /// @inheritdoc IVolatilityOracle
    function sliceOf(uint256 expiry) external view returns (ISviMath.SviSlice memory s) {
        Post memory post = _load(expiry);
        if (post.updatedAt == 0) return s;
        return _sliceOf(post, expiry - post.updatedAt);
    }

    /// @inheritdoc IVolatilityOracle
    function strikesOf(uint256 expiry) external view returns (uint256[] memory strikes) {
        uint128[MAX_STRIKES] storage stored = _strikes[expiry];
        strikes = new uint256[](_load(expiry).strikeCount);
        for (uint256 i; i < strikes.length; ++i) {
            strikes[i] = stored[i];
        }
    }

    /// @inheritdoc IVolatilityOracle
    function strikeVolWad(uint256 expiry, uint256 strikeWad, uint256 forwardWad) external view returns (uint256) {
        Post memory post = _load(expiry);
        _freshUntil(expiry, post);
        uint256 postTimeSec = expiry - post.updatedAt;
        return SviMath.volWad(_sliceOf(post, postTimeSec), strikeWad, forwardWad, postTimeSec);
    }

    /// @inheritdoc IVolatilityOracle
    function gridPoints() external view returns (uint256) {
        return _gridPoints;
    }

    /// @inheritdoc IVolatilityOracle
    function setGridPoints(uint256 points) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _checkBound("gridPoints", points, HARD_MIN_GRID_POINTS, HARD_MAX_GRID_POINTS);
        // points <= 64
        _gridPoints = uint8(points);
        unchecked {
            ++_epoch;
        }
        emit GridPointsSet(points);
    }

    /// @inheritdoc IVolatilityOracle
    function prepareExpiry(uint256 expiry, uint256 strikes) external {
        if (expiry <= block.timestamp) revert VolExpiryPassed(expiry);
        uint256 mask = _unprepared(expiry, strikes);
        if (mask == 0) return;
        uint256 slots;
        if (mask & PREPARE_POST != 0) {
            // the rho field of a word with b = 0 and no time (see `PREPARED_RHO_NANO`)
            _posts[expiry] = (uint256(PREPARED_RHO_NANO) & ((1 << RHO_BITS) - 1)) << RHO_SHIFT;
            ++slots;
        }
        if (mask & PREPARE_LIST != 0) {
            // real links in the node (a placeholder there is overwritten): the expiry's first post inserts nothing
            _insert(expiry);
            Node storage node = _nodes[expiry];
            emit ExpiryListed(expiry, node.prev, node.next);
            if (mask & PREPARE_NODE != 0) ++slots;
        } else if (mask & PREPARE_NODE != 0) {
            _nodes[expiry] = Node(PREPARED_LINK, PREPARED_LINK, 0);
            ++slots;
        }
        uint128[MAX_STRIKES] storage stored = _strikes[expiry];
        for (uint256 j; j < MAX_STRIKES / 2; ++j) {
            if (mask & (PREPARE_STRIKE_SLOT << j) == 0) continue;
            assembly ("memory-safe") {
                // slot j of the fixed array holds strikes 2j (low half) and 2j + 1 (high half)
                sstore(add(stored.slot, j), PREPARED_STRIKE_PAIR)
            }
            ++slots;
        }
        if (slots != 0) emit ExpiryPrepared(expiry, strikes, slots);
    }

    /// @inheritdoc IVolatilityOracle
    function isPrepared(uint256 expiry, uint256 strikes) external view returns (bool) {
        return _unprepared(expiry, strikes) == 0;
    }

    /// @dev The slots `prepareExpiry` writes (`PREPARE_*` bits): each one still zero that a post of `expiry` with at
    /// most `strikes` strikes would create. A slot holding a post's data is never among them: the post slot of a
    /// posted expiry holds its time (never 0); the node of a posted expiry is in the list (all zero for a lone
    /// expiry without a forward), so it is prepared only before the first post; the shape is data only after a
    /// smile post (sigma > 0: never zero); strike slot j holds strikes 2j and 2j + 1, so only a slot with 2j at or
    /// beyond the set's size is free (a set may hold a zero strike: a slot below the size is data even when zero).
    /// `PREPARE_LIST`: the caller holds `VOL_UPDATER_ROLE` (who inserts expiries by posting anyway), the expiry,
    /// never posted, is not in the list yet and the run of listed expiries never posted it would join stays within
    /// `MAX_UNPOSTED_RUN` (beyond it the expiry's first post inserts it, as without preparation).
    function _unprepared(uint256 expiry, uint256 strikes) private view returns (uint256 mask) {
        if (strikes > MAX_STRIKES) revert VolTooManyStrikes(expiry, strikes, MAX_STRIKES);
        uint256 postWord = _posts[expiry];
        if (postWord == 0) mask = PREPARE_POST;
        Post memory post = _load(expiry);
        if (post.updatedAt == 0) {
            Node storage node = _nodes[expiry];
            uint256 nodeWord;
            assembly ("memory-safe") {
                nodeWord := sload(node.slot)
            }
            // a lone expiry listed by the updater's preparation has an all-zero node too: it is the head
            if (nodeWord == 0 && _head != expiry) mask |= PREPARE_NODE;
            if (!_listed(expiry) && hasRole(VOL_UPDATER_ROLE, msg.sender)) {
                (, uint256 prev, uint256 next) = _position(expiry);
                if (_runAllows(prev, next)) mask |= PREPARE_LIST;
            }
        }
        uint128[MAX_STRIKES] storage stored = _strikes[expiry];
        // the first slot whose strikes are both at or beyond the set's size, up to the slot of strike `strikes - 1`
        for (uint256 j = (post.strikeCount + 1) / 2; 2 * j < strikes; ++j) {
            uint256 pair;
            assembly ("memory-safe") {
                pair := sload(add(stored.slot, j))
            }
            if (pair == 0) mask |= PREPARE_STRIKE_SLOT << j;
        }
    }

    /// @inheritdoc IVolatilityOracle
    function setParams(VolParams calldata newParams) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setParams(newParams);
    }

    /// @inheritdoc IVolatilityOracle
    function params() public view returns (VolParams memory) {
        return VolParams(_minVolWad, _maxVolWad, _maxStepWad, _maxAgeSec, _maxRatePerHourWad, _minIntervalSec);
    }

    /// @inheritdoc IVolatilityOracle
    function maxStepNowWad(uint256 expiry) external view returns (uint256) {
        if (expiry <= block.timestamp) return 0;
        VolParams memory p = params();
        uint256 updatedAt = _load(expiry).updatedAt;
        if (updatedAt == 0) return p.maxVolWad - p.minVolWad;
        uint256 elapsedSec = block.timestamp - updatedAt;
        if (elapsedSec < p.minIntervalSec) return 0;
        return _allowedStepWadDown(p, elapsedSec);
    }

    /// @inheritdoc IVolatilityOracle
    function referenceVolWad() external view returns (uint256) {
        return _referenceVolWad;
    }

    /// @dev min(maxStepWad, maxRatePerHourWad x elapsedSec / 3600), rounded down (against the updater).
    function _allowedStepWadDown(VolParams memory p, uint256 elapsedSec) private pure returns (uint256) {
        uint256 rateStepWad;
        unchecked {
            // maxRatePerHourWad < 2^64 and elapsedSec <= block.timestamp < 2^128 (stored in 128 bits): below 2^192
            rateStepWad = uint256(p.maxRatePerHourWad) * elapsedSec / 1 hours;
        }
        return rateStepWad < p.maxStepWad ? rateStepWad : p.maxStepWad;
    }

    /// @inheritdoc IVolatilityOracle
    function maxStepWad() external view returns (uint256) {
        return _maxStepWad;
    }

    /// @inheritdoc IVolatilityOracle
    function epoch() external view returns (uint64) {
        return _epoch;
    }

    /// @inheritdoc IVolatilityOracle
    function volWad(uint256 expiry) external view returns (uint256 vol) {
        (vol,) = _fresh(expiry);
    }

    /// @inheritdoc IVolatilityOracle
    function volWadUntil(uint256 expiry) external view returns (uint256, uint256) {
        return _fresh(expiry);
    }

    /// @dev The fresh volatility of `expiry` (a smile's at the money) and the end of its freshness.
    function _fresh(uint256 expiry) internal view returns (uint256, uint256) {
        Post memory post = _load(expiry);
        uint256 freshUntil = _freshUntil(expiry, post);
        return (_volOf(expiry, post), freshUntil);
    }

    /// @dev The end of the freshness of `post` (of `expiry`); reverts `VolNotPosted` / `VolStale`.
    function _freshUntil(uint256 expiry, Post memory post) private view returns (uint256) {
        if (post.updatedAt == 0) revert VolNotPosted(expiry);
        uint256 maxAge = _maxAgeSec;
        if (block.timestamp - post.updatedAt > maxAge) revert VolStale(expiry, post.updatedAt, maxAge);
        return post.updatedAt + maxAge;
    }

    /// @inheritdoc IVolatilityOracle
    function lastPost(uint256 expiry) external view returns (uint256, uint256) {
        Post memory post = _load(expiry);
        return (_volOf(expiry, post), post.updatedAt);
    }

    function _setParams(VolParams memory p) internal {
        _checkBound("minVolWad", p.minVolWad, HARD_MIN_VOL_WAD, HARD_MAX_VOL_WAD);
        _checkBound("maxVolWad", p.maxVolWad, p.minVolWad, HARD_MAX_VOL_WAD);
        _checkBound("maxStepWad", p.maxStepWad, HARD_MIN_STEP_WAD, HARD_MAX_STEP_WAD);
        _checkBound("maxAgeSec", p.maxAgeSec, HARD_MIN_AGE_SEC, HARD_MAX_AGE_SEC);
        _checkBound("maxRatePerHourWad", p.maxRatePerHourWad, HARD_MIN_RATE_PER_HOUR_WAD, HARD_MAX_RATE_PER_HOUR_WAD);
        // at most maxAge: an expiry can be re-posted before its post goes stale
        uint256 maxIntervalSec = p.maxAgeSec < HARD_MAX_INTERVAL_SEC ? p.maxAgeSec : HARD_MAX_INTERVAL_SEC;
        _checkBound("minIntervalSec", p.minIntervalSec, HARD_MIN_INTERVAL_SEC, maxIntervalSec);
        (_minVolWad, _maxVolWad, _maxStepWad, _maxAgeSec) = (p.minVolWad, p.maxVolWad, p.maxStepWad, p.maxAgeSec);
        (_maxRatePerHourWad, _minIntervalSec) = (p.maxRatePerHourWad, p.minIntervalSec);
        unchecked {
            ++_epoch;
        }
        emit VolParamsSet(p);
    }

    function _checkBound(bytes32 name, uint256 value, uint256 min, uint256 max) private pure {
        if (value < min || value > max) revert VolParamOutOfBounds(name, value, min, max);
    }
}
