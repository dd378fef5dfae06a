// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IHedger
/// @notice The option vault's hedging module: one instance per vault, bound to it once, holding the
/// vault's hedge position and moving it on the vault's order only. Implementations: `SpotHedger` (long
/// underlying only) and `AaveHedger` (long underlying, or short: underlying borrowed on an Aave v3 market
/// against quote supplied as collateral and sold). A Morpho or perpetual hedger would be a third.
///
/// The vault holds the cash: a hedger pulls the quote it spends from the vault (an allowance the vault
/// grants its hedger at construction, used only inside an order of the vault) and sends the quote it
/// raises to the vault. Every swap is one slice on the Uniswap V3 pool, stopped by a price limit so that
/// no unit trades worse than the oracle spot x (1 +/- maxSlippageBps), pool fee included; a gap larger than
/// one slice closes over several orders.
///
/// While the position is long (underlying held, no debt, no collateral) it changes only through the owner's
/// orders (`hedge`, `raiseQuote`): underlying leaves the hedger only in its own swaps and repayments, and nobody
/// else can open debt for it. Underlying given to it (a donation) is the one change from outside, and only
/// raises the position. The vault relies on this: it records the long position each order returns and
/// values it from that record until the next order (`BookMarking.hedgePosition`); a short position it reads.
///
/// Units: `...Wad` is 1e18 fixed point (underlying amounts in underlying wad, prices in quote per
/// underlying); `collateral` and quote amounts in quote token units; `...Bps` is 1/10,000.
interface IHedger {
    /// @notice The hedge position.
    struct Position {
        /// @dev Signed exposure: underlying held minus underlying owed (debt with accrued interest).
        int256 hedgeWad;
        /// @dev Quote supplied as collateral, with accrued interest (quote units): part of the vault's assets.
        uint256 collateral;
        /// @dev Whether this hedger can hold a negative `hedgeWad`.
        bool canShort;
        /// @dev The lending market's health factor of the position under the spot-up shock is below
        /// 1 + buffer (or the market would not let the position grow): the vault stops selling puts and
        /// the next order de-risks first.
        bool deRisking;
    }

    /// @notice One order of the vault.
    struct Order {
        /// @dev The hedge to move toward (underlying wad; a hedger that cannot short treats < 0 as 0).
        int256 targetWad;
        /// @dev The vault's oracle spot (wad): the slippage bound and the collateral sizing refer to it.
        uint256 spotWad;
        uint256 maxSlippageBps;
        /// @dev The most quote the hedger may pull from the vault (free quote less reserves).
        uint256 availableQuote;
        /// @dev The vault's spot-up shock: the lending market's health factor is checked under it.
        uint256 shockUpBps;
    }

    /// @notice What `status` shows of the position.
    struct Details {
        uint256 longWad;
        uint256 debtWad;
        uint256 collateral;
        /// @dev The lending market's health factor now and under the spot-up shock (max when no debt).
        uint256 healthFactorWad;
        uint256 healthFactorShockWad;
        /// @dev The market's variable borrow rate of the underlying and supply rate of the quote (ray, per year).
        uint256 borrowRateRay;
        uint256 supplyRateRay;
    }

    /// @notice The order left the gap as it was (the slice could not trade: pool at the limit, no quote).
    error NothingToHedge(int256 hedgeWad, int256 targetWad);
    /// @notice Only the bound vault may send orders.
    error NotVault(address caller);
    /// @notice `bind` by someone other than the deployer, twice, or to a vault whose hedger is another.
    error BadBinding(address vault);
    /// @notice The swap callback came from an address other than the pool.
    error NotPool(address caller);
    /// @notice The pool's price is already beyond the slice's price limit (oracle spot +/- slippage, fee
    /// included): no unit could trade within the bound (arbitrage or the oracle must catch up first).
    error PoolBeyondLimit(uint160 poolSqrtPriceX96, uint160 limitSqrtPriceX96);
    /// @notice A slice traded at an average price outside the bound (cannot happen with the price limit; a
    /// defence in depth).
    error SliceOutsideBound(uint256 underlyingAmount, uint256 quoteAmount, uint256 boundQuote);

    /// @notice A slice traded (`bought`: underlying bought with quote, else sold for quote).
    event Slice(bool bought, uint256 underlyingAmount, uint256 quoteAmount);

    /// @notice The vault this hedger serves (zero until `bind`).
    function vault() external view returns (address);

    /// @notice The position now; the de-risking flag is computed at the vault's `spotWad` moved up by
    /// `shockUpBps` (a hedger that never borrows ignores both).
    function position(uint256 spotWad, uint256 shockUpBps) external view returns (Position memory);

    /// @notice Move the hedge toward `o.targetWad` by one slice (only the vault). Returns the position
    /// after the order. Reverts `NothingToHedge` when nothing could trade.
    function hedge(Order calldata o) external returns (Position memory);

    /// @notice Raise at least `amount` quote for the vault (only the vault; a claim short of quote): sells
    /// underlying held in one bounded slice, or withdraws collateral the position does not need.
    /// @return raised The quote sent to the vault (may be less than `amount` when the slice is cut).
    function raiseQuote(uint256 amount, uint256 spotWad, uint256 maxSlippageBps, uint256 shockUpBps)
        external
        returns (uint256 raised);

    /// @notice The position's details for `status` at the vault's spot-up shock.
    function details(uint256 shockUpBps) external view returns (Details memory);

    /// @notice Whether this hedger can hold a negative hedge.
    function canShort() external view returns (bool);
}
