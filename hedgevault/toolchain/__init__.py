"""Toolchain: the Solidity compiler (native solc or solc-js), the local Anvil node, artifacts."""
