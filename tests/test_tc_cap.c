// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The --tc-capacity test aid: rules per device, exactly. */
#include <criterion/criterion.h>
#include <errno.h>

#include "tc_cap.h"

Test(tc_cap, refuses_past_the_limit_per_device)
{
	struct ft_tc_cap *c;

	cr_assert_eq(ft_tc_cap_new(&c, 2), 0);
	cr_expect_eq(ft_tc_cap_take(c, 3, 15, 1), 0);
	cr_expect_eq(ft_tc_cap_take(c, 3, 16, 1), 0, "same handle, other prio: another rule");
	cr_expect_eq(ft_tc_cap_take(c, 3, 15, 2), -ENOSPC);
	cr_expect_eq(ft_tc_cap_take(c, 3, 15, 1), 1, "a rule already counted takes no room");
	cr_expect_eq(ft_tc_cap_take(c, 4, 15, 2), 0, "another device has its own room");
	cr_expect_eq(ft_tc_cap_count(c, 3), 2);
	cr_expect_eq(ft_tc_cap_count(c, 4), 1);
	cr_expect_eq(ft_tc_cap_count(c, 5), 0);
	ft_tc_cap_drop(c, 3, 15, 1);
	cr_expect_eq(ft_tc_cap_count(c, 3), 1);
	ft_tc_cap_drop(c, 3, 15, 1); /* twice: nothing more */
	cr_expect_eq(ft_tc_cap_count(c, 3), 1);
	cr_expect_eq(ft_tc_cap_take(c, 3, 15, 2), 0);
	cr_expect_eq(ft_tc_cap_limit(c), 2);
	ft_tc_cap_free(c);
}

Test(tc_cap, rules_found_on_the_device_count_even_past_the_limit)
{
	struct ft_tc_cap *c;

	cr_assert_eq(ft_tc_cap_new(&c, 1), 0);
	cr_expect_eq(ft_tc_cap_seen(c, 3, 15, 1), 0);
	cr_expect_eq(ft_tc_cap_seen(c, 3, 15, 2), 0);
	cr_expect_eq(ft_tc_cap_seen(c, 3, 15, 2), 0);
	cr_expect_eq(ft_tc_cap_count(c, 3), 2);
	cr_expect_eq(ft_tc_cap_take(c, 3, 15, 3), -ENOSPC);
	ft_tc_cap_drop(c, 3, 15, 1);
	cr_expect_eq(ft_tc_cap_take(c, 3, 15, 3), -ENOSPC);
	ft_tc_cap_drop(c, 3, 15, 2);
	cr_expect_eq(ft_tc_cap_take(c, 3, 15, 3), 0);
	ft_tc_cap_free(c);
}

/* Enough rules to grow the table several times, and holes in every probe run. */
Test(tc_cap, many_rules_in_and_out_stay_exact)
{
	const __u32 n = 5000;
	struct ft_tc_cap *c;
	__u32 i;

	cr_assert_eq(ft_tc_cap_new(&c, n), 0);
	for (i = 0; i < n; i++) {
		cr_assert_eq(ft_tc_cap_take(c, 1 + i % 2, 15, i / 2 + 1), 0);
		cr_assert_eq(ft_tc_cap_take(c, 3, 15 + i % 2, i + 1), 0);
	}
	cr_expect_eq(ft_tc_cap_count(c, 1), n / 2);
	cr_expect_eq(ft_tc_cap_count(c, 2), n / 2);
	cr_expect_eq(ft_tc_cap_count(c, 3), n);
	cr_expect_eq(ft_tc_cap_take(c, 3, 15, n + 1), -ENOSPC);
	for (i = 0; i < n; i += 3)
		ft_tc_cap_drop(c, 3, 15 + i % 2, i + 1);
	for (i = 0; i < n; i++)
		cr_assert_eq(ft_tc_cap_take(c, 3, 15 + i % 2, i + 1), i % 3 ? 1 : 0, "rule %u", i);
	for (i = 0; i < n; i++)
		cr_assert_eq(ft_tc_cap_take(c, 1 + i % 2, 15, i / 2 + 1), 1);
	cr_expect_eq(ft_tc_cap_count(c, 3), n);
	ft_tc_cap_free(c);
}
