// SPDX-License-Identifier: GPL-2.0-only
/* The continuous mode's config file (`key = value` lines) through config__parse. */
#include <stdlib.h>

#include "service/config.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char msg[CONFIG_MSG_LEN], val[PATH_MAX];
	struct config c, d;
	const char *key;
	size_t i;
	char *buf;

	fuzz__quiet();
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	config__init(&c);
	msg[0] = '\0';
	if (config__parse(&c, buf, size, "fuzz.conf", msg)) {
		if (!memchr(msg, '\0', sizeof(msg)) || !msg[0])
			abort();
	}
	free(buf);
	/* Whatever was accepted formats back, and reparses to the same settings. */
	config__init(&d);
	for (i = 0; (key = config__key_name(i)); i++) {
		config__format(&c, key, val, sizeof(val));
		if (!memchr(val, '\0', sizeof(val)))
			abort();
		/* An unset output-dir formats as "", which is not a value one may set. */
		if (config__set(&d, key, val, msg) && val[0])
			abort();
	}
	if (config__diff(&c, &d, NULL, NULL))
		abort();
	return 0;
}
