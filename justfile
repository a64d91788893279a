# Recipes mirror the README; each is one plain cargo command, so `just` is optional.

# Every test: the quick ones in debug (overflow checks), then all, including the exhaustive
# ones marked #[ignore], in release mode.
test:
    cargo test
    cargo test --release -- --include-ignored

# Quick tests only (debug build, skips the exhaustive ones).
quick:
    cargo test

# Criterion benchmarks (results in target/criterion).
bench:
    cargo bench

# Lints that CI expects clean.
lint:
    cargo fmt --check
    cargo clippy --all-targets -- -D warnings

# Every full experiment recipe, writing the committed results/ (see the README for wall times).
reproduce:
    for r in rounding_error lorenz63 lorenz96 shallow_water intrl block_scales exmy_sweep lmul ulp_survey; do cargo run --release -- run experiments/$r.toml || exit 1; done
