// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Parsing the hardware tier's flags. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hw_opts.h"
#include "log.h"
#include "settings.h"

enum {
	O_OFFLOAD = FT_HW_OPT_BASE,
	O_TC_FLAGS,
	O_TC_CAPACITY,
	O_EMU_PIN_DIR,
	O_EMU_LAG,
	O_MIN_PPS,
	O_MIN_AGE,
	O_REBALANCE,
	O_MARGIN,
	O_MARGIN_PPS,
	O_DWELL,
	O_CHURN,
	O_LAG,
	O_IDLE,
	O_SHIFT_GUESS,
};

const struct option ft_hw_longopts[] = {
	{ "offload", required_argument, NULL, O_OFFLOAD },
	{ "tc-flags", required_argument, NULL, O_TC_FLAGS },
	{ "tc-capacity", required_argument, NULL, O_TC_CAPACITY },
	{ "emu-pin-dir", required_argument, NULL, O_EMU_PIN_DIR },
	{ "emu-stats-lag", required_argument, NULL, O_EMU_LAG },
	{ "offload-min-pps", required_argument, NULL, O_MIN_PPS },
	{ "offload-min-age", required_argument, NULL, O_MIN_AGE },
	{ "offload-rebalance", required_argument, NULL, O_REBALANCE },
	{ "offload-margin", required_argument, NULL, O_MARGIN },
	{ "offload-margin-pps", required_argument, NULL, O_MARGIN_PPS },
	{ "offload-dwell", required_argument, NULL, O_DWELL },
	{ "offload-churn", required_argument, NULL, O_CHURN },
	{ "hw-stats-lag", required_argument, NULL, O_LAG },
	{ "offload-idle", required_argument, NULL, O_IDLE },
	{ "offload-shift-guess", required_argument, NULL, O_SHIFT_GUESS },
	{ 0 },
};

const char ft_hw_usage[] =
	"  --offload tc|emu|none   the NIC backend (default tc: flower rules over rtnetlink;\n"
	"                          emu: the testbed's emulated NIC; none: software only)\n"
	"  --tc-flags skip_sw|skip_hw|none  flower flags (default skip_sw: the NIC only;\n"
	"                          skip_hw tests against software flower)\n"
	"  --tc-capacity N         test aid: the tc backend reports ENOSPC past N rules\n"
	"  --emu-pin-dir DIR       where emu-nic pinned the emulated NIC's maps\n"
	"  --emu-stats-lag S       the emulated NIC's counters lag S seconds (default 1)\n"
	"  --offload-min-pps R     candidates carry at least R packets/s (default 100)\n"
	"  --offload-min-age S     and are at least S seconds old (default 1)\n"
	"  --offload-rebalance on|off  swap colder rules for hotter flows while the NIC\n"
	"                          is full (default on; off: first come, first kept)\n"
	"  --offload-margin PCT    a swap needs the pending flow PCT% hotter (default 20)\n"
	"  --offload-margin-pps R  and R packets/s hotter (default 100)\n"
	"  --offload-dwell S       a rule stays at least S seconds (default 5)\n"
	"  --offload-churn R       rule operations per second at most (default 500)\n"
	"  --hw-stats-lag S        hardware counters younger than S are not used (default 2)\n"
	"  --offload-idle S        a rule idle for S seconds leaves the NIC (default 10)\n"
	"  --offload-shift-guess on|off  when software gains half the rules' traffic at\n"
	"                          once, take the hot set as moved and swap without\n"
	"                          waiting for the late counters (default on)\n";

void ft_hw_cfg_default(struct ft_hw_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->kind = FT_OFFLOAD_TC;
	ft_offload_cfg_default(&c->mgr);
	c->emu.stats_lag_ms = 1000; /* mlx5 refreshes its counters every second */
}

const char *ft_offload_kind_name(enum ft_offload_kind k)
{
	static const char *const names[] = { "tc", "emu", "none" };

	return (unsigned)k <= FT_OFFLOAD_NONE ? names[k] : "?";
}

static int ft_bad(const char *flag, const char *val, const char *expect)
{
	pr_err("bad value '%s' for --%s: expected %s\n", val, flag, expect);
	return -EINVAL;
}

static int ft_parse_kind(const char *s, enum ft_offload_kind *k)
{
	for (int i = 0; i <= FT_OFFLOAD_NONE; i++)
		if (!strcmp(s, ft_offload_kind_name(i))) {
			*k = i;
			return 0;
		}
	return ft_bad("offload", s, "tc, emu or none");
}

int ft_hw_opt(int opt, const char *arg, struct ft_hw_cfg *c, int *err)
{
	struct ft_offload_cfg *m = &c->mgr;
	double pct; /* scratch: a value is stored only once it is valid */
	__u64 v;

	switch (opt) {
	case O_OFFLOAD:
		*err = ft_parse_kind(arg, &c->kind);
		return 1;
	case O_TC_FLAGS:
		*err = ft_tc_flags_parse(arg, &c->tc.flags)
			       ? ft_bad("tc-flags", arg, "skip_sw, skip_hw or none")
			       : 0;
		return 1;
	case O_TC_CAPACITY:
		*err = ft_parse_uint("--tc-capacity", arg, 1, 1u << 24, &v);
		if (!*err)
			c->tc.capacity = v;
		return 1;
	case O_EMU_PIN_DIR:
		c->emu.pin_dir = arg;
		*err = 0;
		return 1;
	case O_MIN_PPS:
		*err = ft_parse_real("--offload-min-pps", arg, 0, 1e12, &m->min_pps);
		return 1;
	case O_MIN_AGE:
		*err = ft_parse_ms("--offload-min-age", arg, 0, 86400, &m->min_age_ms);
		return 1;
	case O_REBALANCE:
		*err = ft_parse_onoff("--offload-rebalance", arg, &m->rebalance);
		return 1;
	case O_SHIFT_GUESS:
		*err = ft_parse_onoff("--offload-shift-guess", arg, &m->shift_guess);
		return 1;
	case O_MARGIN:
		*err = ft_parse_real("--offload-margin", arg, 0, 1000, &pct);
		if (!*err)
			m->margin_rel = pct / 100;
		return 1;
	case O_MARGIN_PPS:
		*err = ft_parse_real("--offload-margin-pps", arg, 0, 1e12, &m->margin_abs_pps);
		return 1;
	case O_DWELL:
		*err = ft_parse_ms("--offload-dwell", arg, 0, 86400, &m->dwell_ms);
		return 1;
	case O_CHURN:
		*err = ft_parse_real("--offload-churn", arg, 0, 1e6, &pct);
		if (!*err && pct <= 0)
			*err = ft_bad("offload-churn", arg, "more than 0 operations per second");
		if (!*err)
			m->churn_per_s = pct;
		return 1;
	case O_EMU_LAG:
		*err = ft_parse_ms("--emu-stats-lag", arg, 0, 86400, &c->emu.stats_lag_ms);
		return 1;
	case O_LAG:
		*err = ft_parse_ms("--hw-stats-lag", arg, 0, 86400, &m->hw_stats_lag_ms);
		return 1;
	case O_IDLE:
		*err = ft_parse_ms("--offload-idle", arg, 0, 86400, &m->idle_ms);
		return 1;
	default:
		return 0;
	}
}
