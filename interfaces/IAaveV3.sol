// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IAavePoolMinimal
/// @notice The few Aave v3.0.x Pool functions hedgevault calls (selectors and layouts of the published
/// Pool of the npm package core-v3 1.19.3 by Aave; declared here because its sources pin solc 0.8.10).
interface IAavePoolMinimal {
    /// @notice `DataTypes.ReserveData` of Aave v3.0.x.
    struct ReserveData {
        uint256 configuration;
        uint128 liquidityIndex;
        uint128 currentLiquidityRate;
        uint128 variableBorrowIndex;
        uint128 currentVariableBorrowRate;
        uint128 currentStableBorrowRate;
        uint40 lastUpdateTimestamp;
        uint16 id;
        address aTokenAddress;
        address stableDebtTokenAddress;
        address variableDebtTokenAddress;
        address interestRateStrategyAddress;
        uint128 accruedToTreasury;
        uint128 unbacked;
        uint128 isolationModeTotalDebt;
    }

    function supply(address asset, uint256 amount, address onBehalfOf, uint16 referralCode) external;

    function withdraw(address asset, uint256 amount, address to) external returns (uint256);

    /// @param interestRateMode 2: variable.
    function borrow(address asset, uint256 amount, uint256 interestRateMode, uint16 referralCode, address onBehalfOf)
        external;

    function repay(address asset, uint256 amount, uint256 interestRateMode, address onBehalfOf)
        external
        returns (uint256);

    /// @notice The reserve's configuration bitmap (bits 0-15 LTV, 16-31 liquidation threshold, 57 frozen,
    /// 58 borrowing enabled, 60 paused, 80-115 borrow cap in whole tokens).
    function getConfiguration(address asset) external view returns (uint256);

    function getReserveData(address asset) external view returns (ReserveData memory);

    /// @notice The reserve's liquidity index with the interest of this block (ray): an aToken's balance is
    /// its scaled balance times this (`rayMul`).
    function getReserveNormalizedIncome(address asset) external view returns (uint256);

    /// @notice The reserve's variable borrow index with the interest of this block (ray): a variable debt
    /// token's balance is its scaled balance times this (`rayMul`).
    function getReserveNormalizedVariableDebt(address asset) external view returns (uint256);

    function getUserAccountData(address user)
        external
        view
        returns (
            uint256 totalCollateralBase,
            uint256 totalDebtBase,
            uint256 availableBorrowsBase,
            uint256 currentLiquidationThreshold,
            uint256 ltv,
            uint256 healthFactor
        );
}

/// @title IScaledBalanceTokenMinimal
/// @notice An Aave v3 aToken or debt token's balance without its interest (the holder's share of the index).
interface IScaledBalanceTokenMinimal {
    function scaledBalanceOf(address user) external view returns (uint256);
}

/// @title IAaveOracleMinimal
/// @notice Aave's price oracle: asset prices in the market's base currency (USD with 8 decimals). It reads
/// each source's `latestAnswer` with no staleness check, which is why the hedger compares it with the
/// vault's fail-closed oracle before every borrow.
interface IAaveOracleMinimal {
    function getAssetPrice(address asset) external view returns (uint256);
}

/// @title IPoolAddressesProviderMinimal
interface IPoolAddressesProviderMinimal {
    function getPool() external view returns (address);

    function getPriceOracle() external view returns (address);
}
