"""Portfolio vault support: the bit-exact mirror of the covariance oracle's PSD check and of the target
verification (``mirror``), their exceptions (``errors``), the compiled libraries on a node (``onchain``)
and the keeper-side optimizer (``optimizer``)."""
