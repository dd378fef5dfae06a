"""The volatility surface (issue 13): raw SVI slices per expiry.

* :mod:`hedgevault.surface.mirror` - the bit-exact mirror of ``contracts/libraries/SviMath.sol``;
* :mod:`hedgevault.surface.onchain` - the compiled library behind ``SviHarness`` (batched eth_calls);
* :mod:`hedgevault.surface.fit` - the keeper's fit of a slice per expiry from market quotes;
* :mod:`hedgevault.surface.merton` - Merton jump-diffusion prices (a skewed market for tests and benches);
* :mod:`hedgevault.surface.prepare` - the oracle's prepared expiries (a cheap first post), for listings and the keeper.
"""
