#!/bin/sh
# Runs every Criterion test binary (and shell test) given and ends with one
# summary line.
# Criterion's --jobs 1: the tests pin themselves to CPU 0 and load BPF
# objects; running them one at a time keeps their timing honest. No
# --full-stats: it sends every passed assertion to the runner, one message
# each, and the cross-CPU tests assert per packet (minutes instead of seconds).
passed=0
failed=0
status=0
for t in "$@"; do
	# A shell test (the VM test) counts as one test, passed when it exits 0.
	case "$t" in
	*.sh)
		if sh "$t" "${FT_BIN:-build/flowtier}"; then
			passed=$((passed + 1))
		else
			echo "run.sh: $t failed" >&2
			failed=$((failed + 1))
			status=1
		fi
		continue
		;;
	esac
	out=$("$t" --jobs 1 2>&1)
	rc=$?
	printf '%s\n' "$out"
	line=$(printf '%s\n' "$out" | grep 'Synthesis: Tested:' | tail -1)
	p=$(printf '%s' "$line" | sed -n 's/.*Passing: \([0-9]*\).*/\1/p')
	f=$(printf '%s' "$line" | sed -n 's/.*Failing: \([0-9]*\).*Crashing: \([0-9]*\).*/\1 \2/p')
	if [ -z "$p" ]; then
		echo "run.sh: $t printed no summary (exit $rc)" >&2
		failed=$((failed + 1))
		status=1
		continue
	fi
	passed=$((passed + p))
	for n in $f; do failed=$((failed + n)); done
	[ "$rc" -ne 0 ] && status=1
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] || status=1
exit $status
