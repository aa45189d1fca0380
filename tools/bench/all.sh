#!/bin/sh
# make bench: every benchmark of the project, then one table of their figures against
# issue 7's targets. Usage: tools/bench/all.sh OUT (the build folder, with flowtier and
# bench/ built). Environment: FT_BENCH_ARGS for ft-bench (e.g. "-n 1000000 -r 1"),
# FT_BENCH_SKIP (words among datapath, scan, policy, e2e) to leave some out; FT_TESTBED and
# FT_GEN (tools/testbed.sh, OUT/ft-gen) for the end-to-end benchmark (tools/bench/e2e.sh).
# Takes about 2.5 minutes here: ft-bench ~1.5, ft-scan-bench ~0.4, the policies ~0.6.
set -u
OUT=${1:-build}
LOG=$OUT/bench/logs
FT=$OUT/flowtier
mkdir -p "$LOG"
ROWS=$LOG/rows.txt
: > "$ROWS"

skip() { case " ${FT_BENCH_SKIP:-} " in *" $1 "*) return 0 ;; esac; return 1; }
FAILED=0
row() { printf '| %s | %s | %s | %s | %s |\n' "$1" "$2" "$3" "$4" "$5" >> "$ROWS"; }

# ---- datapath: ns per packet against baselines (ft-bench's two tables) ----
datapath() {
	echo "== datapath: $OUT/bench/ft-bench ${FT_BENCH_ARGS:-}"
	# shellcheck disable=SC2086
	if ! "$OUT/bench/ft-bench" ${FT_BENCH_ARGS:-} | tee "$LOG/datapath.txt"; then
		row datapath "ft-bench" "failed" "-" "see $LOG/datapath.txt"
		FAILED=1
		return
	fi
	# One CPU:  | scenario | empty | percpu_bare | percpu_hash | lru_hash | flowtier |
	#           x percpu_bare | x percpu_hash | x lru_hash | met |
	# Two CPUs: | scenario | empty | lru_ct | kernel_ct | flowtier | x lru_ct | x kernel_ct | met |
	# The target met? column names the ratio and the baseline it is set against.
	awk -F'|' '$2 ~ /scenario|---/ { next }
	NF == 12 {
		for (i = 2; i <= 11; i++) gsub(/^ +| +$/, "", $i)
		printf "| datapath | %s | flowtier %s ns: %s x percpu_bare, %s x percpu_hash, %s x lru_hash | %s | %s |\n",
			$2, $7, $8, $9, $10,
			$2 ~ /hot/ ? "<= 0.8 x percpu_hash" : $2 ~ /^1M/ ? "<= 0.6 x lru_hash" : "<= 0.4 x lru_hash",
			$11
	}
	NF == 10 {
		for (i = 2; i <= 9; i++) gsub(/^ +| +$/, "", $i)
		printf "| datapath | %s | flowtier %s ns: %s x lru_ct, %s x kernel_ct | %s | %s |\n",
			$2, $6, $7, $8, $2 ~ /hot/ ? "<= 0.35 x lru_ct" : "<= 0.9 x lru_ct", $9
	}' "$LOG/datapath.txt" >> "$ROWS"
}

# ---- the controller's scan against bpf_map_lookup_batch (ft-scan-bench's own table) ----
scan() {
	echo "== scan: $OUT/bench/ft-scan-bench"
	if ! "$OUT/bench/ft-scan-bench" | tee "$LOG/scan.txt"; then
		row scan "ft-scan-bench" "failed" "-" "see $LOG/scan.txt"
		FAILED=1
		return
	fi
	# | target | figure | met? |
	awk -F'|' 'NF == 5 && $2 !~ /^ *target *$|---/ {
		for (i = 2; i <= 4; i++) gsub(/^ +| +$/, "", $i)
		printf "| scan | ft-scan-bench | %s | %s | %s |\n", $3, $2, $4
	}' "$LOG/scan.txt" >> "$ROWS"
}

# ---- policy quality: simulate on issue 7's matrix ----
# One field of one policy in simulate's --json output: js POLICY FIELD FILE.
js() {
	awk -v p="$1" -v f="$2" '{
		n = split($0, a, /\{"policy":"/)
		for (i = 2; i <= n; i++) {
			if (index(a[i], p "\"") != 1 || !match(a[i], "\"" f "\":(\\[+[^]]*\\]|[^,}]*)"))
				continue
			v = substr(a[i], RSTART + length(f) + 3, RLENGTH - length(f) - 3)
			gsub(/[][]/, "", v)
			print (v == "null" ? "never" : v)
		}
	}' "$3"
}

# Prints one policy's figures of a run, the way simulate's table has them.
show() {
	for p in flowtier ovs fcfs oracle; do
		printf '  %-9s coverage %s, ratio %s, ops/s %s (changes %s), recovery %s\n' "$p" \
			"$(js $p coverage "$1")" "$(js $p ratio_to_oracle "$1")" \
			"$(js $p ops_per_second "$1")" "$(js $p changes_per_second "$1")" \
			"$(js $p recovery_seconds "$1" | sed 's/^$/-/')"
	done
}

policy_case() {
	a=$1 c=$2 base="--zipf $1 --flows 100000 --capacity $2 --duration 120"
	st=$LOG/sim-$a-$c-steady.json sh=$LOG/sim-$a-$c-shift.json
	# shellcheck disable=SC2086 # base is several flags
	$FT simulate $base --json > "$st" || return 1
	# shellcheck disable=SC2086
	$FT simulate $base --shift 60 --json > "$sh" || return 1
	echo "-- zipf $a, capacity $c, 120 s, steady:"
	show "$st"
	echo "-- the same with a shift at 60 s:"
	show "$sh"
	r=$(js flowtier ratio_to_oracle "$st")
	row policy "zipf $a, cap $c, steady: coverage / oracle" "$r (ovs $(js ovs ratio_to_oracle "$st"))" \
		">= 0.98" "$(awk -v r="$r" 'BEGIN { print (r >= 0.98 ? "yes" : "no") }')"
	r=$(js flowtier recovery_seconds "$sh")
	i2=$(js flowtier after_shift "$sh" | cut -d, -f2)
	row policy "zipf $a, cap $c, shift: 0.95 x oracle after" \
		"$r s (ovs $(js ovs recovery_seconds "$sh") s); 2nd interval $i2 x oracle" \
		"<= 2 intervals" "$(awk -v r="$r" 'BEGIN { print (r != "never" && r <= 2 ? "yes" : "no") }')"
	set -- "$(js flowtier ops_per_second "$sh")" "$(js ovs ops_per_second "$sh")" \
		"$(js flowtier changes_per_second "$sh")" "$(js ovs changes_per_second "$sh")" \
		"$(js flowtier coverage "$sh")" "$(js ovs coverage "$sh")"
	row policy "zipf $a, cap $c, shift: ops / ovs's; coverage" \
		"$(awk -v f="$1" -v o="$2" -v fc="$3" -v oc="$4" \
			'BEGIN { printf "%.3f (%s / %s per s); changes only %.3f", f / o, f, o, fc / oc }'); $5 vs $6" \
		"<= 0.2; coverage > ovs's" \
		"$(awk -v f="$1" -v o="$2" -v a="$5" -v b="$6" 'BEGIN { print (f <= 0.2 * o && a > b ? "yes" : "no") }')"
}

policy() {
	echo "== policy quality: $FT simulate, 100k flows, 120 s, with and without a shift at 60 s"
	for a in 0.8 1.0 1.2; do
		for c in 1000 4000; do
			policy_case "$a" "$c" || { row policy "zipf $a, cap $c" "simulate failed" "-" "-"; FAILED=1; }
		done
	done
}

# ---- end to end on the testbed: software-tier ns per packet from bpf_stats ----
e2e() {
	if [ ! -x "${FT_TESTBED:-tools/testbed.sh}" ] || [ ! -x "${FT_GEN:-$OUT/ft-gen}" ]; then
		why="not run: needs tools/testbed.sh and $OUT/ft-gen (branch gen)"
		row "end to end" "software tier ns/packet, offload off" "-" "(no target)" "$why"
		row "end to end" "software tier ns/packet, offload on" "-" "(no target)" "$why"
		return
	fi
	echo "== end to end: tools/bench/e2e.sh"
	sh tools/bench/e2e.sh "$OUT" > "$LOG/e2e.txt" || FAILED=1
	cat "$LOG/e2e.txt"
	# e2e.sh prints "e2e: offload off|on: N ns/packet (...)" or "e2e: offload on: not run: why"
	for mode in off on; do
		line=$(sed -n "s/^e2e: offload $mode: //p" "$LOG/e2e.txt")
		row "end to end" "software tier ns/packet, offload $mode" "${line:-failed}" "(no target)" "-"
	done
}

skip datapath || datapath
skip scan || scan
skip policy || policy
skip e2e || e2e

echo
echo "== make bench: $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -r), $(nproc) CPUs, commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "| benchmark | case | figure | target | met? |"
echo "|---|---|---|---|---|"
cat "$ROWS"
exit $FAILED
