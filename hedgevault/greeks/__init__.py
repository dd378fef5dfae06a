"""Black-Scholes: the integer mirror of the on-chain library (mirror), its errors, the float64
version (fast), the mpmath reference (reference), error measurement (accuracy), the compiled library
on a node (onchain) and input generators (sampling)."""
