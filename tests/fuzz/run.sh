#!/bin/sh
# Runs each libFuzzer target (make fuzz) for FT_FUZZ_SECONDS (default 30)
# from its committed seeds (tests/fuzz/corpus/NAME), keeping what it finds
# in FT_FUZZ_DIR/corpus-NAME. Fails on the first crash, leak or sanitizer
# report, naming the input that caused it.
set -u
DIR=${FT_FUZZ_DIR:-build/fuzz}
SECS=${FT_FUZZ_SECONDS:-30}
SEEDS=$(dirname "$0")/corpus
status=0
for name in ctl config netlink http; do
	bin=$DIR/fuzz_$name
	work=$DIR/corpus-$name
	if [ ! -x "$bin" ]; then
		echo "fuzz: $bin is missing: run 'make fuzz'" >&2
		exit 1
	fi
	mkdir -p "$work"
	# -close_fd_mask=2: the parsers' own error messages would drown the fuzzer's.
	# http: requests up to past the 8 KB header limit, to reach the 431 path.
	max=4096
	[ "$name" = http ] && max=12000
	if "$bin" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -close_fd_mask=2 -max_len=$max \
		-artifact_prefix="$DIR/crash-$name-" "$work" "$SEEDS/$name" > "$DIR/$name.log" 2>&1; then
		echo "fuzz: $name: $(grep -o 'Done [0-9]* runs in [0-9]* second(s)' "$DIR/$name.log"), no crash"
	else
		echo "fuzz: $name failed; the input is in $DIR/crash-$name-*:" >&2
		tail -30 "$DIR/$name.log" >&2
		status=1
	fi
done
exit $status
