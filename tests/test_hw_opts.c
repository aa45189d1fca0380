// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* flowtier run's hardware tier flags: what each sets, and the exact complaint about a bad value. */
#include <errno.h>
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <string.h>

#include "hw_opts.h"

static int opt_of(const char *name)
{
	for (const struct option *o = ft_hw_longopts; o->name; o++)
		if (!strcmp(o->name, name))
			return o->val;
	cr_assert_fail("no flag --%s", name);
	return 0;
}

static int set(struct ft_hw_cfg *c, const char *name, const char *val)
{
	int err = 0;

	cr_assert_eq(ft_hw_opt(opt_of(name), val, c, &err), 1, "--%s is not the tier's", name);
	return err;
}

Test(hw_opts, defaults_are_the_documented_ones)
{
	struct ft_hw_cfg c;

	ft_hw_cfg_default(&c);
	cr_assert_eq(c.kind, FT_OFFLOAD_TC);
	cr_assert_eq(c.tc.flags, FT_TC_FLAGS_SKIP_SW);
	cr_assert_eq(c.tc.capacity, 0);
	cr_assert_eq(c.emu.stats_lag_ms, 1000);
	cr_assert_eq(c.mgr.min_pps, 100);
	cr_assert_eq(c.mgr.min_age_ms, 1000);
	cr_assert_eq(c.mgr.rebalance, 1);
	cr_assert_eq(c.mgr.shift_guess, 1);
	cr_assert_eq(c.mgr.hw_stats_lag_ms, 2000);
	cr_assert_eq(c.mgr.dwell_ms, 5000);
	cr_assert_eq(c.mgr.churn_per_s, 500);
	cr_assert_eq(c.mgr.churn_burst, 10000);
}

Test(hw_opts, each_flag_sets_its_field)
{
	struct ft_hw_cfg c;

	ft_hw_cfg_default(&c);
	cr_assert_eq(set(&c, "offload", "emu"), 0);
	cr_assert_eq(set(&c, "tc-flags", "skip_hw"), 0);
	cr_assert_eq(set(&c, "tc-capacity", "12"), 0);
	cr_assert_eq(set(&c, "offload-min-pps", "2.5"), 0);
	cr_assert_eq(set(&c, "offload-min-age", "0.25"), 0);
	cr_assert_eq(set(&c, "offload-rebalance", "off"), 0);
	cr_assert_eq(set(&c, "offload-margin", "50"), 0);
	cr_assert_eq(set(&c, "offload-margin-pps", "7"), 0);
	cr_assert_eq(set(&c, "offload-dwell", "3"), 0);
	cr_assert_eq(set(&c, "offload-churn", "40"), 0);
	cr_assert_eq(set(&c, "hw-stats-lag", "0"), 0);
	cr_assert_eq(set(&c, "emu-stats-lag", "1.5"), 0);
	cr_assert_eq(set(&c, "offload-idle", "30"), 0);
	cr_assert_eq(set(&c, "offload-shift-guess", "off"), 0);
	cr_assert_eq(c.kind, FT_OFFLOAD_EMU);
	cr_assert_eq(c.tc.flags, FT_TC_FLAGS_SKIP_HW);
	cr_assert_eq(c.tc.capacity, 12);
	cr_assert_float_eq(c.mgr.min_pps, 2.5, 1e-9);
	cr_assert_eq(c.mgr.min_age_ms, 250);
	cr_assert_eq(c.mgr.rebalance, 0);
	cr_assert_float_eq(c.mgr.margin_rel, 0.5, 1e-9);
	cr_assert_float_eq(c.mgr.margin_abs_pps, 7, 1e-9);
	cr_assert_eq(c.mgr.dwell_ms, 3000);
	cr_assert_float_eq(c.mgr.churn_per_s, 40, 1e-9);
	cr_assert_eq(c.mgr.hw_stats_lag_ms, 0);
	cr_assert_eq(c.emu.stats_lag_ms, 1500);
	cr_assert_eq(c.mgr.idle_ms, 30000);
	cr_assert_eq(c.mgr.shift_guess, 0);
}

Test(hw_opts, bad_values_are_named_with_what_is_expected, .init = cr_redirect_stderr)
{
	struct ft_hw_cfg c;

	ft_hw_cfg_default(&c);
	cr_assert_eq(set(&c, "offload", "nic"), -EINVAL);
	cr_assert_eq(set(&c, "tc-flags", "skip"), -EINVAL);
	cr_assert_eq(set(&c, "offload-rebalance", "yes"), -EINVAL);
	cr_assert_eq(set(&c, "offload-churn", "0"), -EINVAL);
	cr_assert_eq(set(&c, "hw-stats-lag", "-1"), -EINVAL);
	cr_assert_eq(c.kind, FT_OFFLOAD_TC, "a refused value changes nothing");
	cr_assert_eq(c.mgr.churn_per_s, 500);
	cr_assert_eq(c.mgr.hw_stats_lag_ms, 2000);
	fflush(stderr);
	cr_assert_stderr_eq_str(
		"flowtier: error: bad value 'nic' for --offload: expected tc, emu or none\n"
		"flowtier: error: bad value 'skip' for --tc-flags: expected skip_sw, skip_hw or "
		"none\n"
		"flowtier: error: bad value 'yes' for --offload-rebalance: expected on or off\n"
		"flowtier: error: bad value '0' for --offload-churn: expected more than 0 "
		"operations "
		"per second\n"
		"flowtier: error: bad value '-1' for --hw-stats-lag: expected seconds from 0 to "
		"86400\n");
}

Test(hw_opts, other_flags_are_not_the_tiers)
{
	struct ft_hw_cfg c;
	int err = 0;

	ft_hw_cfg_default(&c);
	cr_assert_eq(ft_hw_opt('i', "eth0", &c, &err), 0);
}

/* What each driver's errno means (../shared/FACTS.md), and this kernel's missing flower. */
Test(hw_opts, backend_errors_fall_into_the_documented_classes)
{
	cr_assert_eq(ft_hw_classify(-ENOSPC, ""), FT_HWC_EXHAUSTED);
	cr_assert_eq(ft_hw_classify(-ENOMEM, ""), FT_HWC_EXHAUSTED);
	cr_assert_eq(ft_hw_classify(-ENOBUFS, ""), FT_HWC_EXHAUSTED);
	cr_assert_eq(ft_hw_classify(-EIO, ""), FT_HWC_EXHAUSTED);
	cr_assert_eq(ft_hw_classify(-ENOENT, "nfp: cannot allocate rule"), FT_HWC_EXHAUSTED);
	cr_assert_eq(ft_hw_classify(-ENOENT, "TC classifier not found"), FT_HWC_UNSUPPORTED);
	cr_assert_eq(ft_hw_classify(-ENOENT, ""), FT_HWC_OTHER);
	cr_assert_eq(ft_hw_classify(-EAGAIN, ""), FT_HWC_TRANSIENT);
	cr_assert_eq(ft_hw_classify(-EBUSY, ""), FT_HWC_TRANSIENT);
	cr_assert_eq(ft_hw_classify(-EOPNOTSUPP, ""), FT_HWC_UNSUPPORTED);
	cr_assert_eq(ft_hw_classify(-EINVAL, ""), FT_HWC_INVALID);
	cr_assert_eq(ft_hw_classify(-EEXIST, "Filter already exists"), FT_HWC_EXISTS);
	cr_assert_eq(ft_hw_classify(0, ""), FT_HWC_OK);
}
