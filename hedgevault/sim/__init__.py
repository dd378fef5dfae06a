"""The market simulator: the real suite on Anvil driven through a seeded scenario (``hedgevault simulate``).

from hedgevault.sim.run import RunOptions, run
output = run(RunOptions(seed=1))          # the demo: 7 days at hourly steps
"""
