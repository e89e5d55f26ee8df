/* fuzz_cert: DER through OpenSSL into struct cert_info. */
#include "../../parser/cert.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cert_ocsp ocsp;

	cert_info_free(cert_decode(data, size));
	(void)cert_ocsp_parse(data, size, &ocsp);	/* a stapled OCSP response is DER too */
	return 0;
}
