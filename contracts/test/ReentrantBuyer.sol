// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC1155Receiver} from "@openzeppelin/contracts/token/ERC1155/IERC1155Receiver.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";

import {IOptionVault} from "../../interfaces/IOptionVault.sol";

/// @title ReentrantBuyer
/// @notice Attack contract for tests: buys options and, from `onERC1155Received`, calls back into the
/// vault with `reentryData` (buy, sell, withdraw...). When the reentry fails it bubbles the revert
/// (so the outer buy fails) unless `swallow` is set, in which case it records the failure and accepts.
contract ReentrantBuyer is IERC1155Receiver {
    IOptionVault public immutable vault;
    bytes public reentryData;
    bool public swallow;
    bool public reentrySucceeded;
    bytes public reentryRevert;

    constructor(IOptionVault vault_, IERC20 quote) {
        vault = vault_;
        quote.approve(address(vault_), type(uint256).max);
    }

    function arm(bytes calldata data, bool swallow_) external {
        reentryData = data;
        swallow = swallow_;
    }

    function attackBuy(uint256 seriesId, uint256 amountWad, uint256 maxPremium) external {
        vault.buy(seriesId, amountWad, maxPremium, address(this));
    }

    function onERC1155Received(address, address, uint256, uint256, bytes calldata) external returns (bytes4) {
        bytes memory data = reentryData;
        if (data.length != 0) {
            reentryData = "";
            (bool ok, bytes memory result) = address(vault).call(data);
            reentrySucceeded = ok;
            if (!ok) {
                reentryRevert = result;
                if (!swallow) {
                    assembly ("memory-safe") {
                        revert(add(result, 32), mload(result))
                    }
                }
            }
        }
        return IERC1155Receiver.onERC1155Received.selector;
    }

    function onERC1155BatchReceived(address, address, uint256[] calldata, uint256[] calldata, bytes calldata)
        external
        pure
        returns (bytes4)
    {
        return IERC1155Receiver.onERC1155BatchReceived.selector;
    }

    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return interfaceId == type(IERC1155Receiver).interfaceId || interfaceId == type(IERC165).interfaceId;
    }
}
