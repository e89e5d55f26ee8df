/* fuzz_tls_hs: the pure handshake parsers on one message body. */
#include "../../parser/tls_fp.h"
#include "../../parser/tls_hs.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tls_client_hello ch;
	static struct tls_server_hello sh;
	static struct tls_cert_list cl;

	static char str[TLS_FP_STR_MAX];
	struct tls_der ocsp;
	char md5[33], ja4[37];

	if (tls_hs_client_hello(data, size, &ch) == 0) {	/* the fingerprints of what parsed */
		(void)tls_ja3(&ch, str, sizeof(str), md5);
		(void)tls_ja4(&ch, TLS_FP_TCP, ja4, str, sizeof(str));
	}
	if (tls_hs_server_hello(data, size, &sh) == 0)
		(void)tls_ja3s(&sh, str, sizeof(str), md5);
	(void)tls_hs_certificate_status(data, size, &ocsp);
	(void)tls_hs_certificate(data, size, &cl);
	(void)tls_hs_sslv2_client_hello(data, size, &ch);
	(void)tls_hs_sslv2_server_hello(data, size, &sh, &cl);
	return 0;
}
