/*
 * fuzz_starttls: starttls_protocol().  Input: a 2-byte client length (modulo
 * what is left), the client's bytes, the server's; each side gets its own
 * exact-size buffer so reading past either end is caught.
 */
#include <stdlib.h>
#include "../../parser/starttls.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t cn, sn;
	uint8_t *c, *s;

	if (size < 2)
		return 0;
	cn = ((size_t)data[0] << 8 | data[1]) % (size - 2 + 1);
	sn = size - 2 - cn;
	c = malloc(cn ? cn : 1);
	s = malloc(sn ? sn : 1);
	if (c != NULL && s != NULL) {
		memcpy(c, data + 2, cn);
		memcpy(s, data + 2 + cn, sn);
		(void)starttls_protocol(c, cn, s, sn);
	}
	free(c);
	free(s);
	return 0;
}
