#!/usr/bin/env bash
# Mutation testing (mutmut 3) of the modules whose every line a test must defend: the work queue, the
# event bus, the health monitor and the gateway's assembler. Not part of CI: run it by hand after
# changing one of them (CONTRIBUTING.md lists what survives and why). Niced; minutes per module.
#   scripts/mutation.sh                    all four: queue events health assembler
#   scripts/mutation.sh health events      some of them
# Each module runs in its own copy, $VOXPRINT_MUTATION_DIR/MODULE (default /tmp/voxprint-mutation),
# against only the specification of that module, and prints its score and every mutant not killed;
# `cd $VOXPRINT_MUTATION_DIR/MODULE && mutmut show NAME` shows one. Set MUTATION_CHILDREN to run more
# mutants at once (default 2: the cores are shared).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/venv.sh
command -v mutmut >/dev/null || { echo "mutmut is not installed: run scripts/install.sh --test" >&2; exit 1; }

root=${VOXPRINT_MUTATION_DIR:-${TMPDIR:-/tmp}/voxprint-mutation}
children=${MUTATION_CHILDREN:-2}
modules=("$@")
[ ${#modules[@]} -gt 0 ] || modules=(queue events health assembler)

# module → the files mutated (globs under the package) and the tests that specify them.
declare -A mutate=(
  [queue]="voxprint/server/store/queue.py"
  [events]="voxprint/server/events/*.py"
  [health]="voxprint/server/health.py"
  [assembler]="voxprint/clients/gateway/assembler.py"
)
declare -A tests=(
  [queue]="tests/server/store/test_queue.py tests/server/store/test_store.py tests/server/test_workers.py"
  [events]="tests/server/events"
  [health]="tests/server/test_health.py"
  [assembler]="tests/gateway/test_assembler.py tests/gateway/test_admission.py"
)
declare -A needs_postgres=([queue]=1 [events]=1)

# Every pytest session mutmut starts (one per mutant) shares one PostgreSQL cluster.
cluster=""
stop_cluster() { [ -z "$cluster" ] || python -m tests.support.postgres stop "${cluster#* }"; }
trap stop_cluster EXIT

for module in "${modules[@]}"; do
  [ -n "${mutate[$module]:-}" ] || { echo "unknown module $module: use ${!mutate[*]}" >&2; exit 2; }
  if [ -n "${needs_postgres[$module]:-}" ] && [ -z "$cluster" ]; then
    cluster=$(python -m tests.support.postgres start)
  fi
  stage=$root/$module
  rm -rf "$stage"
  mkdir -p "$stage"
  # The package as one real folder (proto/voxprint's links followed), so the module a test imports
  # (voxprint.server.health) is the file mutmut mutates (voxprint/server/health.py).
  cp -rL proto/voxprint "$stage/voxprint"
  cp -r tests "$stage/tests"
  cp pyproject.toml "$stage/"
  find "$stage" -name __pycache__ -prune -exec rm -rf {} +
  # setup.cfg lists take one value a line.
  selection=$(printf '\n    %s' ${tests[$module]})
  cat >"$stage/setup.cfg" <<EOF
[mutmut]
source_paths = voxprint
only_mutate = ${mutate[$module]}
pytest_add_cli_args_test_selection =$selection
pytest_add_cli_args =
    -m
    not slow
    -p
    no:cacheprovider
# grpc is not fork-safe: mutants fork from a server process that never ran a test.
process_isolation = forkserver
use_git_change_detection = false
EOF
  echo "== $module: mutating ${mutate[$module]}, specified by ${tests[$module]}"
  (cd "$stage" && VOXPRINT_TEST_POSTGRES_PORT=${cluster%% *} nice -n 10 mutmut run --max-children "$children" >mutmut.log 2>&1) ||
    { tail -30 "$stage/mutmut.log"; exit 1; }
  python - "$stage" "$module" <<'EOF'
import json
import sys
from collections import Counter
from pathlib import Path

stage, module = Path(sys.argv[1]), sys.argv[2]
# mutmut's exit codes: 1 and 3 a test failed (killed), 24/36/152/255/-24 a timeout (counted killed).
KILLED = {1, 3, 24, 36, 152, 255, -24}
NAMES = {0: "survived", 5: "no tests", 33: "no tests", 34: "skipped", None: "not checked"}
for meta in sorted((stage / "mutants").rglob("*.py.meta")):
    verdicts = json.loads(meta.read_text())["exit_code_by_key"]
    if not verdicts:
        continue
    killed = sum(code in KILLED for code in verdicts.values())
    counts = Counter(NAMES.get(code, f"exit {code}") for code in verdicts.values() if code not in KILLED)
    source = meta.relative_to(stage / "mutants").with_suffix("")
    print(f"{module}: {source}: {killed}/{len(verdicts)} killed, score {100 * killed / len(verdicts):.1f} %"
          + "".join(f", {count} {name}" for name, count in sorted(counts.items())))
    for name, code in sorted(verdicts.items()):
        if code not in KILLED:
            print(f"    {NAMES.get(code, f'exit {code}')}: {name}")
EOF
done
