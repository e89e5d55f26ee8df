/*
 * engine.h: the packet path, end to end, as a library:
 *
 *   packet -> dec_packet() -> flow_get() -> reasm_push() -> tls_feed()
 *          -> tls_hs_*() -> cert_get() -> rules_match() -> ev_emit_*()
 *
 * One engine per run.  It owns the flow table, the certificate cache and the
 * memory budget; it borrows the rules and the event output.  Everything
 * below the packet source is shared by every kind of source.
 */
#ifndef TLSENTRY_ENGINE_H
#define TLSENTRY_ENGINE_H

#include <pthread.h>
#include <stdint.h>

#include <pcap/pcap.h>

#include "capture/decode.h"
#include "capture/flow.h"
#include "capture/reasm.h"
#include "output/event.h"
#include "parser/cert.h"
#include "parser/trust.h"
#include "rules/judge.h"
#include "output/evidence.h"
#include "rules/learn.h"
#include "rules/rules.h"

#ifndef ENGINE_MEMCAP
#define ENGINE_MEMCAP (128u << 20)	/* reassembly windows, message buffers, hellos
					   and certificates, all flows together */
#endif

#ifndef ENGINE_DEDUP_MAX
#define ENGINE_DEDUP_MAX 8192	/* recent handshakes remembered to drop duplicates */
#endif
#ifndef ENGINE_ALERT_INTERVAL
#define ENGINE_ALERT_INTERVAL 3600	/* seconds: the same finding alerts once per hour */
#endif
#ifndef ENGINE_ALERT_KEYS_MAX
#define ENGINE_ALERT_KEYS_MAX 16384	/* distinct findings remembered for that */
#endif
#ifndef ENGINE_DEDUP_S
#define ENGINE_DEDUP_S 300	/* ... for this long */
#endif

struct engine_cfg {
	bool live_clock;	/* live capture: flows age by engine_tick()'s
				   monotonic time, not by packet timestamps */
	size_t max_flows;	/* 0: FLOW_MAX */
	unsigned idle_s;	/* 0: FLOW_IDLE_S */
	size_t reasm_max;	/* 0: REASM_MAX */
	uint32_t hs_max;	/* 0: TLS_HS_MAX */
	size_t memcap;		/* 0: ENGINE_MEMCAP */
	size_t cert_cache_max;	/* 0: CERT_CACHE_MAX decoded certificates kept */
	size_t cert_cache_bytes;	/* 0: CERT_CACHE_BYTES */
	void *crypto_ctx;	/* OpenSSL library context certificates are decoded in
				   (cert_libctx_new; borrowed), or NULL: the default */
	struct trust *trust;	/* the CA store (borrowed), or NULL: no chain checks */
	struct learn *learn;	/* tlsentry learn: every handshake taught (borrowed) */
	struct tofu *tofu;	/* --state: issuers remembered per domain (borrowed) */
	struct evstore *cert_store;	/* --store-certs (borrowed), or NULL */
	struct evstore *evidence;	/* --evidence: alerting flows' packets (borrowed) */
	int64_t alert_interval_s;	/* one alert per finding per this many seconds of
					   capture time; 0: ENGINE_ALERT_INTERVAL; <0: every one */
	struct engine *shared_home;	/* --workers: the engine whose tables of findings
					   already alerted and of handshakes already
					   reported all engines share (borrowed), */
	pthread_mutex_t *shared_lock;	/* under this lock; NULL: this engine's own */
};

/* Why a flow's handshake could not be followed to its end. */
enum engine_giveup {
	GIVEUP_GAP,		/* bytes missing from the capture */
	GIVEUP_MALFORMED,	/* not valid TLS where TLS was expected */
	GIVEUP_LIMIT,		/* a message over the size cap */
	GIVEUP_MEMORY,		/* the memory budget was spent */
	GIVEUP_EVICTED,		/* the flow table was full */
	GIVEUP_N
};

/* Every field is 64 bits wide: --workers adds them up word by word. */
struct engine_stats {
	uint64_t n_packets;
	uint64_t n_bytes;	/* on the wire, as the capture headers say */
	uint64_t n_decode[DEC_N_STATUS];
	uint64_t n_tls_flows;	/* TCP flows in which a TLS handshake was found */
	uint64_t n_udp_flows;	/* UDP flows followed: they started like DTLS or QUIC */
	uint64_t n_udp_tls_flows;	/* of which carried a handshake that could be read */
	uint64_t n_udp_ignored;	/* UDP packets of no such flow (DNS, media, ...) */
	uint64_t n_quic_skipped;	/* QUIC datagrams not readable (other versions, keys unknown) */
	uint64_t n_non_tls;	/* TCP flows with payload but no handshake */
	uint64_t n_handshakes;	/* handshake events */
	uint64_t n_with_cert;	/* of which showed a server certificate */
	uint64_t n_hidden_cert;	/* TLS 1.3: certificate encrypted */
	uint64_t n_resumed;
	uint64_t n_certs;	/* certificates in server chains */
	uint64_t n_alerts;
	uint64_t n_alerts_repeated;	/* alerts not raised: the same finding alerted
					   less than --alert-interval before */
	uint64_t n_finding[R_N];	/* handshakes with each finding */
	uint64_t n_alert_reason[R_N];	/* alerts raised, by reason */
	uint64_t n_giveup[GIVEUP_N];
	uint64_t n_nomem;	/* sessions not tracked for lack of memory */
	uint64_t n_ctl_ignored;	/* RSTs and FINs outside the sender's window, not believed */
	uint64_t n_evidence_pcaps;	/* --evidence files written */
	uint64_t n_evidence_failed;	/* ... that could not be (see the store's stats) */
	uint64_t n_duplicates;	/* handshakes seen again (another interface, a
				   duplicated capture) and not reported twice */
	struct flow_stats flows;
	struct reasm_stats reasm;
	struct cert_stats certs;
	struct memcap mem;
};

struct engine;

struct engine *engine_new(const struct engine_cfg *cfg, const struct rules *rules,
    struct ev_out *out);

/* One captured frame of the given DLT_* link type. */
void engine_packet(struct engine *e, int linktype, const struct pcap_pkthdr *h,
    const uint8_t *p);

/*
 * Where the next packets come from: a capture file (ECS log.file.path) or,
 * with live_clock, an interface (observer.ingress.interface.name); NULL for
 * none.  Borrowed: it must live until engine_free().
 */
void engine_set_source(struct engine *e, const char *name);

/*
 * Time passes (live capture, with live_clock: now_us from a monotonic
 * clock): end the flows idle since before now_us - idle.  With files,
 * packet timestamps drive the clock and this is not needed.
 */
void engine_tick(struct engine *e, int64_t now_us);

/*
 * Capture time has reached ts_us (a packet of another engine: --workers
 * broadcasts the clock so every engine ends idle flows when one engine
 * reading every packet would).  Files only, not with live_clock.
 */
void engine_clock(struct engine *e, int64_t ts_us);

/* A packet's capture time in microseconds, as the engine reads it. */
int64_t engine_capture_time(const struct pcap_pkthdr *h);

/*
 * Judge handshakes with these rules from now on (a reload).  The old rules
 * are no longer referenced when this returns and may be freed.
 */
void engine_set_rules(struct engine *e, const struct rules *rules);

/* End every flow (the capture is over), emitting what is pending. */
void engine_finish(struct engine *e);

void engine_stats(const struct engine *e, struct engine_stats *out);

/* Finish (if not done) and free.  NULL is a no-op. */
void engine_free(struct engine *e);

const char *engine_giveup_str(enum engine_giveup g);

#endif /* TLSENTRY_ENGINE_H */
