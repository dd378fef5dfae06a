# hedgevault: `make demo` runs the demo on an embedded Anvil, `make test` runs lint, types and tests.
# Both install what they need into the project (.venv, node_modules, .solcx) once; a second run
# reinstalls nothing unless pyproject.toml or package-lock.json changed.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMPS := .setup-stamps

.PHONY: setup demo test lint bench clean

setup: $(STAMPS)/python $(STAMPS)/node $(STAMPS)/solc

$(STAMPS)/python: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "hedgevault needs Python 3.11: run `make PYTHON=python3.11 ...`")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@mkdir -p $(STAMPS) && touch $@

$(STAMPS)/node: package.json package-lock.json
	@command -v npm >/dev/null || (echo "npm not found: install Node.js 20 and npm" && exit 1)
	# `npm install`, not `npm ci`: the lock cannot list @foundry-rs/anvil's optional binaries for other
	# platforms (the registry mirror here does not serve them), which `npm ci` rejects as out of sync.
	npm install --no-audit --no-fund --loglevel=error
	@mkdir -p $(STAMPS) && touch $@

# Registers a solc of the pinned version with py-solc-x (native if it can be downloaded, else solc-js).
$(STAMPS)/solc: $(STAMPS)/python $(STAMPS)/node brownie-config.yaml
	$(BIN)/hedgevault toolchain
	@mkdir -p $(STAMPS) && touch $@

# the README's demo: the option vault's market simulation (7 days, hourly), then the portfolio vault's (30 days at
# 4-hour steps through a crash), each on its own embedded Anvil with the real keeper; prints the time of both
demo: setup
	@start=$$(date +%s); \
	$(BIN)/hedgevault simulate && \
	$(BIN)/hedgevault simulate --portfolio && \
	echo "make demo: both simulations in $$(( $$(date +%s) - start )) s"

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	# both cores; a file's tests stay in one worker (the stateful test's exercise check runs after it)
	$(BIN)/pytest -q -n 2 --dist loadfile

# about 2.7 hours on 2 cores in all (the long ones say how long)
bench: setup
	@mkdir -p bench/results
	$(BIN)/python bench/bench_gas.py | tee bench/results/gas.txt
	$(BIN)/python bench/bench_accuracy.py --n 10000 | tee bench/results/accuracy.txt
	$(BIN)/python bench/bench_mirror.py | tee bench/results/mirror.txt
	$(BIN)/python bench/bench_float64.py | tee bench/results/float64.txt
	$(BIN)/python bench/bench_vault_gas.py --out bench/results/vault_gas.md
	$(BIN)/python bench/bench_settlement_gas.py | tee bench/results/settlement_gas.txt
	$(BIN)/python bench/bench_demo.py
	$(BIN)/python bench/bench_keeper.py | tee bench/results/keeper.txt
	$(BIN)/python bench/bench_portfolio_gas.py | tee bench/results/portfolio_gas.txt
	$(BIN)/python bench/bench_portfolio_mirror.py | tee bench/results/portfolio_mirror.txt
	$(BIN)/python bench/bench_portfolio_optimizer.py | tee bench/results/portfolio_optimizer.txt
	$(BIN)/python bench/bench_hedge_gap.py --out bench/results/hedge_gap.txt
	# about 6 minutes on 2 cores: the demo simulation over 12 seeds
	$(BIN)/python bench/bench_neutrality.py --seeds 12 --jobs 2
	# about 30 minutes on 2 cores: 12 seeds x N in (24, 96, 384) x two fee tiers
	$(BIN)/python bench/bench_hedging.py --seeds 12 --jobs 2
	# about 37 minutes on 2 cores: a short put, 12 seeds x N in (24 .. 384) on 0.3%, (96, 384) on zero fee
	$(BIN)/python bench/bench_hedging.py --option put --seeds 12 --jobs 2
	# the portfolio simulation (issue 11): 12 seeds x 90 days x 3 runs on the chain (estimated 1-2 hours on 2
	# cores; not yet run in full), and the off-chain model (3 minutes)
	$(BIN)/python bench/bench_portfolio_sim.py --model --out bench/results/portfolio_sim_model.txt
	$(BIN)/python bench/bench_portfolio_sim.py --seeds 12 --jobs 2 --out bench/results/portfolio_sim_chain.txt

clean:
	rm -rf $(VENV) node_modules build .solcx $(STAMPS)
