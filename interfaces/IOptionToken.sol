// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IOptionToken
/// @notice ERC-1155 option positions of one option vault: token id = series id, balance = options in
/// underlying wad (1e18 = an option on one unit of the underlying). Only the bound vault mints and burns.
interface IOptionToken {
    /// @notice A mint or burn from another address than the vault.
    error NotVault(address caller);
    /// @notice `bindVault` by another address than the deployer, or a second time.
    error BindRefused(address caller);

    /// @notice The vault was bound.
    event VaultBound(address indexed vault);

    /// @notice Bind the vault once (deployer only).
    function bindVault(address vault) external;

    /// @notice The vault allowed to mint and burn (zero before binding).
    function vault() external view returns (address);

    /// @notice Mint `amount` of `id` to `to` (vault only). Calls `onERC1155Received` on contracts.
    function mint(address to, uint256 id, uint256 amount) external;

    /// @notice Burn `amount` of `id` from `from` (vault only).
    function burn(address from, uint256 id, uint256 amount) external;
}
