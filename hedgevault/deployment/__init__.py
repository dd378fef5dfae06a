"""Deploy the suite (``hedgevault deploy``), record it in a manifest, and attach to it again.

* ``run_deploy``: deploy or reuse-and-verify the infrastructure and the vault stack, write the manifest.
* ``load_manifest`` / ``attach_suite``: a deployed suite as web3 contracts (``hedgevault.suite.Suite``).
* ``check_deployment``: every way the chain differs from a manifest.

See docs/deployment.md. The names are imported on first use, so that ``hedgevault --help`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # re-exported for type checkers; imported lazily at run time by __getattr__
    from hedgevault.deployment.attach import attach_suite as attach_suite
    from hedgevault.deployment.attach import suite_config_of as suite_config_of
    from hedgevault.deployment.checks import check_deployment as check_deployment
    from hedgevault.deployment.config import DeployConfig as DeployConfig
    from hedgevault.deployment.config import load_deploy_config as load_deploy_config
    from hedgevault.deployment.errors import DeployConfigError as DeployConfigError
    from hedgevault.deployment.errors import DeploymentError as DeploymentError
    from hedgevault.deployment.errors import DeploymentMismatch as DeploymentMismatch
    from hedgevault.deployment.errors import ManifestError as ManifestError
    from hedgevault.deployment.errors import WrongChainError as WrongChainError
    from hedgevault.deployment.manifest import ChainIdentity as ChainIdentity
    from hedgevault.deployment.manifest import Manifest as Manifest
    from hedgevault.deployment.manifest import default_manifest_path as default_manifest_path
    from hedgevault.deployment.manifest import load_manifest as load_manifest
    from hedgevault.deployment.manifest import save_manifest as save_manifest
    from hedgevault.deployment.runner import DeployResult as DeployResult
    from hedgevault.deployment.runner import run_deploy as run_deploy

_WHERE = {
    "attach_suite": "attach",
    "suite_config_of": "attach",
    "check_deployment": "checks",
    "DeployConfig": "config",
    "load_deploy_config": "config",
    "DeployConfigError": "errors",
    "DeploymentError": "errors",
    "DeploymentMismatch": "errors",
    "ManifestError": "errors",
    "WrongChainError": "errors",
    "ChainIdentity": "manifest",
    "Manifest": "manifest",
    "default_manifest_path": "manifest",
    "load_manifest": "manifest",
    "save_manifest": "manifest",
    "DeployResult": "runner",
    "run_deploy": "runner",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'hedgevault.deployment' has no attribute {name!r}")
    return getattr(importlib.import_module(f"hedgevault.deployment.{_WHERE[name]}"), name)
