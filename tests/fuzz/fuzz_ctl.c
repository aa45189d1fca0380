// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libFuzzer target: the control socket's request line, which any root
 * client may send (ft_ctl_parse). A parsed request must be what the
 * parser promises: a command word and key=value pairs of the allowed
 * characters, each within its size.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

static void ft_fuzz_word(const char *s, size_t max, const char *extra)
{
	size_t n = strnlen(s, max);

	if (n == max)
		abort();
	for (size_t i = 0; i < n; i++) {
		if (!isalnum((unsigned char)s[i]) && !strchr(extra, s[i]))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char line[FT_CTL_LINE_MAX + 2];
	struct ft_ctl_req req;
	size_t n = size < sizeof(line) - 1 ? size : sizeof(line) - 1;

	memcpy(line, data, n);
	line[n] = '\0';
	if (ft_ctl_parse(line, &req))
		return 0;
	if (!req.cmd[0] || req.nargs < 0 || req.nargs > FT_CTL_MAX_ARGS)
		abort();
	ft_fuzz_word(req.cmd, FT_CTL_KEY_MAX, ".-_");
	for (int i = 0; i < req.nargs; i++) {
		ft_fuzz_word(req.args[i].key, FT_CTL_KEY_MAX, ".-_");
		ft_fuzz_word(req.args[i].val, FT_CTL_VAL_MAX, ".-_/");
		if (!req.args[i].key[0] || ft_ctl_arg(&req, req.args[i].key) == NULL)
			abort();
	}
	return 0;
}
