// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The simulated NIC, and the id map under it and the manager. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hw_sim.h"
#include "idmap.h"

#define IF_A 100001

static struct ft_hw_sim *sim;
static struct ft_hw *hw;

static void sim_new(__u32 capacity, double rate, __u64 lag_ms)
{
	struct ft_hw_sim_cfg c = { .capacity = capacity, .insert_rate = rate, .lag_ms = lag_ms };

	cr_assert_eq(ft_hw_sim_new(&sim, &c), 0);
	hw = ft_hw_sim_hw(sim);
	ft_hw_sim_set_time(sim, 10000);
}

static struct ft_hw_op op_for(__u32 handle)
{
	struct ft_hw_op op = {};

	op.rule.key.family = FT_FAMILY_IPV4;
	op.rule.key.proto = 17;
	op.rule.ifindex = IF_A;
	op.rule.handle = handle;
	op.rule.cookie = 500 + handle;
	op.rule.verdict = FT_VERDICT_DROP;
	return op;
}

static int add(__u32 handle, char *extack)
{
	struct ft_hw_op op = op_for(handle);

	cr_assert_eq(hw->ops->add(hw, &op, 1), 0);
	if (extack)
		strcpy(extack, op.extack);
	return op.err;
}

static struct ft_hw_stat seen;

static int one_cb(const struct ft_hw_stat *st, void *ctx)
{
	(void)ctx;
	seen = *st;
	return 0;
}

Test(hw_sim, capacity_refuses_with_enospc_and_its_extack)
{
	char ext[FT_HW_EXTACK_LEN];

	sim_new(2, 0, 0);
	cr_assert_eq(add(1, ext), 0);
	cr_assert_str_eq(ext, "");
	cr_assert_eq(add(2, NULL), 0);
	cr_assert_eq(add(3, ext), -ENOSPC);
	cr_assert_str_eq(ext, "rule table full");
	cr_assert_eq(add(2, ext), -EEXIST);
	cr_assert_str_eq(ext, "filter already exists");
	hw->ops->close(hw);
}

Test(hw_sim, insertion_rate_answers_ebusy_then_refills_with_time)
{
	char ext[FT_HW_EXTACK_LEN];

	sim_new(0, 2, 0);
	cr_assert_eq(add(1, NULL), 0);
	cr_assert_eq(add(2, NULL), 0);
	cr_assert_eq(add(3, ext), -EBUSY);
	cr_assert_str_eq(ext, "insertion rate limit reached");
	ft_hw_sim_set_time(sim, 10500);
	cr_assert_eq(add(3, NULL), 0);
	cr_assert_eq(add(4, NULL), -EBUSY);
	hw->ops->close(hw);
}

Test(hw_sim, counters_lag_but_del_returns_the_exact_final_ones)
{
	struct ft_hw_op op = op_for(1);
	struct ft_hw_stat fin;

	sim_new(0, 0, 2000);
	cr_assert_eq(add(1, NULL), 0);
	ft_hw_sim_set_time(sim, 11000);
	cr_assert_eq(ft_hw_sim_hit(sim, 501, 10, 1000), 1);
	cr_assert_eq(ft_hw_sim_hit(sim, 999, 10, 1000), 0, "no rule: software's packets");
	ft_hw_sim_set_time(sim, 12000);
	cr_assert_eq(ft_hw_sim_hit(sim, 501, 5, 500), 1);
	cr_assert_eq(hw->ops->dump(hw, IF_A, one_cb, NULL), 0);
	cr_assert_eq(seen.packets, 0, "as of 10 s");
	cr_assert_eq(seen.lastuse_ms, 2000, "installed 2 s ago, no hit seen yet");
	ft_hw_sim_set_time(sim, 13000);
	cr_assert_eq(hw->ops->dump(hw, IF_A, one_cb, NULL), 0);
	cr_assert_eq(seen.packets, 10);
	cr_assert_eq(seen.bytes, 1000);
	cr_assert_eq(seen.lastuse_ms, 2000);
	cr_assert_eq(hw->ops->del(hw, &op, 1, &fin), 0);
	cr_assert_eq(op.err, 0);
	cr_assert_eq(fin.packets, 15);
	cr_assert_eq(fin.bytes, 1500);
	cr_assert_eq(ft_hw_sim_has(sim, 501), 0);
	cr_assert_eq(hw->ops->del(hw, &op, 1, &fin), 0);
	cr_assert_eq(op.err, -ENOENT);
	cr_assert_eq(fin.packets, 0);
	hw->ops->close(hw);
}

Test(hw_sim, scripted_failures_come_in_order_and_a_device_can_refuse_all)
{
	char ext[FT_HW_EXTACK_LEN];
	struct ft_hw_sim_stats st;
	struct ft_hw_op op = op_for(9);

	sim_new(0, 0, 0);
	cr_assert_eq(ft_hw_sim_fail_next(sim, -EIO, "first"), 0);
	cr_assert_eq(ft_hw_sim_fail_next(sim, ENOENT, "cannot allocate"), 0);
	cr_assert_eq(add(1, ext), -EIO);
	cr_assert_str_eq(ext, "first");
	cr_assert_eq(add(1, ext), -ENOENT);
	cr_assert_str_eq(ext, "cannot allocate");
	cr_assert_eq(add(1, NULL), 0);
	cr_assert_eq(ft_hw_sim_unsupported(sim, IF_A + 1), 0);
	op.rule.ifindex = IF_A + 1;
	cr_assert_eq(hw->ops->add(hw, &op, 1), 0);
	cr_assert_eq(op.err, -EOPNOTSUPP);
	cr_assert_str_eq(op.extack, "device does not support flower offload");
	ft_hw_sim_stats(sim, &st);
	cr_assert_eq(st.rules, 1);
	cr_assert_eq(st.adds, 1);
	cr_assert_eq(st.add_refused, 3);
	hw->ops->close(hw);
}

/* Random puts and deletes against a plain array: backward shifts lose nothing. */
Test(idmap, agrees_with_a_plain_array_through_deletes_and_growth)
{
	enum { N = 20000 };
	static __u32 ref[N];
	struct ft_idmap m;
	__u64 r = 12345;
	size_t live = 0;

	ft_idmap_init(&m);
	for (size_t i = 0; i < N; i++)
		ref[i] = FT_IDMAP_NONE;
	for (int step = 0; step < 200000; step++) {
		r = r * 6364136223846793005ull + 1442695040888963407ull;
		__u64 id = (r >> 33) % N;

		if ((r >> 20) & 1) {
			live += ref[id] == FT_IDMAP_NONE;
			ref[id] = step;
			cr_assert_eq(ft_idmap_put(&m, id * 4096, step), 0);
		} else {
			live -= ref[id] != FT_IDMAP_NONE;
			ref[id] = FT_IDMAP_NONE;
			ft_idmap_del(&m, id * 4096);
		}
	}
	cr_assert_eq(m.n, live);
	for (size_t i = 0; i < N; i++)
		cr_assert_eq(ft_idmap_get(&m, i * 4096), ref[i], "id %zu", i);
	ft_idmap_free(&m);
}
