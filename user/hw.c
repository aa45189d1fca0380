// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* What a backend's errno means to the manager: mlx5, ice, bnxt and sfc report a full table
 * differently. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "hw.h"

/* nfp reports a full table as ENOENT, and says so in its extack. */
static int ft_hw_extack_says_full(const char *extack)
{
	return extack && (strstr(extack, "allocat") || strstr(extack, "full") ||
			  strstr(extack, "exceed") || strstr(extack, "resource"));
}

enum ft_hw_class ft_hw_classify(int err, const char *extack)
{
	if (err < 0)
		err = -err;
	switch (err) {
	case 0:
		return FT_HWC_OK;
	case ENOSPC:
	case ENOMEM:
	case ENOBUFS:
	case EIO:
		return FT_HWC_EXHAUSTED;
	case ENOENT:
		if (ft_hw_extack_says_full(extack))
			return FT_HWC_EXHAUSTED;
		/* A kernel built without cls_flower: no rule will ever go in. */
		if (extack && strstr(extack, "classifier not found"))
			return FT_HWC_UNSUPPORTED;
		return FT_HWC_OTHER;
	case EAGAIN:
	case EBUSY:
		return FT_HWC_TRANSIENT;
	case EOPNOTSUPP:
		return FT_HWC_UNSUPPORTED;
	case EINVAL:
		return FT_HWC_INVALID;
	case EEXIST:
		return FT_HWC_EXISTS;
	default:
		return FT_HWC_OTHER;
	}
}

const char *ft_hw_class_name(enum ft_hw_class c)
{
	static const char *const names[FT_HWC_MAX] = {
		[FT_HWC_OK] = "ok",
		[FT_HWC_EXHAUSTED] = "exhausted",
		[FT_HWC_TRANSIENT] = "transient",
		[FT_HWC_UNSUPPORTED] = "unsupported",
		[FT_HWC_INVALID] = "invalid",
		[FT_HWC_EXISTS] = "exists",
		[FT_HWC_OTHER] = "other",
	};
	return (unsigned)c < FT_HWC_MAX ? names[c] : "?";
}

struct ft_flush {
	struct ft_hw_op *ops;
	size_t n, cap;
};

int ft_hw_ops_append(struct ft_hw_op **ops, size_t *n, size_t *cap, const struct ft_hw_rule *r)
{
	if (ft_grow((void **)ops, cap, *n + 1, sizeof(**ops)))
		return -ENOMEM;
	memset(&(*ops)[*n], 0, sizeof(**ops));
	(*ops)[(*n)++].rule = *r;
	return 0;
}

static int ft_flush_collect(const struct ft_hw_stat *st, void *arg)
{
	struct ft_flush *f = arg;

	return ft_hw_ops_append(&f->ops, &f->n, &f->cap, &st->rule);
}

int ft_hw_flush(struct ft_hw *hw, __u32 ifindex, size_t *removed)
{
	struct ft_flush f = { 0 };
	int err = hw->ops->dump(hw, ifindex, ft_flush_collect, &f);

	*removed = 0;
	if (!err && f.n)
		err = hw->ops->del(hw, f.ops, f.n, NULL);
	for (size_t i = 0; !err && i < f.n; i++) {
		if (f.ops[i].err)
			err = f.ops[i].err;
		else
			(*removed)++;
	}
	free(f.ops);
	return err;
}
