/*
 * judge.c: findings for one handshake.
 *
 * Distrusts: every value of the handshake (they come off the wire); the
 * rules and the store are the operator's.  Owns: nothing; writes into the
 * caller's struct judgement.  Each check says what it saw in the finding's
 * detail, so an alert explains itself.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "../parser/tls_names.h"
#include "judge.h"
#include "learn.h"

/* RFC 8446 s4.1.3: the last 8 bytes of a ServerHello random from a TLS 1.3
 * server that negotiated TLS 1.2 (then 0x01) or below (0x00). */
static const uint8_t downgrd[7] = { 0x44, 0x4f, 0x57, 0x4e, 0x47, 0x52, 0x44 };

#define TLS_FALLBACK_SCSV 0x5600	/* RFC 7507 */
#define TLS_EXT_SCT 18			/* RFC 6962 s3.3.1: signed_certificate_timestamp */

static void add(struct judgement *j, enum rule_reason r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Note a finding once; the first detail stays. */
static void
add(struct judgement *j, enum rule_reason r, const char *fmt, ...)
{
	struct judge_finding *f;
	va_list ap;

	for (unsigned i = 0; i < j->n_findings; i++)
		if (j->findings[i].reason == r)
			return;
	f = &j->findings[j->n_findings++];
	memset(f, 0, sizeof(*f));
	f->reason = r;
	va_start(ap, fmt);
	vsnprintf(f->detail, sizeof(f->detail), fmt, ap);
	va_end(ap);
}

/* The first block watching the SNI, else the leaf's names. */
static void
find_rule(const struct judge_input *in, const struct rules *rs, struct judgement *j)
{
	const struct cert_info *leaf = in->chain_len > 0 ? in->chain[0] : NULL;
	const struct rule *best = NULL, *r;

	if (rules_count(rs) == 0)
		return;
	if (in->ch != NULL && in->sni_usable) {
		j->rule = rules_match(rs, in->ch->sni, in->ch->sni_len);
		j->rule_name_source = "sni";
		return;
	}
	if (leaf == NULL || !leaf->decoded)
		return;
	/* no usable SNI: the names the certificate claims say which domain it is */
	for (size_t i = 0; i < leaf->n_sans; i++) {
		if (leaf->sans[i].type != SAN_DNS)
			continue;
		r = rules_match_cert_name(rs, leaf->sans[i].value.p, leaf->sans[i].value.len);
		if (r != NULL && (best == NULL || r < best))
			best = r;
	}
	for (size_t i = 0; i < leaf->n_subject_attrs; i++) {
		if (strcmp(leaf->subject_attrs[i].name, "CN") != 0)
			continue;
		r = rules_match_cert_name(rs, leaf->subject_attrs[i].value.p,
		    leaf->subject_attrs[i].value.len);
		if (r != NULL && (best == NULL || r < best))
			best = r;
	}
	j->rule = best;
	j->rule_name_source = "certificate";
}

/* The foundation's issuer verdict, and the block's own certificate checks. */
static void
check_issuer_and_pins(const struct judge_input *in, struct judgement *j)
{
	const struct rule *r = j->rule;
	const struct cert_info *leaf = in->chain_len > 0 ? in->chain[0] : NULL;
	bool pinned = false;

	if (r == NULL) {
		j->verdict = EV_UNWATCHED;
		return;
	}
	if (leaf != NULL) {
		if (r->n_issuers == 0)
			j->verdict = EV_WATCHED;
		else if (leaf->decoded && rules_issuer_ok(r, leaf->issuer_attrs, leaf->n_issuer_attrs,
		    &j->issuer_match))
			j->verdict = EV_ISSUER_OK;
		else
			j->verdict = EV_UNEXPECTED_ISSUER;
	} else if (in->cert_unreadable) {	/* an issuer we cannot see is not an expected one */
		j->verdict = r->n_issuers > 0 ? EV_UNEXPECTED_ISSUER : EV_WATCHED;
	} else if (in->encrypted_certificate) {
		j->verdict = EV_NOT_VISIBLE;
	} else {
		j->verdict = EV_NO_CERTIFICATE;
	}
	if (j->verdict == EV_UNEXPECTED_ISSUER)
		add(j, R_UNEXPECTED_ISSUER, "issued by '%s'", leaf != NULL && leaf->decoded ?
		    leaf->issuer : "(unreadable)");
	if (r->n_pins > 0 && (leaf != NULL || in->cert_unreadable)) {
		for (size_t i = 0; i < in->chain_len && !pinned; i++)
			pinned = in->chain[i] != NULL && in->chain[i]->decoded &&
			    rules_pin_ok(r, in->chain[i]->spki_pin);
		if (!pinned)
			add(j, R_PIN_MISMATCH, "none of the %zu certificates' keys matches the %zu "
			    "pin%s of [%s]", in->chain_len, r->n_pins, r->n_pins == 1 ? "" : "s",
			    r->name);
	}
	if (!in->cert_visible && !in->cert_unreadable && in->encrypted_certificate)
		add(j, R_CERTIFICATE_NOT_VISIBLE, "the certificate is encrypted (%s)",
		    in->sh == NULL ? "QUIC" : "TLS 1.3");
}

/* Would a browser accept the chain, for this name, at that time? */
static void
check_chain(const struct judge_input *in, struct trust *trust, struct judgement *j)
{
	const struct cert_info *leaf = in->chain_len > 0 ? in->chain[0] : NULL;
	const struct trust_verdict *v = &j->trust;

	j->trust.status = "not-checked";
	j->trust.depth = -1;
	j->host = TRUST_HOST_NOT_CHECKED;
	if (leaf == NULL || !leaf->decoded)
		return;
	j->host = in->sni_usable ? trust_check_host(leaf, in->ch->sni, in->ch->sni_len) :
	    TRUST_HOST_NO_SNI;
	if (j->host == TRUST_HOST_MISMATCH)
		add(j, R_HOSTNAME_MISMATCH, "the certificate's names do not cover '%.*s'",
		    (int)(in->ch->sni_len < 100 ? in->ch->sni_len : 100), in->ch->sni);
	trust_verify(trust, in->chain, in->chain_len, in->at_s, &j->trust);
	if (!v->checked)
		return;
	if (v->errors & TRUST_E_SELF_SIGNED)
		add(j, R_SELF_SIGNED, "the leaf is self-signed (%s)", leaf->subject);
	if (v->errors & (TRUST_E_UNTRUSTED | TRUST_E_BAD_SIGNATURE | TRUST_E_OTHER))
		add(j, R_UNTRUSTED_CHAIN, "chain validation: %s at depth %d", v->status, v->depth);
	if (v->errors & TRUST_E_EXPIRED)
		add(j, R_EXPIRED, "a certificate of the chain had expired at capture time "
		    "(leaf valid until %s)", leaf->not_after);
	if (v->errors & TRUST_E_NOT_YET_VALID)
		add(j, R_NOT_YET_VALID, "a certificate of the chain was not yet valid at capture "
		    "time (leaf valid from %s)", leaf->not_before);
}

static bool
weak_key(const struct cert_info *ci)
{
	if (ci->key_bits <= 0)
		return false;
	if (strcmp(ci->key_alg, "RSA") == 0 || strcmp(ci->key_alg, "RSA-PSS") == 0 ||
	    strcmp(ci->key_alg, "DSA") == 0)
		return ci->key_bits < 2048;
	if (strcmp(ci->key_alg, "EC") == 0)
		return ci->key_bits < 224;
	return false;
}

static bool
weak_digest(const char *sig_alg)
{
	return strncasecmp(sig_alg, "sha1", 4) == 0 || strncasecmp(sig_alg, "md5", 3) == 0 ||
	    strncasecmp(sig_alg, "md2", 3) == 0 || strncasecmp(sig_alg, "md4", 3) == 0 ||
	    strstr(sig_alg, "SHA1") != NULL || strstr(sig_alg, "sha1") != NULL ||
	    strstr(sig_alg, "MD5") != NULL || strstr(sig_alg, "md5") != NULL;
}

/*
 * CA/Browser Forum Baseline Requirements s6.3.2: the longest validity a
 * publicly trusted leaf may have, by the date it was issued.
 */
static int64_t
max_validity_days(int64_t not_before)
{
	if (not_before >= 1598918400)		/* 2020-09-01 */
		return 398;
	if (not_before >= 1519862400)		/* 2018-03-01 */
		return 825;
	if (not_before >= 1427846400)		/* 2015-04-01 */
		return 1185;			/* 39 months */
	return 1826;				/* 60 months */
}

/* Keys, signatures, validity and Certificate Transparency. */
static void
check_hygiene(const struct judge_input *in, struct judgement *j)
{
	const struct cert_info *leaf = in->chain_len > 0 ? in->chain[0] : NULL;

	for (size_t i = 0; i < in->chain_len; i++) {
		const struct cert_info *ci = in->chain[i];
		if (!ci->decoded)
			continue;
		if (weak_key(ci))
			add(j, R_WEAK_KEY, "%s %d-bit key at depth %zu", ci->key_alg, ci->key_bits, i);
		if (!ci->self_issued && weak_digest(ci->sig_alg))	/* a root's own signature does not matter */
			add(j, R_WEAK_SIGNATURE, "%s signature at depth %zu", ci->sig_alg, i);
	}
	if (leaf == NULL || !leaf->decoded || !j->trust.public_root)
		return;
	if (leaf->not_before_s != INT64_MIN && leaf->not_after_s != INT64_MIN) {
		int64_t days = max_validity_days(leaf->not_before_s);
		if (leaf->not_after_s - leaf->not_before_s >= days * 86400)
			add(j, R_LONG_VALIDITY, "the leaf is valid for %lld days, over the %lld "
			    "publicly trusted certificates may have",
			    (long long)(leaf->not_after_s - leaf->not_before_s) / 86400 + 1,
			    (long long)days);
	}
	/* Chrome has required SCTs of certificates issued since 2018-04-30 */
	if (!leaf->has_scts && !in->sh_has_sct && !in->ocsp_has_sct &&
	    leaf->not_before_s >= 1525046400)
		add(j, R_MISSING_SCT, "no Certificate Transparency SCT in the certificate, the "
		    "ServerHello or a stapled OCSP response");
}

static bool
weak_cipher_name(const char *n)
{
	return strstr(n, "EXPORT") != NULL || strstr(n, "_NULL_") != NULL ||
	    strstr(n, "WITH_NULL") != NULL || strstr(n, "RC4") != NULL ||
	    strstr(n, "_anon_") != NULL || strstr(n, "_DES_CBC_") != NULL ||
	    strstr(n, "DES40") != NULL;
}

static uint16_t
highest_offered(const struct tls_client_hello *ch)
{
	uint16_t v = ch->legacy_version;

	for (unsigned i = 0; i < ch->n_versions; i++) {
		uint16_t x = ch->versions[i];
		if (!tls_is_grease(x) && !tls_version_is_dtls(x) && x <= 0x0304 && x > v)
			v = x;
	}
	return v;
}

/* Versions, ciphers and downgrades: what the ServerHello chose. */
static void
check_negotiation(const struct judge_input *in, struct judgement *j)
{
	const struct tls_server_hello *sh = in->sh;
	const char *name, *ver, *proto;
	uint16_t floor = j->rule != NULL && j->rule->min_version ? j->rule->min_version : 0x0303;

	if (in->ch != NULL) {
		for (uint16_t i = 0; i < in->ch->n_ciphers; i++) {
			if (in->ch->ciphers[i] == TLS_FALLBACK_SCSV)
				add(j, R_DOWNGRADE, "the ClientHello carries TLS_FALLBACK_SCSV: the client "
				    "retried with a lower version after a failed handshake");
		}
	}
	if (sh == NULL || sh->is_hrr || sh->is_sslv2 || tls_version_is_dtls(sh->version)) {
		if (sh != NULL && sh->is_sslv2)
			add(j, R_OBSOLETE_VERSION, "SSL 2.0 negotiated");
		return;
	}
	tls_version_names(sh->version, &ver, &proto);
	if (!tls_version_is_13(sh->version) && sh->version < floor)
		add(j, R_OBSOLETE_VERSION, "%s %s negotiated%s", proto != NULL &&
		    strcmp(proto, "ssl") == 0 ? "SSL" : "TLS", ver != NULL ? ver : "?",
		    j->rule != NULL && j->rule->min_version ? ", below the block's min-version" : "");
	name = tls_cipher_name(sh->cipher);
	if (name != NULL && weak_cipher_name(name))
		add(j, R_WEAK_CIPHER, "%s negotiated", name);
	/* the sentinel is what a TLS 1.3 server sends any client that did not
	 * offer 1.3: only a client that did offer it was downgraded */
	if (!tls_version_is_13(sh->version) && in->ch != NULL && highest_offered(in->ch) >= 0x0304 &&
	    memcmp(sh->random + 24, downgrd, sizeof(downgrd)) == 0 && sh->random[31] <= 1)
		add(j, R_DOWNGRADE, "the ServerHello random ends in the DOWNGRD sentinel: a TLS "
		    "1.3 server was made to negotiate %s", ver != NULL ? ver : "less");
	if (in->ch != NULL && !tls_version_is_13(sh->version) && highest_offered(in->ch) > sh->version) {
		const char *hv, *hp;
		j->client_offered_more = true;
		tls_version_names(highest_offered(in->ch), &hv, &hp);
		add(j, R_DOWNGRADE, "the client offered %s %s, the server chose %s",
		    hp != NULL && strcmp(hp, "ssl") == 0 ? "SSL" : "TLS", hv != NULL ? hv : "?",
		    ver != NULL ? ver : "less");
	}
}

/* Learned server fingerprints: the block's servers send one of these. */
static void
check_server_fingerprint(const struct judge_input *in, struct judgement *j)
{
	const struct rule *r = j->rule;

	if (r == NULL || r->n_ja3s == 0 || in->ja3s == NULL || in->cert_visible)
		return;
	for (size_t i = 0; i < r->n_ja3s; i++)
		if (strcmp(r->ja3s[i], in->ja3s) == 0)
			return;
	add(j, R_NEW_SERVER_FINGERPRINT, "ServerHello fingerprint %s is none of the %zu [%s] "
	    "learned", in->ja3s, r->n_ja3s, r->name);
}

bool
judge_chain_validated(const struct judgement *j)
{
	return j->trust.checked && j->trust.errors == 0 && strcmp(j->trust.status, "ok") == 0;
}

/*
 * --state: a domain seen before only with other issuers.  The issuer is
 * remembered when the chain validated, or when no store judges chains.
 */
static void
check_new_issuer(const struct judge_input *in, struct judgement *j)
{
	const struct cert_info *leaf = in->chain_len > 0 ? in->chain[0] : NULL;
	bool keep = !j->trust.checked || judge_chain_validated(j);

	if (in->tofu == NULL || in->domain == NULL || leaf == NULL || !leaf->decoded)
		return;
	if (tofu_observe(in->tofu, in->domain, leaf->issuer, keep, in->at_s))
		add(j, R_NEW_ISSUER, "%s was only ever seen with other issuers before; now '%s'",
		    in->domain, leaf->issuer);
}

/* Does this finding alert, and at what severity? */
static void
decide(const struct rules *rs, struct judgement *j, struct judge_finding *f)
{
	const struct rule *r = j->rule;
	unsigned bit = R_BIT(f->reason);
	bool by_rule = false;

	if (r != NULL) {
		switch (f->reason) {
		case R_UNEXPECTED_ISSUER:
		case R_PIN_MISMATCH:
		case R_DOWNGRADE:
		case R_NEW_ISSUER:
		case R_NEW_SERVER_FINGERPRINT:
			by_rule = true;
			break;
		case R_OBSOLETE_VERSION:
			by_rule = r->min_version != 0;
			break;
		case R_CERTIFICATE_NOT_VISIBLE:
			by_rule = r->require_visible;
			break;
		default:
			by_rule = r->require_trusted && (bit & RULES_TRUST_REASONS);
			break;
		}
		if (r->ignore & bit) {
			f->alert = false;
			return;
		}
	}
	f->by_rule = by_rule;
	/* new-issuer exists only when the operator keeps --state: it alerts */
	f->alert = by_rule || (rules_default_alerts(rs) & bit) || f->reason == R_NEW_ISSUER;
	f->severity = by_rule ? r->severity : rules_default_severity(rs);
}

void
judge_handshake(const struct judge_input *in, const struct rules *rules, struct trust *trust,
    struct judgement *out)
{
	memset(out, 0, sizeof(*out));
	find_rule(in, rules, out);
	check_issuer_and_pins(in, out);
	check_chain(in, trust, out);
	check_hygiene(in, out);
	check_negotiation(in, out);
	check_server_fingerprint(in, out);
	check_new_issuer(in, out);
	for (unsigned i = 0; i < out->n_findings; i++) {
		decide(rules, out, &out->findings[i]);
		if (out->findings[i].alert)
			out->n_alerts++;
	}
}

const char *
ev_verdict_str(enum ev_verdict v)
{
	switch (v) {
	case EV_UNWATCHED:		return "unwatched";
	case EV_ISSUER_OK:		return "issuer-ok";
	case EV_UNEXPECTED_ISSUER:	return "unexpected-issuer";
	case EV_NOT_VISIBLE:		return "not-visible";
	case EV_NO_CERTIFICATE:		return "no-certificate";
	case EV_WATCHED:		return "watched";
	}
	return "?";
}
