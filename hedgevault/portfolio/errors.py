"""Exceptions of the portfolio mirror, one per Solidity custom error of the same name.

The covariance oracle's errors are declared in ``interfaces/ICovarianceOracle.sol``, the target
verification's in ``interfaces/IPortfolioMath.sol``. Each carries the revert's arguments;
``revert_data()`` gives the exact bytes the contract reverts with. :class:`OptimizerError` is the
optimizer's own failure (no Solidity counterpart).
"""

from __future__ import annotations

from hedgevault.errors import ContractError, HedgevaultError


class PortfolioError(ContractError):
    """A post or a target the contracts reject; mirrors a Solidity custom error."""


# ----------------------------------------------------------------------------- CovarianceOracle


class CovNotPosted(PortfolioError):
    SIGNATURE = "CovNotPosted()"
    FIELDS = ()
    HINT = "nothing was posted yet: the keeper must post the covariance first"


class CovStale(PortfolioError):
    SIGNATURE = "CovStale(uint256,uint256,uint256)"
    FIELDS = ("updatedAt", "maxAgeSec", "nowSec")
    HINT = "the latest post is older than maxAgeSec: the keeper must post again"


class CovPackingInvalid(PortfolioError):
    SIGNATURE = "CovPackingInvalid(uint256,uint256)"
    FIELDS = ("wordIndex", "word")
    HINT = "a field beyond the n volatilities / n (n - 1) / 2 correlations is set: check the packing (pack_post)"


class CovVolOutOfBounds(PortfolioError):
    SIGNATURE = "CovVolOutOfBounds(uint256,uint256,uint256,uint256)"
    FIELDS = ("asset", "volBp", "minVolBp", "maxVolBp")
    HINT = "post a volatility inside the oracle's bounds (params().minVolBp .. maxVolBp)"


class CovCorrOutOfBounds(PortfolioError):
    SIGNATURE = "CovCorrOutOfBounds(uint256,uint256,int256,int256,int256)"
    FIELDS = ("i", "j", "corrBp", "minCorrBp", "maxCorrBp")
    HINT = "post a correlation inside the oracle's bounds (params().minCorrBp .. maxCorrBp)"


class CovPostTooSoon(PortfolioError):
    SIGNATURE = "CovPostTooSoon(uint256,uint256,uint256)"
    FIELDS = ("lastUpdatedAt", "minIntervalSec", "nowSec")
    HINT = "wait until lastUpdatedAt + minIntervalSec before posting again"


class CovVolStepExceeded(PortfolioError):
    SIGNATURE = "CovVolStepExceeded(uint256,uint256,uint256,uint256)"
    FIELDS = ("asset", "previousVolBp", "newVolBp", "allowedStepBp")
    HINT = "move the volatility by at most the allowed step now (allowedStepsNowBp()), or wait"


class CovCorrStepExceeded(PortfolioError):
    SIGNATURE = "CovCorrStepExceeded(uint256,uint256,int256,int256,uint256)"
    FIELDS = ("i", "j", "previousCorrBp", "newCorrBp", "allowedStepBp")
    HINT = "move the correlation by at most the allowed step now (allowedStepsNowBp()), or wait"


class CovNotPsd(PortfolioError):
    SIGNATURE = "CovNotPsd(uint256,int256,uint256)"
    FIELDS = ("pivotIndex", "pivotWad", "toleranceWad")
    HINT = "the correlation matrix is not positive semi-definite: shrink it toward the identity"


# ----------------------------------------------------------------------------- PortfolioMath


class PmLengthMismatch(PortfolioError):
    SIGNATURE = "PmLengthMismatch(bytes32,uint256,uint256)"
    FIELDS = ("name", "length", "expected")
    HINT = "every per-asset array needs one entry per asset (the covariance n x n)"


class PmWeightNegative(PortfolioError):
    SIGNATURE = "PmWeightNegative(uint256,int256)"
    FIELDS = ("asset", "weightWad")
    HINT = "targets are long-only: every weight must be >= 0"


class PmWeightOutOfBounds(PortfolioError):
    SIGNATURE = "PmWeightOutOfBounds(uint256,uint256,uint256,uint256)"
    FIELDS = ("asset", "weightWad", "minWad", "maxWad")
    HINT = "keep each weight within its per-asset [min, max]"


class PmWeightSumAboveOne(PortfolioError):
    SIGNATURE = "PmWeightSumAboveOne(uint256)"
    FIELDS = ("sumWad",)
    HINT = "the weights must add up to at most 1e18 (the rest is held in the quote token)"


class PmVolOutOfBand(PortfolioError):
    SIGNATURE = "PmVolOutOfBand(uint256,uint256,uint256)"
    FIELDS = ("volWad", "minVolWad", "maxVolWad")
    HINT = "scale the risky weights so that sqrt(w'Sw) falls inside the band"


class PmBudgetInvalid(PortfolioError):
    SIGNATURE = "PmBudgetInvalid(uint256,uint256,uint256)"
    FIELDS = ("asset", "budgetWad", "sumWad")
    HINT = "risk budgets must each be > 0 and add up to exactly 1e18"


class PmNoRisk(PortfolioError):
    SIGNATURE = "PmNoRisk(int256)"
    FIELDS = ("varianceWad",)
    HINT = "a target without risk has no risk-parity or minimum-variance condition: post it in TargetVol mode"


class PmRiskContributionOff(PortfolioError):
    SIGNATURE = "PmRiskContributionOff(uint256,int256,uint256,uint256)"
    FIELDS = ("asset", "shareWad", "budgetWad", "toleranceWad")
    HINT = "the asset's share of the variance is too far from its budget: re-solve the risk-parity weights"


class PmKktGradientOff(PortfolioError):
    SIGNATURE = "PmKktGradientOff(uint256,int256,int256,uint256)"
    FIELDS = ("asset", "gradientWad", "lambdaWad", "toleranceWad")
    HINT = "a held asset's marginal variance differs from the others': not the minimum-variance weights"


class PmKktGradientBelow(PortfolioError):
    SIGNATURE = "PmKktGradientBelow(uint256,int256,int256,uint256)"
    FIELDS = ("asset", "gradientWad", "lambdaWad", "toleranceWad")
    HINT = "an unheld asset would lower the variance: not the minimum-variance weights"


ALL_ERRORS: tuple[type[PortfolioError], ...] = (
    CovNotPosted,
    CovStale,
    CovPackingInvalid,
    CovVolOutOfBounds,
    CovCorrOutOfBounds,
    CovPostTooSoon,
    CovVolStepExceeded,
    CovCorrStepExceeded,
    CovNotPsd,
    PmLengthMismatch,
    PmWeightNegative,
    PmWeightOutOfBounds,
    PmWeightSumAboveOne,
    PmVolOutOfBand,
    PmBudgetInvalid,
    PmNoRisk,
    PmRiskContributionOff,
    PmKktGradientOff,
    PmKktGradientBelow,
)


class OptimizerError(HedgevaultError):
    """The optimizer could not produce weights that pass the contract's checks, not even its fallback."""
