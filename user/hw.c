// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* What a backend's errno means to the manager (../shared/FACTS.md lists each driver's). */
#include <errno.h>
#include <string.h>

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
		return ft_hw_extack_says_full(extack) ? FT_HWC_EXHAUSTED : FT_HWC_OTHER;
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
