/* fuzz_cert: DER through OpenSSL into struct cert_info. */
#include "../../parser/cert.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cert_info_free(cert_decode(data, size));
	return 0;
}
