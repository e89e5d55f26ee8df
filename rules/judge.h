/*
 * judge.h: what is wrong with a handshake, the way an analyst would say it.
 *
 * Input: what the handshake showed (hellos, chain, stapled OCSP, the capture
 * time), the rules and the CA store.  Output: which block watches it, the
 * issuer verdict of the foundation, the chain's validation status, and the
 * list of findings (rule_reason), each marked with whether it raises an
 * alert: a watched block's own checks, the reasons [defaults] makes alert
 * for every name, minus the block's `ignore`.  Pure: no state across
 * handshakes (the engine keeps that: alert repeats, learned issuers).
 */
#ifndef TLSENTRY_JUDGE_H
#define TLSENTRY_JUDGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../parser/cert.h"
#include "../parser/tls_hs.h"
#include "../parser/trust.h"
#include "rules.h"

/* The issuer rule's outcome (tlsentry.verdict). */
enum ev_verdict {
	EV_UNWATCHED,		/* no rule watches this name */
	EV_ISSUER_OK,		/* watched, and the leaf's issuer is an expected one */
	EV_UNEXPECTED_ISSUER,	/* watched, and it is not: an alert */
	EV_NOT_VISIBLE,		/* watched, but the certificate is encrypted (TLS 1.3, QUIC) */
	EV_NO_CERTIFICATE,	/* watched, but no certificate was seen (resumed, cut) */
	EV_WATCHED,		/* watched by a block with no issuer line (pins, versions...) */
};

#define JUDGE_DETAIL_MAX 200

struct judge_finding {
	enum rule_reason reason;
	bool alert;		/* raises an alert event */
	enum rule_severity severity;	/* of that alert */
	bool by_rule;		/* the watching block made it alert (else [defaults]) */
	char detail[JUDGE_DETAIL_MAX];	/* one phrase for messages */
};

struct judge_input {
	const struct tls_client_hello *ch;	/* may be NULL */
	const struct tls_server_hello *sh;	/* may be NULL */
	struct cert_info *const *chain;		/* server chain as sent, leaf first */
	size_t chain_len;
	bool cert_visible;	/* a server Certificate was read */
	bool cert_unreadable;	/* one was sent but could not be read */
	bool encrypted_certificate;	/* TLS 1.3 or QUIC: never visible */
	bool sni_usable;	/* the SNI is a host name */
	bool sh_has_sct;	/* the ServerHello carried signed_certificate_timestamp */
	bool ocsp_has_sct;	/* the stapled OCSP response carried SCTs */
	int64_t at_s;		/* capture time, seconds since the epoch */
	const char *ja3s;	/* the ServerHello's JA3S, or NULL */
	struct tofu *tofu;	/* --state: issuers remembered per domain, or NULL */
	const char *domain;	/* the registered domain (SNI's, else the leaf's), or NULL */
};

struct judgement {
	const struct rule *rule;	/* the block watching this name, or NULL */
	const char *rule_name_source;	/* "sni" or "certificate" */
	enum ev_verdict verdict;
	const struct rule_issuer *issuer_match;
	struct trust_verdict trust;	/* .checked false when not verified */
	enum trust_host host;
	struct judge_finding findings[R_N];
	unsigned n_findings;
	unsigned n_alerts;
	bool client_offered_more;	/* TLS <= 1.2 chosen, a higher version offered */
};

/* Judge one handshake.  rules and trust may be NULL (no rules, no store). */
void judge_handshake(const struct judge_input *in, const struct rules *rules, struct trust *trust,
    struct judgement *out);

/* The chain was verified and validated (no trust store: false). */
bool judge_chain_validated(const struct judgement *j);

const char *ev_verdict_str(enum ev_verdict v);

#endif /* TLSENTRY_JUDGE_H */
