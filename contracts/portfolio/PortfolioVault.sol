// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ERC4626} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";

import {IPortfolioMath} from "../../interfaces/IPortfolioMath.sol";
import {IPortfolioVault} from "../../interfaces/IPortfolioVault.sol";

/// @title PortfolioVault
/// @notice Skeleton (ABI only): see `IPortfolioVault`. The implementation follows on this branch.
contract PortfolioVault is IPortfolioVault, ERC4626, AccessControl {
    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");
    bytes32 public constant TARGET_SETTER_ROLE = keccak256("TARGET_SETTER_ROLE");

    Holding[] internal _holdings;
    address internal immutable _covOracle;
    IPortfolioMath.TargetRules internal _rules;
    RebalanceParams internal _params;
    bool internal _paused;

    constructor(
        IERC20 quote,
        string memory name_,
        string memory symbol_,
        address admin,
        Holding[] memory holdings_,
        address covarianceOracle_,
        IPortfolioMath.TargetRules memory rules_,
        RebalanceParams memory params_
    ) ERC4626(quote) ERC20(name_, symbol_) {
        if (admin == address(0)) revert ZeroAddress();
        for (uint256 i; i < holdings_.length; ++i) {
            _holdings.push(holdings_[i]);
        }
        _covOracle = covarianceOracle_;
        _rules = rules_;
        _params = params_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    function holdings() external view returns (Holding[] memory) {
        return _holdings;
    }

    function covarianceOracle() external view returns (address) {
        return _covOracle;
    }

    function setTargets(int256[] calldata) external view onlyRole(TARGET_SETTER_ROLE) {
        revert TargetsNotSet();
    }

    function targets() external pure returns (int256[] memory weightsWad, uint256 exAnteVolWad, uint256 setAt) {
        return (weightsWad, exAnteVolWad, setAt);
    }

    function rules() external view returns (IPortfolioMath.TargetRules memory) {
        return _rules;
    }

    function setRules(IPortfolioMath.TargetRules calldata r) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _rules = r;
    }

    function rebalanceParams() external view returns (RebalanceParams memory) {
        return _params;
    }

    function setRebalanceParams(RebalanceParams calldata p) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _params = p;
    }

    function state() external pure returns (PortfolioState memory s) {
        return s;
    }

    function checkUpkeep(bytes calldata) external pure returns (bool, bytes memory) {
        return (false, "");
    }

    function performUpkeep(bytes calldata) external pure {
        revert NoRebalanceNeeded();
    }

    function redeemInKind(uint256, address, address) external pure returns (uint256[] memory, uint256) {
        revert ZeroAmount();
    }

    function pause() external onlyRole(GUARDIAN_ROLE) {
        _paused = true;
        emit Paused(msg.sender);
    }

    function unpause() external onlyRole(GUARDIAN_ROLE) {
        _paused = false;
        emit Unpaused(msg.sender);
    }

    function paused() external view returns (bool) {
        return _paused;
    }

    function exitMode() external pure returns (bool) {
        return false;
    }

    function maxPauseSec() external pure returns (uint256) {
        return 3 days;
    }

    function _decimalsOffset() internal pure override returns (uint8) {
        return 6;
    }

    /// @dev Unused in the skeleton; keeps IERC20Metadata imported for the implementation.
    function _quoteDecimals() internal view returns (uint8) {
        return IERC20Metadata(asset()).decimals();
    }
}
