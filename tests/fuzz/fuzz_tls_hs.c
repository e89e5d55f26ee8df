/* fuzz_tls_hs: the pure handshake parsers on one message body. */
#include "../../parser/tls_hs.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tls_client_hello ch;
	static struct tls_server_hello sh;
	static struct tls_cert_list cl;

	(void)tls_hs_client_hello(data, size, &ch);
	(void)tls_hs_server_hello(data, size, &sh);
	(void)tls_hs_certificate(data, size, &cl);
	(void)tls_hs_sslv2_client_hello(data, size, &ch);
	(void)tls_hs_sslv2_server_hello(data, size, &sh, &cl);
	return 0;
}
