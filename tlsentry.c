/*
 * tlsentry.c: main.  Command line, wiring of capture -> engine -> output,
 * progress and the end-of-run summary.  The only code that sees the whole
 * chain besides engine.c.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/opensslv.h>

#include "capture/capture.h"
#include "engine.h"
#include "output/event.h"
#include "output/log.h"
#include "parser/hashtab.h"
#include "rules/rules.h"

#ifndef TLSENTRY_VERSION
#define TLSENTRY_VERSION "0.1.0"
#endif

#define INPUTS_MAX 4096

struct opts {
	const char *inputs[INPUTS_MAX];
	size_t n_inputs;
	const char *rules_path;
	const char *out_path;
	const char *bpf;
	bool quiet;
};

struct run {
	struct engine *engine;
	const struct cap_src *src;
	bool progress;			/* stderr is a terminal and not -q */
	bool progress_shown;
	uint64_t n_read, n_filtered_out;	/* packets from every file */
	struct timespec start, last_tick;
	uint64_t bytes_before;		/* of earlier files */
};

static volatile sig_atomic_t stop_requested;
static struct cap_src *current_src;

static const char usage_text[] =
    "usage: tlsentry -r FILE [-r FILE ...] [-R RULES] [-w OUT] [-f BPF] [-q]\n"
    "       tlsentry -h | --version\n"
    "\n"
    "Reads TLS handshakes from capture files and writes one JSON event per\n"
    "handshake (and one per alert) to standard output.\n"
    "\n"
    "  -r FILE     read a pcap or pcapng file; '-' reads standard input; repeatable,\n"
    "              files are read in order as one capture\n"
    "  -R RULES    watched domains and their expected issuers (see README)\n"
    "  -w OUT      append events to OUT instead of standard output\n"
    "  -f BPF      only look at packets matching this filter (default: all)\n"
    "  -q          no progress line and no summary on standard error\n"
    "  -h, --help  this help\n"
    "  --version   print the version\n"
    "\n"
    "Exit status: 0 success, 1 run-time error, 2 usage error.\n";

static _Noreturn void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("tlsentry: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\ntry 'tlsentry -h' for help\n", stderr);
	exit(EXIT_USAGE);
}

static bool
same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	    sa.st_ino == sb.st_ino;
}

/* Appending events to a capture or to the rules would destroy them. */
static void
check_output_path(const struct opts *o)
{
	if (o->out_path == NULL)
		return;
	for (size_t i = 0; i < o->n_inputs; i++)
		if (same_file(o->out_path, o->inputs[i]))
			usage_error("-w %s is also an input capture", o->out_path);
	if (o->rules_path != NULL && same_file(o->out_path, o->rules_path))
		usage_error("-w %s is also the rules file", o->out_path);
}

static void
parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	bool stdin_used = false;
	int c;

	memset(o, 0, sizeof(*o));
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":r:R:w:f:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'r':
			if (o->n_inputs == INPUTS_MAX)
				usage_error("more than %d input files", INPUTS_MAX);
			if (strcmp(optarg, "-") == 0) {
				if (stdin_used)
					usage_error("%s", "standard input can be read only once");
				stdin_used = true;
			}
			o->inputs[o->n_inputs++] = optarg;
			break;
		case 'R':
			if (o->rules_path != NULL)
				usage_error("%s", "-R given twice");
			o->rules_path = optarg;
			break;
		case 'w':
			if (o->out_path != NULL)
				usage_error("%s", "-w given twice");
			o->out_path = optarg;
			break;
		case 'f':
			o->bpf = optarg;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			exit(EXIT_OK);
		case 'V':
			printf("tlsentry %s (%s, %s)\n", TLSENTRY_VERSION, pcap_lib_version(),
			    OPENSSL_VERSION_TEXT);
			exit(EXIT_OK);
		case ':':
			usage_error("option -%c needs an argument", optopt);
		default:
			if (strncmp(argv[optind - 1], "--", 2) == 0)
				usage_error("unknown option, or one that takes no argument: '%s'",
				    argv[optind - 1]);
			usage_error("unknown option '-%c'", optopt);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s' (read a capture with -r FILE)", argv[optind]);
	if (o->n_inputs == 0)
		usage_error("%s", "no input: give -r FILE (or -r - for standard input)");
	check_output_path(o);
}

static void
on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
	if (current_src != NULL)
		cap_stop(current_src);
}

static double
seconds_between(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

static void
human_bytes(double b, char *out, size_t outsz)
{
	static const char *const unit[] = { "B", "kB", "MB", "GB", "TB" };
	int u = 0;

	while (b >= 1000 && u < 4) {
		b /= 1000;
		u++;
	}
	snprintf(out, outsz, u == 0 ? "%.0f %s" : "%.1f %s", b, unit[u]);
}

/* Called between packet batches: a progress line, twice a second at most. */
static void
on_tick(void *ctx, const struct cap_src *src)
{
	struct run *r = ctx;
	struct engine_stats st;
	struct timespec now;
	char rate[32], done[32];
	int64_t off;
	double secs;

	if (!r->progress)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (seconds_between(&r->last_tick, &now) < 0.5)
		return;
	r->last_tick = now;
	engine_stats(r->engine, &st);
	off = cap_offset(src);
	secs = seconds_between(&r->start, &now);
	human_bytes(secs > 0 ? (double)(st.n_bytes - r->bytes_before) / secs : 0, rate,
	    sizeof(rate));
	if (off >= 0 && src->size > 0)
		snprintf(done, sizeof(done), "%3.0f%%", 100.0 * (double)off / (double)src->size);
	else
		human_bytes((double)(st.n_bytes - r->bytes_before), done, sizeof(done));
	fprintf(stderr, "\rtlsentry: %s %s, %s/s, %llu handshakes, %llu alerts\x1b[K",
	    src->name, done, rate, (unsigned long long)st.n_handshakes,
	    (unsigned long long)st.n_alerts);
	r->progress_shown = true;
}

static void
on_packet(void *ctx, const struct pcap_pkthdr *h, const uint8_t *p)
{
	struct run *r = ctx;

	engine_packet(r->engine, r->src->linktype, h, p);
}

/* Open every input once before reading any, so a typo fails fast. */
static void
check_inputs(const struct opts *o)
{
	char err[512];
	int code;

	for (size_t i = 0; i < o->n_inputs; i++) {
		struct cap_src src;
		if (strcmp(o->inputs[i], "-") == 0)
			continue;	/* read once, when its turn comes */
		if (cap_open_file(&src, o->inputs[i], o->bpf, err, sizeof(err), &code) != 0)
			die(code, "%s", err);
		cap_close(&src);
	}
}

static void
read_input(struct run *r, const char *path, const char *bpf)
{
	struct cap_src src;
	struct engine_stats before;
	char err[512];
	int code;
	enum cap_status st;

	if (cap_open_file(&src, path, bpf, err, sizeof(err), &code) != 0)
		die(code, "%s", err);
	engine_stats(r->engine, &before);
	r->bytes_before = before.n_bytes;
	clock_gettime(CLOCK_MONOTONIC, &r->start);
	r->last_tick = r->start;
	r->src = &src;
	current_src = &src;
	engine_set_source(r->engine, strcmp(path, "-") == 0 ? NULL : path);
	st = cap_run(&src, on_packet, r, on_tick, err, sizeof(err));
	current_src = NULL;
	if (r->progress_shown) {
		fputs("\r\x1b[K", stderr);
		r->progress_shown = false;
	}
	if (st == CAP_TRUNCATED)
		log_warn("%s: capture cut short or damaged after %llu packets (%s); "
		    "kept what was read", src.name, (unsigned long long)src.n_read, err);
	r->n_read += src.n_read;
	r->n_filtered_out += src.n_filtered_out;
	cap_close(&src);
}

static const char *
plural(uint64_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

#define U(x) ((unsigned long long)(x))

static void
summary(const struct run *r, const struct engine_stats *st, const struct ev_out *out,
    size_t n_files, double secs)
{
	char bytes[32];
	uint64_t gaveup = 0;

	for (int i = 0; i < GIVEUP_N; i++)
		gaveup += st->n_giveup[i];
	human_bytes((double)st->n_bytes, bytes, sizeof(bytes));
	fprintf(stderr, "tlsentry: %sread %llu %s from %zu %s in %.2f s",
	    stop_requested ? "interrupted: " : "", U(r->n_read), plural(r->n_read, "packet", "packets"),
	    n_files, n_files == 1 ? "file" : "files", secs);
	if (r->n_filtered_out > 0)
		fprintf(stderr, ", %llu matched the filter", U(r->n_read - r->n_filtered_out));
	fprintf(stderr, " (%s); %llu TCP %s, %llu with TLS\n", bytes, U(st->flows.n_created),
	    plural(st->flows.n_created, "flow", "flows"), U(st->n_tls_flows));
	fprintf(stderr, "tlsentry: %llu %s: %llu with a server certificate, "
	    "%llu with it encrypted (TLS 1.3), %llu resumed; %llu %s (%llu distinct); "
	    "%llu %s\n",
	    U(st->n_handshakes), plural(st->n_handshakes, "handshake", "handshakes"),
	    U(st->n_with_cert), U(st->n_hidden_cert), U(st->n_resumed),
	    U(st->n_certs), plural(st->n_certs, "certificate", "certificates"),
	    U(st->certs.n_decoded), U(st->n_alerts), plural(st->n_alerts, "alert", "alerts"));
	fprintf(stderr, "tlsentry: %llu %s given up: %llu missing segments, %llu malformed, "
	    "%llu over size cap, %llu memory budget, %llu flow table full\n",
	    U(gaveup), plural(gaveup, "flow", "flows"),
	    U(st->n_giveup[GIVEUP_GAP]), U(st->n_giveup[GIVEUP_MALFORMED]),
	    U(st->n_giveup[GIVEUP_LIMIT]), U(st->n_giveup[GIVEUP_MEMORY]),
	    U(st->n_giveup[GIVEUP_EVICTED]));
	fprintf(stderr, "tlsentry: packets not followed: %llu UDP, %llu other protocols, "
	    "%llu IP fragments, %llu malformed\n",
	    U(st->n_decode[DEC_UDP]), U(st->n_decode[DEC_OTHER] + st->n_decode[DEC_UNKNOWN_LINK]),
	    U(st->n_decode[DEC_FRAGMENT]), U(st->n_decode[DEC_BAD]));
	for (unsigned i = 0; i < out->n_alerts_kept; i++)
		fprintf(stderr, "tlsentry: ALERT %s\n", out->alerts[i]);
	if (st->n_alerts > out->n_alerts_kept)
		fprintf(stderr, "tlsentry: ... and %llu more %s in the events\n",
		    U(st->n_alerts - out->n_alerts_kept),
		    plural(st->n_alerts - out->n_alerts_kept, "alert", "alerts"));
	if (out->n.n_too_large > 0)
		fprintf(stderr, "tlsentry: %llu %s over %u bytes dropped\n", U(out->n.n_too_large),
		    plural(out->n.n_too_large, "event", "events"), JSON_MAX);
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct run r;
	struct rules *rules = NULL;
	struct ev_out out;
	struct engine_stats st;
	struct timespec t0, t1;
	char err[512];
	int rc = EXIT_OK;

	parse_args(argc, argv, &o);
	if (siphash_seed() != 0)
		die(EXIT_RUNTIME, "cannot seed the hash key: %s", strerror(errno));
	if (o.rules_path != NULL) {
		rules = rules_load(o.rules_path, stderr, err, sizeof(err));
		if (rules == NULL)
			die(EXIT_RUNTIME, "%s", err);
	}
	check_inputs(&o);
	if (ev_out_open(&out, o.out_path, err, sizeof(err)) != 0)
		die(EXIT_RUNTIME, "%s", err);

	memset(&r, 0, sizeof(r));
	r.progress = !o.quiet && isatty(STDERR_FILENO);
	r.engine = engine_new(NULL, rules, &out);
	if (r.engine == NULL)
		die(EXIT_RUNTIME, "out of memory");
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (size_t i = 0; i < o.n_inputs && !stop_requested; i++)
		read_input(&r, o.inputs[i], o.bpf);
	engine_finish(r.engine);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	engine_stats(r.engine, &st);
	if (!o.quiet)
		summary(&r, &st, &out, o.n_inputs, seconds_between(&t0, &t1));
	engine_free(r.engine);
	if (ev_out_close(&out) != 0) {
		log_error("%s: error writing events: %s", o.out_path ? o.out_path : "stdout",
		    strerror(errno));
		rc = EXIT_RUNTIME;
	}
	rules_free(rules);
	return rc;
}
