/*
 * syslog.c: syslog outputs, one writer thread each, fed by a bounded queue.
 *
 * Distrusts: the collector (its certificate is verified for tls://, and
 * nothing it sends is believed but EOF).  Owns: each output's queue of
 * framed messages, its socket, TLS session or RELP client, and its thread.
 * The queue is the only thing the capture thread and the writer share; it
 * is guarded by mu.  Everything below "writer" runs on the writer thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <linux/sockios.h>
#include <netinet/in.h>

/* before <openssl/ssl.h>, whose SSL2_MT_* macros would clash with tls_hs.h's names */
#include "format.h"
#include "log.h"
#include "syslog.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <librelp.h>
#include <dlfcn.h>

enum transport { TR_UDP, TR_TCP, TR_TLS, TR_UNIX, TR_RELP };

/* A framed message: room for the octet count before it and a newline after. */
#define FRAME_HEAD 12

struct qmsg {
	struct qmsg *prev, *next;
	enum ev_kind kind;
	size_t len;		/* of the RFC 5424 message */
	size_t hdr_len;		/* of its header and structured data */
	char buf[];		/* FRAME_HEAD bytes, the message, one spare byte */
};

struct inflight {
	uint64_t end;		/* bytes written to the socket once it was sent */
	enum ev_kind kind;
};

struct syslog_out {
	char name[320];		/* the URL as given */
	struct syslog_opts o;
	long pid;
	struct sockaddr_storage addr;
	socklen_t addr_len;
	enum transport tr;
	char host[256], port[16];
	char addr_text[INET6_ADDRSTRLEN];	/* numeric, for librelp */
	char hostname[256];	/* ours, for the header */

	SSL_CTX *ssl_ctx;
	relpEngine_t *relp_engine;

	/* shared with the capture thread, under mu */
	pthread_mutex_t mu;
	pthread_cond_t cv;	/* to the writer: a message, or stop */
	pthread_cond_t done_cv;	/* to the finisher: the writer ended */
	struct qmsg *head, *tail;
	size_t n_queued, bytes_queued, n_droppable;
	struct ev_output_stats st;
	struct ev_buf hdr;	/* capture thread: the header being built */
	uint32_t seq;		/* RFC 5424 meta sequenceId of the last message */
	bool draining, finished, running;
	atomic_bool abort_now;

	pthread_t thread;

	/* writer thread only */
	SSL *ssl;
	relpClt_t *relp;
	uint64_t written;	/* bytes to this connection's socket */
	int64_t next_try_ms;	/* monotonic: no connection attempt before this */
	struct inflight fl[SYSLOG_INFLIGHT_MAX];
	size_t fl_head, fl_n;
	struct ev_buf cut;	/* a UDP message cut to size */
	int fd;
	int sock_type;		/* unix: SOCK_DGRAM or SOCK_STREAM */
	int last_errno;		/* of the last failed socket() or connect() */
	unsigned backoff_ms;
	bool connected, relp_broken;
	bool down_logged;	/* said once that it is unreachable */
	bool thread_started;	/* the finisher's: set by syslog_start */
	char relp_err[256];
};

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- configuration (start-up, before the privilege drop) ----------------------- */

int
syslog_facility(const char *name)
{
	static const char *const names[] = {
		"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp",
		"cron", "authpriv", "ftp", "ntp", "audit", "alert", "clock", "local0",
		"local1", "local2", "local3", "local4", "local5", "local6", "local7",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i]) == 0)
			return (int)i;
	return -1;
}

int
syslog_parse_url(const char *url, char *scheme, size_t scheme_sz, char *host, size_t host_sz,
    char *port, size_t port_sz, char *err, size_t errsz)
{
	const char *sep = strstr(url, "://"), *h, *end, *colon;
	size_t n;

	scheme[0] = host[0] = port[0] = '\0';
	if (sep == NULL || (size_t)(sep - url) >= scheme_sz) {
		snprintf(err, errsz, "'%s': not a URL (use udp://, tcp://, tls://, relp://HOST:PORT "
		    "or unix:///PATH)", url);
		return -1;
	}
	memcpy(scheme, url, (size_t)(sep - url));
	scheme[sep - url] = '\0';
	h = sep + 3;
	if (strcmp(scheme, "unix") == 0) {
		if (h[0] != '/' || strlen(h) >= host_sz ||
		    strlen(h) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
			snprintf(err, errsz, "'%s': a unix socket needs an absolute path of at most "
			    "107 bytes (unix:///dev/log)", url);
			return -1;
		}
		snprintf(host, host_sz, "%s", h);
		return 0;
	}
	if (h[0] == '[') {			/* [IPv6]:port */
		end = strchr(h, ']');
		if (end == NULL) {
			snprintf(err, errsz, "'%s': missing ']'", url);
			return -1;
		}
		n = (size_t)(end - h - 1);
		colon = end[1] == ':' ? end + 1 : NULL;
		if (end[1] != '\0' && colon == NULL) {
			snprintf(err, errsz, "'%s': junk after ']'", url);
			return -1;
		}
		h++;
	} else {
		colon = strrchr(h, ':');
		n = colon != NULL ? (size_t)(colon - h) : strlen(h);
	}
	if (n == 0 || n >= host_sz) {
		snprintf(err, errsz, "'%s': no host", url);
		return -1;
	}
	memcpy(host, h, n);
	host[n] = '\0';
	if (colon != NULL) {
		char *e;
		long p = strtol(colon + 1, &e, 10);
		if (colon[1] == '\0' || *e != '\0' || p < 1 || p > 65535) {
			snprintf(err, errsz, "'%s': bad port", url);
			return -1;
		}
		snprintf(port, port_sz, "%ld", p);
	}
	return 0;
}

/*
 * librelp, loaded when a relp:// output is opened: it brings GnuTLS and
 * p11-kit, some 3 MB of resident memory that a sensor without RELP should
 * not carry.  Loaded before the privilege drop and the system-call filter;
 * never unloaded.
 */
#define RELP_SONAME "librelp.so.0"

static struct {
	bool loaded;
	__typeof__(relpCltConnect) *CltConnect;
	__typeof__(relpCltReconnect) *CltReconnect;
	__typeof__(relpCltSendSyslog) *CltSendSyslog;
	__typeof__(relpCltSetConnTimeout) *CltSetConnTimeout;
	__typeof__(relpCltSetTimeout) *CltSetTimeout;
	__typeof__(relpCltSetUsrPtr) *CltSetUsrPtr;
	__typeof__(relpEngineCltConstruct) *EngineCltConstruct;
	__typeof__(relpEngineCltDestruct) *EngineCltDestruct;
	__typeof__(relpEngineConstruct) *EngineConstruct;
	__typeof__(relpEngineDestruct) *EngineDestruct;
	__typeof__(relpEngineSetDbgprint) *EngineSetDbgprint;
	__typeof__(relpEngineSetEnableCmd) *EngineSetEnableCmd;
	__typeof__(relpEngineSetOnErr) *EngineSetOnErr;
} relp_api;

static bool
relp_load(char *err, size_t errsz)
{
	void *h;

	if (relp_api.loaded)
		return true;
	h = dlopen(RELP_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		snprintf(err, errsz, "relp:// needs %s (Debian: librelp0): %s", RELP_SONAME, dlerror());
		return false;
	}
#define RELP_SYM(name) do {						\
	*(void **)&relp_api.name = dlsym(h, "relp" #name);		\
	if (relp_api.name == NULL) {					\
		snprintf(err, errsz, "%s has no relp%s", RELP_SONAME, #name);	\
		return false;						\
	}								\
} while (0)
	RELP_SYM(CltConnect);
	RELP_SYM(CltReconnect);
	RELP_SYM(CltSendSyslog);
	RELP_SYM(CltSetConnTimeout);
	RELP_SYM(CltSetTimeout);
	RELP_SYM(CltSetUsrPtr);
	RELP_SYM(EngineCltConstruct);
	RELP_SYM(EngineCltDestruct);
	RELP_SYM(EngineConstruct);
	RELP_SYM(EngineDestruct);
	RELP_SYM(EngineSetDbgprint);
	RELP_SYM(EngineSetEnableCmd);
	RELP_SYM(EngineSetOnErr);
#undef RELP_SYM
	relp_api.loaded = true;
	return true;
}

static void
relp_on_err(void *usr, char *objinfo, char *errmsg, relpRetVal code)
{
	struct syslog_out *s = usr;

	if (s != NULL)
		snprintf(s->relp_err, sizeof(s->relp_err), "%s (RELP error %d)",
		    errmsg != NULL ? errmsg : "?", (int)code);
}

struct syslog_out *
syslog_open(const char *url, const struct syslog_opts *o, char *err, size_t errsz)
{
	static const struct { const char *scheme, *port; enum transport tr; } schemes[] = {
		{ "udp", "514", TR_UDP }, { "tcp", "514", TR_TCP }, { "tls", "6514", TR_TLS },
		{ "relp", "2514", TR_RELP }, { "unix", "", TR_UNIX },
	};
	struct syslog_out *s = NULL;
	struct addrinfo hints, *res = NULL;
	char scheme[16];
	size_t i;
	int rc;

	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	s->fd = -1;
	s->o = *o;
	if (s->o.queue_max == 0)
		s->o.queue_max = SYSLOG_QUEUE_MAX;
	if (s->o.udp_max == 0)
		s->o.udp_max = SYSLOG_UDP_MAX;
	snprintf(s->name, sizeof(s->name), "%s", url);
	s->st.name = s->name;
	s->st.format = ev_format_str(o->fmt);
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	pthread_cond_init(&s->done_cv, NULL);
	atomic_init(&s->abort_now, false);
	if (syslog_parse_url(url, scheme, sizeof(scheme), s->host, sizeof(s->host), s->port,
	    sizeof(s->port), err, errsz) != 0)
		goto fail;
	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (strcmp(scheme, schemes[i].scheme) == 0)
			break;
	if (i == sizeof(schemes) / sizeof(schemes[0])) {
		snprintf(err, errsz, "'%s': unknown transport '%s' (udp, tcp, tls, relp, unix)",
		    url, scheme);
		goto fail;
	}
	s->tr = schemes[i].tr;
	if (s->port[0] == '\0')
		snprintf(s->port, sizeof(s->port), "%s", schemes[i].port);
	if (gethostname(s->hostname, sizeof(s->hostname) - 1) != 0)
		snprintf(s->hostname, sizeof(s->hostname), "-");
	s->pid = (long)getpid();

	if (s->tr == TR_UNIX) {
		struct sockaddr_un *sun = (struct sockaddr_un *)&s->addr;
		sun->sun_family = AF_UNIX;
		memcpy(sun->sun_path, s->host, strlen(s->host) + 1);	/* checked: < 108 */
		s->addr_len = (socklen_t)sizeof(*sun);
		return s;
	}
	/* resolved once, now: after the filter there is no DNS */
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = s->tr == TR_UDP ? SOCK_DGRAM : SOCK_STREAM;
	rc = getaddrinfo(s->host, s->port, &hints, &res);
	if (rc != 0 || res == NULL) {
		snprintf(err, errsz, "%s: cannot resolve '%s': %s", url, s->host, gai_strerror(rc));
		goto fail;
	}
	memcpy(&s->addr, res->ai_addr, res->ai_addrlen);
	s->addr_len = res->ai_addrlen;
	rc = getnameinfo(res->ai_addr, res->ai_addrlen, s->addr_text, sizeof(s->addr_text), NULL,
	    0, NI_NUMERICHOST);
	freeaddrinfo(res);
	if (rc != 0) {
		snprintf(err, errsz, "%s: cannot print the address of '%s'", url, s->host);
		goto fail;
	}

	if (s->tr == TR_TLS) {
		s->ssl_ctx = SSL_CTX_new(TLS_client_method());
		if (s->ssl_ctx == NULL ||
		    SSL_CTX_set_min_proto_version(s->ssl_ctx, TLS1_2_VERSION) != 1) {
			snprintf(err, errsz, "%s: cannot set up TLS", url);
			goto fail;
		}
		if (o->ca_file != NULL ? SSL_CTX_load_verify_locations(s->ssl_ctx, o->ca_file,
		    NULL) != 1 : SSL_CTX_set_default_verify_paths(s->ssl_ctx) != 1) {
			snprintf(err, errsz, "%s: cannot load the CA certificates%s%s: %s", url,
			    o->ca_file ? " from " : "", o->ca_file ? o->ca_file : "",
			    ERR_reason_error_string(ERR_get_error()));
			goto fail;
		}
		SSL_CTX_set_verify(s->ssl_ctx, SSL_VERIFY_PEER, NULL);
		SSL_CTX_set_mode(s->ssl_ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	}
	if (s->tr == TR_RELP) {
		if (!relp_load(err, errsz))
			goto fail;
		if (relp_api.EngineConstruct(&s->relp_engine) != RELP_RET_OK ||
		    relp_api.EngineSetDbgprint(s->relp_engine, NULL) != RELP_RET_OK ||
		    relp_api.EngineSetEnableCmd(s->relp_engine, (unsigned char *)"syslog",
		    eRelpCmdState_Required) != RELP_RET_OK ||
		    relp_api.EngineSetOnErr(s->relp_engine, relp_on_err) != RELP_RET_OK) {
			snprintf(err, errsz, "%s: cannot set up librelp", url);
			goto fail;
		}
	}
	return s;
fail:
	syslog_free(s);
	return NULL;
}

/* --- the queue (capture thread and writer) ---------------------------------------- */

static void
q_unlink(struct syslog_out *s, struct qmsg *q)
{
	/* by head and tail, not prev and next, so the analyzer sees q leave both */
	if (s->head == q)
		s->head = q->next;
	else if (q->prev != NULL)
		q->prev->next = q->next;
	if (s->tail == q)
		s->tail = q->prev;
	else if (q->next != NULL)
		q->next->prev = q->prev;
	q->prev = q->next = NULL;
	s->n_queued--;
	s->bytes_queued -= q->len;
	if (q->kind != EV_KIND_ALERT)
		s->n_droppable--;
}

static void
q_push_back(struct syslog_out *s, struct qmsg *q)
{
	q->prev = s->tail;
	q->next = NULL;
	if (s->tail != NULL)
		s->tail->next = q;
	else
		s->head = q;
	s->tail = q;
	s->n_queued++;
	s->bytes_queued += q->len;
	if (q->kind != EV_KIND_ALERT)
		s->n_droppable++;
}

static void
q_push_front(struct syslog_out *s, struct qmsg *q)
{
	q->next = s->head;
	q->prev = NULL;
	if (s->head != NULL)
		s->head->prev = q;
	else
		s->tail = q;
	s->head = q;
	s->n_queued++;
	s->bytes_queued += q->len;
	if (q->kind != EV_KIND_ALERT)
		s->n_droppable++;
}

static bool
q_full(const struct syslog_out *s, size_t len)
{
	return s->n_queued >= s->o.queue_max || s->bytes_queued + len > SYSLOG_QUEUE_BYTES;
}

/*
 * Make room for q, under mu.  An alert pushes out the oldest handshakes and
 * metrics; anything else waits its turn or is dropped itself.  True if q
 * may be queued.
 */
static bool
q_make_room(struct syslog_out *s, const struct qmsg *q)
{
	struct qmsg *victim = s->head, *next;

	/* one pass from the oldest: the list is never reread after a free */
	while (q_full(s, q->len)) {
		if (q->kind != EV_KIND_ALERT || s->n_droppable == 0)
			return false;
		while (victim != NULL && victim->kind == EV_KIND_ALERT)
			victim = victim->next;
		if (victim == NULL)
			return false;
		next = victim->next;
		q_unlink(s, victim);
		s->st.dropped[victim->kind]++;
		free(victim);
		victim = next;
	}
	return true;
}

static const char *
msgid(enum ev_kind k)
{
	return k == EV_KIND_ALERT ? "ALERT" : k == EV_KIND_METRIC ? "METRIC" : "HANDSHAKE";
}

void
syslog_deliver(void *ctx, struct ev_msg *m)
{
	struct syslog_out *s = ctx;
	struct qmsg *q;
	struct timespec now;
	size_t len = 0, body_len;
	const char *body = ev_render(m, s->o.fmt, &body_len);
	uint32_t seq;

	pthread_mutex_lock(&s->mu);
	s->seq = s->seq >= 2147483647u ? 1 : s->seq + 1;	/* RFC 5424 s7.3.1 */
	seq = s->seq;
	pthread_mutex_unlock(&s->mu);
	clock_gettime(CLOCK_REALTIME, &now);
	ev_buf_reset(&s->hdr);
	fmt_rfc5424_header(&s->hdr, s->o.facility * 8 + m->severity,
	    (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000, s->hostname, "tlsentry", s->pid,
	    msgid(m->kind), seq);
	q = NULL;
	if (body != NULL && !s->hdr.failed) {
		len = s->hdr.len + body_len;
		q = malloc(sizeof(*q) + FRAME_HEAD + len + 1);
	}
	pthread_mutex_lock(&s->mu);
	if (q == NULL) {		/* over JSON_MAX, or no memory */
		s->st.dropped[m->kind]++;
		pthread_mutex_unlock(&s->mu);
		return;
	}
	q->kind = m->kind;
	q->len = len;
	q->hdr_len = s->hdr.len;
	memcpy(q->buf + FRAME_HEAD, s->hdr.p, s->hdr.len);
	memcpy(q->buf + FRAME_HEAD + s->hdr.len, body, body_len);
	if (!q_make_room(s, q)) {
		s->st.dropped[m->kind]++;
		pthread_mutex_unlock(&s->mu);
		free(q);
		return;
	}
	q_push_back(s, q);
	s->st.enqueued++;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

void
syslog_stats(struct syslog_out *s, struct ev_output_stats *st)
{
	pthread_mutex_lock(&s->mu);
	*st = s->st;
	st->queued = s->n_queued;
	pthread_mutex_unlock(&s->mu);
}

/* --- writer: connections ------------------------------------------------------------- */

/* Wait for fd to be ready (POLLIN or POLLOUT) up to ms; false on timeout or abort. */
static bool
wait_fd(struct syslog_out *s, short events, int64_t deadline_ms)
{
	struct pollfd p = { .fd = s->fd, .events = events };

	for (;;) {
		int64_t left = deadline_ms - mono_ms();
		if (left <= 0 || atomic_load(&s->abort_now))
			return false;
		int n = poll(&p, 1, left > 500 ? 500 : (int)left);
		if (n > 0)
			return true;
		if (n < 0 && errno != EINTR)
			return false;
	}
}

static void
fl_clear(struct syslog_out *s)
{
	s->fl_head = s->fl_n = 0;
	s->written = 0;
}

/* Forget what the peer's TCP has acknowledged (SIOCOUTQ: bytes not yet acked). */
static void
fl_update(struct syslog_out *s)
{
	int unacked = 0;
	uint64_t acked, total;

	if (s->fl_n == 0 || ioctl(s->fd, SIOCOUTQ, &unacked) != 0 || unacked < 0)
		return;
	total = s->tr == TR_TLS ? (uint64_t)BIO_number_written(SSL_get_wbio(s->ssl)) : s->written;
	acked = total - ((uint64_t)unacked < total ? (uint64_t)unacked : total);
	while (s->fl_n > 0 && s->fl[s->fl_head].end <= acked) {
		s->fl_head = (s->fl_head + 1) % SYSLOG_INFLIGHT_MAX;
		s->fl_n--;
	}
}

static void
fl_add(struct syslog_out *s, enum ev_kind kind)
{
	uint64_t end = s->tr == TR_TLS ? (uint64_t)BIO_number_written(SSL_get_wbio(s->ssl)) :
	    s->written;

	if (s->fl_n == SYSLOG_INFLIGHT_MAX) {	/* the oldest is surely acknowledged */
		s->fl_head = (s->fl_head + 1) % SYSLOG_INFLIGHT_MAX;
		s->fl_n--;
	}
	s->fl[(s->fl_head + s->fl_n) % SYSLOG_INFLIGHT_MAX] = (struct inflight){ end, kind };
	s->fl_n++;
}

static void
disconnect(struct syslog_out *s, bool broken, const char *why)
{
	if (s->tr == TR_RELP) {
		if (broken)
			s->relp_broken = true;	/* keep the client: its window is resent */
		else if (s->relp != NULL)
			relp_api.EngineCltDestruct(s->relp_engine, &s->relp);
		s->connected = false;
		if (broken) {
			pthread_mutex_lock(&s->mu);
			s->st.disconnects++;
			pthread_mutex_unlock(&s->mu);
			log_error("syslog %s: connection lost (%s); queueing, reconnecting", s->name, why);
		}
		return;
	}
	if (broken && s->connected) {
		pthread_mutex_lock(&s->mu);
		for (size_t i = 0; i < s->fl_n; i++)
			s->st.unconfirmed[s->fl[(s->fl_head + i) % SYSLOG_INFLIGHT_MAX].kind]++;
		s->st.disconnects++;
		pthread_mutex_unlock(&s->mu);
		log_error("syslog %s: connection lost (%s); %zu sent %s not acknowledged by the "
		    "collector's TCP and may be lost; queueing, reconnecting", s->name, why, s->fl_n,
		    s->fl_n == 1 ? "message was" : "messages were");
	}
	fl_clear(s);
	if (s->ssl != NULL) {
		if (!broken)
			(void)SSL_shutdown(s->ssl);
		SSL_free(s->ssl);
		s->ssl = NULL;
	}
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->connected = false;
}

/* A non-blocking socket to the collector, connected within the timeout. */
static int
open_socket(struct syslog_out *s, int type, char *why, size_t whysz)
{
	int64_t deadline = mono_ms() + SYSLOG_CONNECT_TIMEOUT_MS;
	int soerr = 0;
	socklen_t sl = sizeof(soerr);

	s->fd = socket(s->addr.ss_family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s->fd < 0) {
		s->last_errno = errno;
		snprintf(why, whysz, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(s->fd, (struct sockaddr *)&s->addr, s->addr_len) == 0)
		return 0;
	s->last_errno = errno;
	if (errno != EINPROGRESS && errno != EAGAIN) {
		snprintf(why, whysz, "%s", strerror(errno));
		goto fail;
	}
	if (!wait_fd(s, POLLOUT, deadline)) {
		snprintf(why, whysz, "connect timed out");
		goto fail;
	}
	if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr != 0) {
		snprintf(why, whysz, "%s", strerror(soerr ? soerr : errno));
		goto fail;
	}
	return 0;
fail:
	close(s->fd);
	s->fd = -1;
	return -1;
}

static bool
host_is_ip(const char *h)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, h, buf) == 1 || inet_pton(AF_INET6, h, buf) == 1;
}

/* RFC 5425 s5.2: the collector's certificate must chain to the CA and name HOST. */
static int
tls_connect(struct syslog_out *s, char *why, size_t whysz)
{
	int64_t deadline = mono_ms() + SYSLOG_CONNECT_TIMEOUT_MS;
	int rc, e;

	s->ssl = SSL_new(s->ssl_ctx);
	if (s->ssl == NULL || SSL_set_fd(s->ssl, s->fd) != 1) {
		snprintf(why, whysz, "cannot start TLS");
		return -1;
	}
	if (host_is_ip(s->host)) {
		if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(s->ssl), s->host) != 1) {
			snprintf(why, whysz, "cannot verify by address %s", s->host);
			return -1;
		}
	} else if (SSL_set_tlsext_host_name(s->ssl, s->host) != 1 ||
	    SSL_set1_host(s->ssl, s->host) != 1) {
		snprintf(why, whysz, "cannot verify by name %s", s->host);
		return -1;
	}
	for (;;) {
		ERR_clear_error();
		rc = SSL_connect(s->ssl);
		if (rc == 1)
			return 0;
		e = SSL_get_error(s->ssl, rc);
		if ((e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) &&
		    wait_fd(s, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline))
			continue;
		break;
	}
	if (SSL_get_verify_result(s->ssl) != X509_V_OK)
		snprintf(why, whysz, "TLS: the collector's certificate is not accepted: %s",
		    X509_verify_cert_error_string(SSL_get_verify_result(s->ssl)));
	else
		snprintf(why, whysz, "TLS handshake failed: %s",
		    ERR_peek_error() ? ERR_reason_error_string(ERR_peek_error()) :
		    "timed out or closed");
	return -1;
}

static int
relp_connect(struct syslog_out *s, char *why, size_t whysz)
{
	relpRetVal rc;

	s->relp_err[0] = '\0';
	if (s->relp != NULL && s->relp_broken) {
		rc = relp_api.CltReconnect(s->relp);	/* resends what was not acknowledged */
	} else {
		if (s->relp == NULL && (relp_api.EngineCltConstruct(s->relp_engine, &s->relp) !=
		    RELP_RET_OK || relp_api.CltSetUsrPtr(s->relp, s) != RELP_RET_OK)) {
			snprintf(why, whysz, "cannot make a RELP client");
			return -1;
		}
		(void)relp_api.CltSetTimeout(s->relp, 5);
		(void)relp_api.CltSetConnTimeout(s->relp, SYSLOG_CONNECT_TIMEOUT_MS / 1000);
		rc = relp_api.CltConnect(s->relp, s->addr.ss_family, (unsigned char *)s->port,
		    (unsigned char *)s->addr_text);
	}
	if (rc != RELP_RET_OK) {
		snprintf(why, whysz, "%s", s->relp_err[0] ? s->relp_err : "RELP connect failed");
		if (!s->relp_broken) {		/* a fresh client that never got through */
			relp_api.EngineCltDestruct(s->relp_engine, &s->relp);
		}
		return -1;
	}
	s->relp_broken = false;
	return 0;
}

static int
do_connect(struct syslog_out *s, char *why, size_t whysz)
{
	int type = s->tr == TR_UDP ? SOCK_DGRAM : SOCK_STREAM;

	if (s->tr == TR_RELP)
		return relp_connect(s, why, whysz);
	if (s->tr == TR_UNIX) {
		type = SOCK_DGRAM;
		if (open_socket(s, type, why, whysz) != 0) {
			if (s->last_errno != EPROTOTYPE)
				return -1;
			type = SOCK_STREAM;	/* a stream socket: one message per line */
			if (open_socket(s, type, why, whysz) != 0)
				return -1;
		}
		s->sock_type = type;
		return 0;
	}
	if (open_socket(s, type, why, whysz) != 0)
		return -1;
	if (s->tr == TR_TLS && tls_connect(s, why, whysz) != 0) {
		disconnect(s, false, NULL);
		return -1;
	}
	return 0;
}

/*
 * Is the stream still there?  A collector never sends (but TLS records
 * like session tickets); EOF or an error means it is gone.
 */
static bool
still_connected(struct syslog_out *s)
{
	char buf[512];
	ssize_t n;

	if (s->tr == TR_UDP || s->tr == TR_RELP || (s->tr == TR_UNIX && s->sock_type == SOCK_DGRAM))
		return true;
	if (s->tr == TR_TLS) {
		for (;;) {
			ERR_clear_error();
			int rc = SSL_read(s->ssl, buf, sizeof(buf));
			if (rc > 0)
				continue;
			int e = SSL_get_error(s->ssl, rc);
			return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE;
		}
	}
	for (;;) {
		n = recv(s->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n > 0)
			continue;
		return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
	}
}

/* --- writer: sending ------------------------------------------------------------------ */

/* Write all of p; false if the connection is broken (why says how). */
static bool
write_all(struct syslog_out *s, const char *p, size_t len, char *why, size_t whysz)
{
	int64_t deadline = mono_ms() + SYSLOG_WRITE_TIMEOUT_MS;
	size_t off = 0;

	while (off < len) {
		if (s->tr == TR_TLS) {
			ERR_clear_error();
			int n = SSL_write(s->ssl, p + off, (int)(len - off));
			if (n > 0) {
				off += (size_t)n;
				continue;
			}
			int e = SSL_get_error(s->ssl, n);
			if ((e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) &&
			    wait_fd(s, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline))
				continue;
			snprintf(why, whysz, "TLS write failed");
			return false;
		}
		ssize_t n = send(s->fd, p + off, len - off, MSG_NOSIGNAL);
		if (n > 0) {
			off += (size_t)n;
			s->written += (uint64_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) &&
		    wait_fd(s, POLLOUT, deadline))
			continue;
		if (n < 0 && errno == EINTR)
			continue;
		snprintf(why, whysz, "%s", n < 0 ? strerror(errno) : "nothing written");
		return false;
	}
	return true;
}

/*
 * Send one message.  0: sent; 1: given up for good (a datagram refused);
 * -1: the connection is broken and the message was not sent.
 */
static int
send_one(struct syslog_out *s, struct qmsg *q, char *why, size_t whysz)
{
	char *msg = q->buf + FRAME_HEAD;
	char count[FRAME_HEAD];
	int n;

	switch (s->tr) {
	case TR_UDP:
		if (fmt_syslog_cut(msg, q->len, q->hdr_len, s->o.udp_max, &s->cut)) {
			pthread_mutex_lock(&s->mu);
			s->st.truncated++;
			pthread_mutex_unlock(&s->mu);
		}
		if (s->cut.failed)
			return 1;
		for (int attempt = 0; attempt < 2; attempt++) {
			if (send(s->fd, s->cut.p, s->cut.len, MSG_NOSIGNAL) >= 0)
				return 0;
			if (errno != ECONNREFUSED)	/* a port unreachable from an earlier one */
				break;
		}
		snprintf(why, whysz, "%s", strerror(errno));
		return 1;
	case TR_RELP: {
		relpRetVal rc = relp_api.CltSendSyslog(s->relp, (unsigned char *)msg, q->len);
		if (rc == RELP_RET_OK)
			return 0;
		snprintf(why, whysz, "%s", s->relp_err[0] ? s->relp_err : "RELP send failed");
		return -1;
	}
	case TR_UNIX:
		if (s->sock_type == SOCK_DGRAM) {
			if (send(s->fd, msg, q->len, MSG_NOSIGNAL) >= 0)
				return 0;
			snprintf(why, whysz, "%s", strerror(errno));
			return errno == EMSGSIZE ? 1 : -1;
		}
		msg[q->len] = '\n';		/* non-transparent framing, RFC 6587 s3.4.2 */
		if (!write_all(s, msg, q->len + 1, why, whysz))
			return -1;
		fl_add(s, q->kind);
		return 0;
	case TR_TCP:
	case TR_TLS:
		n = fmt_octet_count(count, sizeof(count), q->len);
		memcpy(msg - n, count, (size_t)n);	/* RFC 6587 s3.4.1: "LEN SP MSG" */
		if (!write_all(s, msg - n, q->len + (size_t)n, why, whysz))
			return -1;
		fl_add(s, q->kind);
		return 0;
	}
	return 1;
}

/* Wait on cv for ms (or until signalled), under mu. */
static void
timed_wait(struct syslog_out *s, unsigned ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_cond_timedwait(&s->cv, &s->mu, &ts);
}

static void *
writer(void *arg)
{
	struct syslog_out *s = arg;
	char why[320] = "";
	struct qmsg *q;
	int rc;

	pthread_mutex_lock(&s->mu);
	s->running = true;		/* syslog_start() waits for this */
	pthread_cond_broadcast(&s->done_cv);
	for (;;) {
		if (atomic_load(&s->abort_now))
			break;
		if (s->head == NULL) {
			if (s->draining)
				break;
			if (!s->connected) {
				pthread_cond_wait(&s->cv, &s->mu);
				continue;
			}
			timed_wait(s, 250);
			if (s->head != NULL || s->draining)
				continue;
			/* idle: notice acknowledgements and a collector that went away */
			pthread_mutex_unlock(&s->mu);
			if (s->connected) {
				fl_update(s);
				if (!still_connected(s))
					disconnect(s, true, "closed by the collector");
			}
			pthread_mutex_lock(&s->mu);
			continue;
		}
		if (!s->connected) {
			/* new messages wake the writer; they do not cut the backoff short */
			int64_t wait_ms = s->next_try_ms - mono_ms();
			if (wait_ms > 0) {
				timed_wait(s, (unsigned)wait_ms);
				continue;
			}
			pthread_mutex_unlock(&s->mu);
			rc = do_connect(s, why, sizeof(why));
			pthread_mutex_lock(&s->mu);
			if (rc != 0) {
				s->st.connect_failures++;
				if (!s->down_logged)
					log_error("syslog %s: cannot connect: %s; queueing, retrying",
					    s->name, why);
				s->down_logged = true;
				s->backoff_ms = s->backoff_ms == 0 ? SYSLOG_BACKOFF_MIN_MS :
				    s->backoff_ms * 2 > SYSLOG_BACKOFF_MAX_MS ? SYSLOG_BACKOFF_MAX_MS :
				    s->backoff_ms * 2;
				s->next_try_ms = mono_ms() + s->backoff_ms;
				continue;
			}
			s->connected = true;
			s->st.connects++;
			if (s->down_logged)
				log_info("syslog %s: connected; sending %zu queued %s", s->name,
				    s->n_queued, s->n_queued == 1 ? "message" : "messages");
			s->down_logged = false;
			s->backoff_ms = 0;
		}
		q = s->head;
		q_unlink(s, q);
		pthread_mutex_unlock(&s->mu);
		why[0] = '\0';
		if (s->tr == TR_TCP || s->tr == TR_TLS ||
		    (s->tr == TR_UNIX && s->sock_type == SOCK_STREAM)) {
			fl_update(s);		/* what the collector's TCP has acknowledged */
			if (still_connected(s)) {
				rc = send_one(s, q, why, sizeof(why));
			} else {
				rc = -1;
				snprintf(why, sizeof(why), "closed by the collector");
			}
		} else {
			rc = send_one(s, q, why, sizeof(why));
		}
		if (rc < 0)
			disconnect(s, true, why);
		pthread_mutex_lock(&s->mu);
		if (rc == 0) {
			s->st.sent++;
			free(q);
		} else if (rc > 0) {
			s->st.send_failed++;
			free(q);
		} else {
			q_push_front(s, q);		/* first in line once reconnected */
		}
		why[0] = '\0';
	}
	s->finished = true;
	pthread_cond_broadcast(&s->done_cv);
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

int
syslog_start(struct syslog_out *s, char *err, size_t errsz)
{
	sigset_t all, old;
	int rc;

	/* signals are the capture thread's: it wakes up on them */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&s->thread, NULL, writer, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		snprintf(err, errsz, "syslog %s: cannot start its thread: %s", s->name, strerror(rc));
		return -1;
	}
	s->thread_started = true;
	/*
	 * Wait until the thread runs: its start-up (glibc registers rseq)
	 * must be over before the system-call filter goes in.
	 */
	pthread_mutex_lock(&s->mu);
	while (!s->running)
		pthread_cond_wait(&s->done_cv, &s->mu);
	pthread_mutex_unlock(&s->mu);
	return 0;
}

void
syslog_finish(struct syslog_out *const *v, size_t n, unsigned timeout_ms)
{
	struct timespec deadline;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (deadline.tv_nsec >= 1000000000) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000;
	}
	for (size_t i = 0; i < n; i++) {
		pthread_mutex_lock(&v[i]->mu);
		v[i]->draining = true;
		pthread_cond_signal(&v[i]->cv);
		pthread_mutex_unlock(&v[i]->mu);
	}
	for (size_t i = 0; i < n; i++) {
		struct syslog_out *s = v[i];
		if (!s->thread_started)
			continue;
		pthread_mutex_lock(&s->mu);
		while (!s->finished)
			if (pthread_cond_timedwait(&s->done_cv, &s->mu, &deadline) == ETIMEDOUT)
				break;
		atomic_store(&s->abort_now, true);
		pthread_cond_signal(&s->cv);
		pthread_mutex_unlock(&s->mu);
		pthread_join(s->thread, NULL);
		s->thread_started = false;
		/* RELP: close the session, which waits for the collector's last acks */
		if (s->tr == TR_RELP && s->relp != NULL && !s->relp_broken)
			relp_api.EngineCltDestruct(s->relp_engine, &s->relp);
		else
			disconnect(s, false, NULL);
		pthread_mutex_lock(&s->mu);
		for (struct qmsg *q = s->head; q != NULL; q = q->next)
			s->st.undelivered[q->kind]++;
		pthread_mutex_unlock(&s->mu);
	}
}

void
syslog_free(struct syslog_out *s)
{
	struct qmsg *q, *next;

	if (s == NULL)
		return;
	if (s->thread_started) {
		atomic_store(&s->abort_now, true);
		pthread_mutex_lock(&s->mu);
		s->draining = true;
		pthread_cond_signal(&s->cv);
		pthread_mutex_unlock(&s->mu);
		pthread_join(s->thread, NULL);
	}
	if (s->relp != NULL)
		relp_api.EngineCltDestruct(s->relp_engine, &s->relp);
	if (s->relp_engine != NULL)
		relp_api.EngineDestruct(&s->relp_engine);
	if (s->ssl != NULL)
		SSL_free(s->ssl);
	if (s->fd >= 0)
		close(s->fd);
	SSL_CTX_free(s->ssl_ctx);
	for (q = s->head; q != NULL; q = next) {
		next = q->next;
		free(q);
	}
	ev_buf_free(&s->hdr);
	ev_buf_free(&s->cut);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	pthread_cond_destroy(&s->done_cv);
	free(s);
}
