/* fuzz_rules: a rules file, then a lookup in whatever it defines. */
#include "../../rules/rules.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	struct rules *rs = rules_parse((const char *)data, size, "fuzz", NULL, err, sizeof(err));

	if (rs != NULL)
		(void)rules_match(rs, "www.a.example", 13);
	rules_free(rs);
	return 0;
}
