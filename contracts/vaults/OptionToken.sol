// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC1155Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {IERC1155} from "@openzeppelin/contracts/token/ERC1155/IERC1155.sol";
import {IERC1155MetadataURI} from "@openzeppelin/contracts/token/ERC1155/extensions/IERC1155MetadataURI.sol";
import {ERC1155Utils} from "@openzeppelin/contracts/token/ERC1155/utils/ERC1155Utils.sol";
import {ERC165, IERC165} from "@openzeppelin/contracts/utils/introspection/ERC165.sol";

import {IOptionToken} from "../../interfaces/IOptionToken.sol";

/// @title OptionToken
/// @notice The ERC-1155 option positions of one `OptionVault`; see `IOptionToken`.
/// @dev A separate contract keeps the vault (whose ERC-20 shares have their own `balanceOf`) small.
/// A compact ERC-1155 rather than OpenZeppelin's `ERC1155`: that one imports `Arrays`, whose `mcopy`
/// needs the Cancun EVM, and the project compiles for Shanghai. The receiver checks are OpenZeppelin's
/// `ERC1155Utils`, the errors its `IERC1155Errors`.
/// Warning: mints and transfers call `onERC1155Received` / `onERC1155BatchReceived` on contract
/// receivers after the balances moved; the vault guards its entry points against reentry.
contract OptionToken is ERC165, IERC1155, IERC1155MetadataURI, IERC1155Errors, IOptionToken {
    /// @inheritdoc IOptionToken
    address public vault;
    address private immutable _binder;
    string private _uri;

    mapping(uint256 id => mapping(address account => uint256)) private _balances;
    mapping(address account => mapping(address operator => bool)) private _operatorApprovals;

    constructor(string memory uri_) {
        _binder = msg.sender;
        _uri = uri_;
    }

    modifier onlyVault() {
        if (msg.sender != vault) revert NotVault(msg.sender);
        _;
    }

    /// @inheritdoc IOptionToken
    function bindVault(address vault_) external {
        if (msg.sender != _binder || vault != address(0) || vault_ == address(0)) revert BindRefused(msg.sender);
        vault = vault_;
        emit VaultBound(vault_);
    }

    /// @inheritdoc IOptionToken
    function mint(address to, uint256 id, uint256 amount) external onlyVault {
        if (to == address(0)) revert ERC1155InvalidReceiver(address(0));
        _balances[id][to] += amount;
        emit TransferSingle(msg.sender, address(0), to, id, amount);
        ERC1155Utils.checkOnERC1155Received(msg.sender, address(0), to, id, amount, "");
    }

    /// @inheritdoc IOptionToken
    function burn(address from, uint256 id, uint256 amount) external onlyVault {
        _debit(from, id, amount);
        emit TransferSingle(msg.sender, from, address(0), id, amount);
    }

    /// @inheritdoc IERC1155
    function safeTransferFrom(address from, address to, uint256 id, uint256 value, bytes calldata data) external {
        _checkOperator(from);
        if (to == address(0)) revert ERC1155InvalidReceiver(address(0));
        _debit(from, id, value);
        _balances[id][to] += value;
        emit TransferSingle(msg.sender, from, to, id, value);
        ERC1155Utils.checkOnERC1155Received(msg.sender, from, to, id, value, data);
    }

    /// @inheritdoc IERC1155
    function safeBatchTransferFrom(
        address from,
        address to,
        uint256[] calldata ids,
        uint256[] calldata values,
        bytes calldata data
    ) external {
        _checkOperator(from);
        if (to == address(0)) revert ERC1155InvalidReceiver(address(0));
        if (ids.length != values.length) revert ERC1155InvalidArrayLength(ids.length, values.length);
        for (uint256 i = 0; i < ids.length; ++i) {
            _debit(from, ids[i], values[i]);
            _balances[ids[i]][to] += values[i];
        }
        emit TransferBatch(msg.sender, from, to, ids, values);
        ERC1155Utils.checkOnERC1155BatchReceived(msg.sender, from, to, ids, values, data);
    }

    /// @inheritdoc IERC1155
    function setApprovalForAll(address operator, bool approved) external {
        if (operator == address(0)) revert ERC1155InvalidOperator(address(0));
        _operatorApprovals[msg.sender][operator] = approved;
        emit ApprovalForAll(msg.sender, operator, approved);
    }

    /// @inheritdoc IERC1155
    function balanceOf(address account, uint256 id) external view returns (uint256) {
        return _balances[id][account];
    }

    /// @inheritdoc IERC1155
    function balanceOfBatch(address[] calldata accounts, uint256[] calldata ids)
        external
        view
        returns (uint256[] memory balances)
    {
        if (accounts.length != ids.length) revert ERC1155InvalidArrayLength(ids.length, accounts.length);
        balances = new uint256[](accounts.length);
        for (uint256 i = 0; i < accounts.length; ++i) {
            balances[i] = _balances[ids[i]][accounts[i]];
        }
    }

    /// @inheritdoc IERC1155
    function isApprovedForAll(address account, address operator) external view returns (bool) {
        return _operatorApprovals[account][operator];
    }

    /// @inheritdoc IERC1155MetadataURI
    function uri(uint256) external view returns (string memory) {
        return _uri;
    }

    /// @inheritdoc IERC165
    function supportsInterface(bytes4 interfaceId) public view override(ERC165, IERC165) returns (bool) {
        return interfaceId == type(IERC1155).interfaceId || interfaceId == type(IERC1155MetadataURI).interfaceId
            || super.supportsInterface(interfaceId);
    }

    function _checkOperator(address from) private view {
        if (from != msg.sender && !_operatorApprovals[from][msg.sender]) {
            revert ERC1155MissingApprovalForAll(msg.sender, from);
        }
    }

    function _debit(address from, uint256 id, uint256 amount) private {
        uint256 balance = _balances[id][from];
        if (balance < amount) revert ERC1155InsufficientBalance(from, balance, amount, id);
        // checked just above
        unchecked {
            _balances[id][from] = balance - amount;
        }
    }
}
