"""Where the project's files are. hedgevault runs from its checkout (an editable install)."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
NODE_MODULES = PROJECT_ROOT / "node_modules"
BUILD_DIR = PROJECT_ROOT / "build"
SOLCX_DIR = PROJECT_ROOT / ".solcx"
BROWNIE_CONFIG = PROJECT_ROOT / "brownie-config.yaml"
