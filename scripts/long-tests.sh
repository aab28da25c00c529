#!/usr/bin/env bash
# The long-run reliability tests, at the sizes docs/durability.md reports,
# each printing its figures. They are `#[ignore]`d in CI and run for real
# here (no environment switch turns them into no-ops).
#
#   scripts/long-tests.sh                 # every long test, in order
#   scripts/long-tests.sh power_loss      # one module's long tests (or `::name` prefix)
#   scripts/long-tests.sh --list          # what would run
#
# Sizes (defaults; the variables make a quicker run, e.g. to try the script):
#   power_loss_long_200000_seeds        CLAIMGRAPH_LONG_SEEDS   200000 simulated power losses
#   index_damage_long_60_flips_per_file                          60 flips per index file
#   kill_loop_long_5000_cycles_with_readers CLAIMGRAPH_LONG_CYCLES 5000 SIGKILL cycles
#   readers_during_writes_long_5000_transactions CLAIMGRAPH_LONG_TXS 5000 transactions
#   budgets_over_a_million_claim_supernode CLAIMGRAPH_HUB_CLAIMS 1000000 hub claims
#   soak_a_million_claims_with_periodic_reopen CG_CLAIMS, CG_REOPEN 1000000 claims, reopen every 100000
#
# To add a long test: `#[test] #[ignore = "long run: scripts/long-tests.sh"]`
# in tests/reliability/, and one line in TESTS below (module::name).
set -euo pipefail
cd "$(dirname "$0")/.."

TESTS=(
    power_loss::power_loss_long_200000_seeds
    index_damage::index_damage_long_60_flips_per_file
    kill_loop::kill_loop_long_5000_cycles_with_readers
    readers::readers_during_writes_long_5000_transactions
    hostile_queries::budgets_over_a_million_claim_supernode
    soak::soak_a_million_claims_with_periodic_reopen
)

filter="${1:-}"
selected=()
for t in "${TESTS[@]}"; do
    # A module (`readers`) or a test name, or a part of one after `::`.
    if [[ -z "$filter" || "$filter" == "--list" || "$t" == "$filter"* || "$t" == *"::$filter"* ]]; then
        selected+=("$t")
    fi
done
if [[ ${#selected[@]} -eq 0 ]]; then
    echo "no long test matches '$filter'" >&2
    exit 2
fi
if [[ "$filter" == "--list" ]]; then
    printf '%s\n' "${selected[@]}"
    exit 0
fi

# LONG_TESTS_DEBUG=1 runs a debug build (with small sizes, to try the script).
profile=(--release)
[[ -n "${LONG_TESTS_DEBUG:-}" ]] && profile=()
log=$(mktemp)
trap 'rm -f "$log"' EXIT
failed=0
for t in "${selected[@]}"; do
    echo "=== $t"
    start=$(date +%s)
    # --exact: exactly this test; --nocapture: its figures (eprintln) show.
    status=0
    cargo test "${profile[@]}" --quiet --test reliability -- --ignored --exact --nocapture "$t" 2>&1 \
        | tee "$log" || status=$?
    # A filter that matched nothing would pass without running anything.
    if [[ $status -eq 0 ]] && grep -q "test result: ok. 1 passed" "$log"; then
        echo "=== $t: passed in $(( $(date +%s) - start )) s"
    else
        echo "=== $t: FAILED (or did not run) after $(( $(date +%s) - start )) s"
        failed=1
    fi
done
exit $failed
