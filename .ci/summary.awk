# The closing lines of .ci/run, from the log of `nx run-many ... --outputStyle=stream` (colours
# stripped): vitest's totals summed over every project, Nx's failed tasks, and the verdict.
#   awk -v status=<nx exit status> -f .ci/summary.awk LOG
# The "failed:" line never reads "none" or a zero when the run failed: a file that fails to load has
# no failed test but is a failed file; a task that fails before vitest prints its totals (lint,
# typecheck, build, a crash) is a failed task; when nothing was counted it says so. Exit status 1
# when Nx succeeded yet failures were printed.
function add(kind,    i, word) {
  for (i = 2; i <= NF; i++) {
    word = $i
    sub(/[^a-z].*/, "", word)
    if (word ~ /^(passed|failed|skipped|todo)$/) n[kind, word] += $(i - 1)
    else if (word == "fail" && $(i - 1) == "expected") n[kind, "expected"] += $(i - 2)
  }
}
# " 2 test files (why)" for a non-zero count, nothing for zero; parts after the first start with ",".
function part(count, noun, why) {
  if (count == 0) return ""
  return sprintf("%s %d %s%s%s", parts++ ? "," : "", count, noun, count == 1 ? "" : "s", why)
}
/ Test Files +[0-9]/ { add("files"); next }
/ Tests +[0-9]/ { add("tests"); next }
/ Errors +[0-9]+ error/ { for (i = 2; i <= NF; i++) if ($i ~ /^error/) errors += $(i - 1) }
/Failed tasks:/ { in_failed = 1; next }
in_failed && /^ *- / { sub(/^ *- */, ""); failed_tasks[++k] = $0; next }
in_failed && /[^ ]/ { in_failed = 0 }
END {
  tf = n["tests", "failed"]; ff = n["files", "failed"]
  printf "tests: %d passed, %d skipped, %d todo, %d expected failures (it.fails)\n", \
    n["tests", "passed"], n["tests", "skipped"], n["tests", "todo"], n["tests", "expected"]
  printf "test files: %d passed, %d skipped\n", n["files", "passed"], n["files", "skipped"]
  failures = tf + ff + errors + k
  if (failures > 0)
    printf "failed:%s%s%s%s\n", part(tf, "test", ""), part(ff, "test file", " (failed to load or had a failing test)"), \
      part(errors, "unhandled error", ""), part(k, "Nx task", "")
  else if (status != 0)
    printf "failed: the run (nx exit status %d), though no failing test, test file, error or task was counted: read the log above\n", status
  else
    print "failed: none"
  for (i = 1; i <= k; i++) printf "  - %s\n", failed_tasks[i]
  if (status != 0) printf "result: FAILED (nx exit status %d)\n", status
  else if (failures > 0) { print "result: FAILED (nx exit status 0, but the log shows failures)"; exit 1 }
  else print "result: passed"
}
