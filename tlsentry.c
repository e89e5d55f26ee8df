/*
 * tlsentry.c: main.  Command line, opening the sources, dropping
 * privileges, the read loops for files and live interfaces, signals,
 * metric events, progress and the end-of-run summary.  The only code that
 * sees the whole chain besides engine.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/capability.h>
#include <openssl/opensslv.h>

#include "capture/capture.h"
#include "engine.h"
#include "workers.h"
#include "output/event.h"
#include "output/log.h"
#include "output/report.h"
#include "output/syslog.h"
#include "parser/cert.h"
#include "parser/hashtab.h"
#include "parser/trust.h"
#include "rules/rules.h"
#include "sandbox.h"

#ifndef TLSENTRY_VERSION
#define TLSENTRY_VERSION "0.1.0"
#endif

#define INPUTS_MAX 512		/* files are all opened before privileges drop */
#define IFACES_MAX 16
#define DEFAULT_USER "nobody"	/* as tcpdump: never parse packets as root */
#define STATE_SAVE_INTERVAL 300	/* seconds between --state writes */

struct opts {
	const char *inputs[INPUTS_MAX];
	size_t n_inputs;
	const char *ifaces[IFACES_MAX];
	size_t n_ifaces;
	const char *rules_path;
	const char *out_path;
	const char *bpf;
	const char *user;	/* -Z; NULL: DEFAULT_USER when root */
	const char *pidfile;
	bool quiet;
	bool no_seccomp;
	bool no_stdout;		/* --syslog without -w: events only to collectors */
	enum ev_format fmt;	/* -F; EV_FMT_N: not given */
	const char *syslog_urls[SYSLOG_OUTPUTS_MAX];
	enum ev_format syslog_fmts[SYSLOG_OUTPUTS_MAX];	/* EV_FMT_N: the default */
	size_t n_syslog;
	struct syslog_opts syslog;
	unsigned flush_timeout_s;
	const char *report_path;
	struct cap_live_opts live;
	unsigned stats_interval;	/* seconds; 0: no metric events */
	const char *ca_bundles[TRUST_BUNDLES_MAX];
	size_t n_ca_bundles;
	const char *ca_path;
	bool no_default_ca;
	const char *check_rules;	/* describe this rules file and exit */
	bool learn;			/* tlsentry learn: write rules, no events */
	const char *learn_out;		/* learn -o FILE; NULL: standard output */
	unsigned duration_s;		/* live: stop after this long; 0: never */
	const char *state_path;		/* --state FILE */
	const char *cert_dir;		/* --store-certs DIR */
	const char *evidence_dir;	/* --evidence DIR */
	uint64_t evidence_files, evidence_bytes;	/* --evidence-max, per directory */
	size_t workers;		/* --workers; 0: 1 */
	struct engine_cfg cfg;
};

struct run {
	const struct opts *o;
	struct workers *engine;	/* the engine, or --workers N of them */
	struct trust *trust;
	struct ev_out *out;
	struct syslog_out *syslogs[SYSLOG_OUTPUTS_MAX];
	size_t n_syslogs;
	struct report *report;
	struct rules *rules;
	struct learn *learn;
	FILE *learn_fp;
	struct tofu *tofu;
	struct timespec last_state_save;
	struct evstore *cert_store, *evidence;
	struct cap_src srcs[INPUTS_MAX > IFACES_MAX ? INPUTS_MAX : IFACES_MAX];
	size_t n_srcs;
	const struct cap_src *src;	/* the one being read */
	bool progress;			/* stderr is a terminal and not -q */
	bool progress_shown;
	struct timespec start, last_tick, last_stats;
	uint64_t bytes_before;		/* of earlier files */
	int rc;
};

static volatile sig_atomic_t stop_requested, reload_requested;
static struct run *the_run;

static const char usage_text[] =
    "usage: tlsentry -r FILE [-r FILE ...] [options]\n"
    "       tlsentry -i IFACE [-i IFACE ...] [options]\n"
    "       tlsentry learn -r FILE ... | -i IFACE [--duration SECONDS] [-o RULES]\n"
    "       tlsentry --check-rules FILE\n"
    "       tlsentry -h | --version\n"
    "\n"
    "Reads TLS handshakes from capture files or live interfaces and writes one\n"
    "JSON event per handshake (and one per alert) to standard output.\n"
    "\n"
    "  -r FILE          read a pcap or pcapng file; '-' reads standard input;\n"
    "                   repeatable, files are read in order as one capture\n"
    "  -i IFACE         capture live on IFACE ('any' for all); repeatable\n"
    "  -R RULES         watched domains and their expected issuers (see README)\n"
    "  -w OUT           append events to OUT instead of standard output ('-w -':\n"
    "                   standard output); SIGHUP reopens it (for logrotate)\n"
    "  -F FORMAT        format of standard output and -w: json (ECS JSON Lines,\n"
    "                   the default), cef (ArcSight CEF) or text (one line each)\n"
    "  --syslog URL     also send every event to a syslog collector, as RFC 5424:\n"
    "                   udp://HOST:PORT, tcp://HOST:PORT (RFC 6587), tls://HOST:PORT\n"
    "                   (RFC 5425), relp://HOST:PORT, unix:///dev/log; repeatable.\n"
    "                   With --syslog, standard output gets events only with -w -\n"
    "                   or -F\n"
    "  --syslog-format FORMAT  json (default), cef or text: for the --syslog options\n"
    "                   after it, and those before it that have no format yet\n"
    "  --syslog-ca FILE CA certificates that a tls:// collector must chain to\n"
    "                   (default: the system's); its name must match HOST\n"
    "  --syslog-queue N messages queued per collector while it is slow or away\n"
    "                   (default 10000); when full, handshakes go before alerts\n"
    "  --syslog-udp-max BYTES  largest UDP datagram (default 2048); longer\n"
    "                   messages are cut and marked\n"
    "  --syslog-facility NAME  kern, user, daemon, auth, local0..local7, ...\n"
    "                   (default local0)\n"
    "  --syslog-flush-timeout SECONDS  at the end, wait this long for collectors\n"
    "                   to take what is queued (default 5)\n"
    "  --report FILE    at the end, write an HTML report of the run to FILE\n"
    "  -f BPF           only look at packets matching this filter (default: all);\n"
    "                   it sees outer headers: 'tcp port 443' misses VLAN and tunnels\n"
    "  -q               no progress line and no summary on standard error\n"
    "  -Z USER          after opening sources and output, run as USER (default:\n"
    "                   nobody when started as root; '-Z root' keeps root)\n"
    "  --pidfile FILE   write the process id to FILE\n"
    "  --stats-interval SECONDS\n"
    "                   also write a metric event with the counters this often\n"
    "  --snaplen BYTES  bytes kept per live packet (default 262144)\n"
    "  --buffer-size SIZE  kernel capture buffer per interface (default 32M)\n"
    "  --no-promisc     do not put interfaces in promiscuous mode\n"
    "  --max-flows N    connections tracked at once (default 65536)\n"
    "  --max-flow-bytes SIZE  bytes buffered ahead of a hole per direction (256K)\n"
    "  --memcap SIZE    all buffers, hellos and certificates together (128M)\n"
    "  --idle-timeout SECONDS  end flows idle this long (default 120)\n"
    "  --ca-bundle FILE trust the CA certificates in FILE (PEM) too; repeatable\n"
    "  --ca-path DIR    trust a hashed CA directory (c_rehash) too\n"
    "  --no-default-ca  do not trust the system's CA bundle\n"
    "  --alert-interval SECONDS  the same finding (rule, name, certificate,\n"
    "                   reason) alerts once per this much capture time, with a\n"
    "                   repeat count (default 3600; 0: every time)\n"
    "  --workers N      parse on N threads, connections spread by a flow hash\n"
    "                   (default 1; the caps are shared out between them)\n"
    "  --check-rules FILE  check a rules file, print what it watches, exit\n"
    "  --state FILE     remember each domain's issuers across runs (trust on first\n"
    "                   use): a domain seen with an issuer it never had raises\n"
    "                   new-issuer; FILE's directory must be writable by the -Z user\n"
    "  --duration SECONDS  live: stop capturing after this long\n"
    "  --store-certs DIR  write each distinct server certificate once, as PEM\n"
    "                   named by its SHA-256\n"
    "  --evidence DIR   write each alerting flow's handshake packets to a pcap\n"
    "                   of its own; alerts name the files\n"
    "  --evidence-max FILES[/SIZE]  bound each of those directories; the oldest\n"
    "                   files go first (default 10000/1G)\n"
    "  --no-seccomp     run without the system call filter (see README)\n"
    "  -h, --help       this help\n"
    "  --version        print the version\n"
    "\n"
    "learn: read traffic you trust and write a rules file (-o RULES, default\n"
    "standard output) with, per registered domain, the issuers and issuing-CA\n"
    "pins of the chains that validated and the servers' JA3S fingerprints.\n"
    "\n"
    "SIZE takes a K, M or G suffix.  Signals: SIGINT/SIGTERM stop and report,\n"
    "SIGHUP reloads the rules and reopens -w.\n"
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

/* --- command line ---------------------------------------------------------- */

/* "64M", "256K", "1G" or plain bytes (or a plain count, if !units); lo..hi inclusive. */
static uint64_t
parse_num(const char *opt, const char *s, uint64_t lo, uint64_t hi, bool units)
{
	char *end;
	unsigned long long v;
	uint64_t mult = 1;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (end == s || errno != 0 || s[0] == '-')
		usage_error("%s '%s' is not a number", opt, s);
	switch (units ? *end : '\0') {
	case 'k': case 'K': mult = 1024; end++; break;
	case 'm': case 'M': mult = (uint64_t)1 << 20; end++; break;
	case 'g': case 'G': mult = (uint64_t)1 << 30; end++; break;
	default: break;
	}
	if (*end != '\0')
		usage_error(units ? "%s '%s': unknown unit (use K, M or G)" :
		    "%s '%s' is not a whole number", opt, s);
	if (v > hi / mult || v * mult < lo || v * mult > hi)
		usage_error("%s '%s' is out of range (%llu to %llu)", opt, s,
		    (unsigned long long)lo, (unsigned long long)hi);
	return v * mult;
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

/* learn -o and --state overwrite their files: never an input's. */
static void
check_written_paths(const struct opts *o)
{
	const char *w[] = { o->learn_out, o->state_path, o->cert_dir, o->evidence_dir };

	for (size_t k = 0; k < sizeof(w) / sizeof(w[0]); k++) {
		if (w[k] == NULL)
			continue;
		for (size_t i = 0; i < o->n_inputs; i++)
			if (same_file(w[k], o->inputs[i]))
				usage_error("%s is also an input capture", w[k]);
		if (o->rules_path != NULL && same_file(w[k], o->rules_path))
			usage_error("%s is also the rules file (-R)", w[k]);
	}
	if (o->learn_out != NULL && o->state_path != NULL && same_file(o->learn_out, o->state_path))
		usage_error("%s is both -o and --state", o->learn_out);
}

static enum ev_format
parse_format(const char *opt, const char *s)
{
	enum ev_format f = ev_format_parse(s);

	if (f == EV_FMT_N)
		usage_error("%s '%s': unknown format (json, cef or text)", opt, s);
	return f;
}

enum {
	OPT_VERSION = 256, OPT_PIDFILE, OPT_STATS, OPT_SNAPLEN, OPT_BUFFER, OPT_NOPROMISC,
	OPT_MAXFLOWS, OPT_MAXFLOWBYTES, OPT_MEMCAP, OPT_IDLE, OPT_NOSECCOMP,
	OPT_CABUNDLE, OPT_CAPATH, OPT_NODEFAULTCA, OPT_ALERTINTERVAL, OPT_CHECKRULES,
	OPT_STATE, OPT_DURATION, OPT_STORECERTS, OPT_EVIDENCE, OPT_EVIDENCEMAX,
	OPT_WORKERS,
	OPT_SYSLOG, OPT_SYSLOG_FORMAT, OPT_SYSLOG_CA, OPT_SYSLOG_QUEUE, OPT_SYSLOG_UDP_MAX,
	OPT_SYSLOG_FACILITY, OPT_SYSLOG_FLUSH, OPT_REPORT,
};

static void
parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "pidfile", required_argument, NULL, OPT_PIDFILE },
		{ "stats-interval", required_argument, NULL, OPT_STATS },
		{ "snaplen", required_argument, NULL, OPT_SNAPLEN },
		{ "buffer-size", required_argument, NULL, OPT_BUFFER },
		{ "no-promisc", no_argument, NULL, OPT_NOPROMISC },
		{ "max-flows", required_argument, NULL, OPT_MAXFLOWS },
		{ "max-flow-bytes", required_argument, NULL, OPT_MAXFLOWBYTES },
		{ "memcap", required_argument, NULL, OPT_MEMCAP },
		{ "idle-timeout", required_argument, NULL, OPT_IDLE },
		{ "no-seccomp", no_argument, NULL, OPT_NOSECCOMP },
		{ "ca-bundle", required_argument, NULL, OPT_CABUNDLE },
		{ "ca-path", required_argument, NULL, OPT_CAPATH },
		{ "no-default-ca", no_argument, NULL, OPT_NODEFAULTCA },
		{ "alert-interval", required_argument, NULL, OPT_ALERTINTERVAL },
		{ "check-rules", required_argument, NULL, OPT_CHECKRULES },
		{ "state", required_argument, NULL, OPT_STATE },
		{ "duration", required_argument, NULL, OPT_DURATION },
		{ "store-certs", required_argument, NULL, OPT_STORECERTS },
		{ "evidence", required_argument, NULL, OPT_EVIDENCE },
		{ "evidence-max", required_argument, NULL, OPT_EVIDENCEMAX },
		{ "workers", required_argument, NULL, OPT_WORKERS },
		{ "syslog", required_argument, NULL, OPT_SYSLOG },
		{ "syslog-format", required_argument, NULL, OPT_SYSLOG_FORMAT },
		{ "syslog-ca", required_argument, NULL, OPT_SYSLOG_CA },
		{ "syslog-queue", required_argument, NULL, OPT_SYSLOG_QUEUE },
		{ "syslog-udp-max", required_argument, NULL, OPT_SYSLOG_UDP_MAX },
		{ "syslog-facility", required_argument, NULL, OPT_SYSLOG_FACILITY },
		{ "syslog-flush-timeout", required_argument, NULL, OPT_SYSLOG_FLUSH },
		{ "report", required_argument, NULL, OPT_REPORT },
		{ NULL, 0, NULL, 0 },
	};
	bool stdin_used = false;
	enum ev_format syslog_fmt = EV_FMT_N;	/* the last --syslog-format */
	int c, fac;

	memset(o, 0, sizeof(*o));
	o->evidence_files = EVIDENCE_DEFAULT_FILES;
	o->evidence_bytes = EVIDENCE_DEFAULT_BYTES;
	o->fmt = EV_FMT_N;
	o->syslog.fmt = EV_FMT_JSON;
	o->syslog.facility = 16;		/* local0 */
	o->flush_timeout_s = 5;
	if (argc > 1 && strcmp(argv[1], "learn") == 0) {
		o->learn = true;
		argv[1] = argv[0];		/* getopt reads from argv[1] on */
		argc--;
		argv++;
	}
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":r:i:R:w:o:f:F:qZ:h", longopts, NULL)) != -1) {
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
		case 'i':
			if (o->n_ifaces == IFACES_MAX)
				usage_error("more than %d interfaces", IFACES_MAX);
			if (optarg[0] == '\0')
				usage_error("%s", "-i needs an interface name");
			o->ifaces[o->n_ifaces++] = optarg;
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
		case 'o':
			if (!o->learn)
				usage_error("%s", "-o is for 'tlsentry learn' (events go to -w FILE)");
			o->learn_out = optarg;
			break;
		case 'f':
			o->bpf = optarg;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'Z':
			o->user = optarg;
			break;
		case OPT_PIDFILE:
			o->pidfile = optarg;
			break;
		case OPT_STATS:
			o->stats_interval = (unsigned)parse_num("--stats-interval", optarg, 1, 86400, false);
			break;
		case OPT_SNAPLEN:
			o->live.snaplen = (int)parse_num("--snaplen", optarg, 96, 262144, true);
			break;
		case OPT_BUFFER:
			o->live.buffer_bytes = (int)parse_num("--buffer-size", optarg, 1 << 16, 1u << 30, true);
			break;
		case OPT_NOPROMISC:
			o->live.no_promisc = true;
			break;
		case OPT_MAXFLOWS:
			o->cfg.max_flows = parse_num("--max-flows", optarg, 1, 1u << 26, false);
			break;
		case OPT_MAXFLOWBYTES:
			o->cfg.reasm_max = parse_num("--max-flow-bytes", optarg, 4096, 1u << 30, true);
			break;
		case OPT_MEMCAP:
			o->cfg.memcap = parse_num("--memcap", optarg, 1u << 20, (uint64_t)1 << 40, true);
			break;
		case OPT_IDLE:
			o->cfg.idle_s = (unsigned)parse_num("--idle-timeout", optarg, 1, 86400, false);
			break;
		case OPT_NOSECCOMP:
			o->no_seccomp = true;
			break;
		case OPT_CABUNDLE:
			if (o->n_ca_bundles == TRUST_BUNDLES_MAX)
				usage_error("more than %d --ca-bundle files", TRUST_BUNDLES_MAX);
			o->ca_bundles[o->n_ca_bundles++] = optarg;
			break;
		case OPT_CAPATH:
			o->ca_path = optarg;
			break;
		case OPT_NODEFAULTCA:
			o->no_default_ca = true;
			break;
		case OPT_ALERTINTERVAL: {
			uint64_t v = parse_num("--alert-interval", optarg, 0, (uint64_t)366 * 86400, false);
			o->cfg.alert_interval_s = v == 0 ? -1 : (int64_t)v;
			break;
		}
		case OPT_CHECKRULES:
			o->check_rules = optarg;
			break;
		case OPT_STATE:
			o->state_path = optarg;
			break;
		case OPT_STORECERTS:
			o->cert_dir = optarg;
			break;
		case OPT_EVIDENCE:
			o->evidence_dir = optarg;
			break;
		case OPT_EVIDENCEMAX: {
			char files[32], *slash = strchr(optarg, '/');
			size_t n = slash != NULL ? (size_t)(slash - optarg) : strlen(optarg);
			if (n >= sizeof(files))
				usage_error("--evidence-max: '%s' is not FILES[/SIZE]", optarg);
			memcpy(files, optarg, n);
			files[n] = '\0';
			o->evidence_files = parse_num("--evidence-max", files, 1, 10000000, false);
			if (slash != NULL)
				o->evidence_bytes = parse_num("--evidence-max", slash + 1, 4096,
				    (uint64_t)1 << 50, true);
			break;
		}
		case OPT_DURATION:
			o->duration_s = (unsigned)parse_num("--duration", optarg, 1, (uint64_t)366 * 86400, false);
			break;
		case OPT_WORKERS:
			o->workers = (size_t)parse_num("--workers", optarg, 1, WK_MAX, false);
			break;
		case 'F':
			o->fmt = parse_format("-F", optarg);
			break;
		case OPT_SYSLOG:
			if (o->n_syslog == SYSLOG_OUTPUTS_MAX)
				usage_error("more than %d --syslog outputs", SYSLOG_OUTPUTS_MAX);
			o->syslog_fmts[o->n_syslog] = syslog_fmt;
			o->syslog_urls[o->n_syslog++] = optarg;
			break;
		case OPT_SYSLOG_FORMAT:
			syslog_fmt = parse_format("--syslog-format", optarg);
			for (size_t i = 0; i < o->n_syslog; i++)	/* earlier ones without */
				if (o->syslog_fmts[i] == EV_FMT_N)
					o->syslog_fmts[i] = syslog_fmt;
			break;
		case OPT_SYSLOG_CA:
			o->syslog.ca_file = optarg;
			break;
		case OPT_SYSLOG_QUEUE:
			o->syslog.queue_max = parse_num("--syslog-queue", optarg, 1, 10000000, false);
			break;
		case OPT_SYSLOG_UDP_MAX:
			o->syslog.udp_max = parse_num("--syslog-udp-max", optarg, 480, 65000, false);
			break;
		case OPT_SYSLOG_FACILITY:
			fac = syslog_facility(optarg);
			if (fac < 0)
				usage_error("--syslog-facility '%s': unknown (kern, user, daemon, auth, "
				    "local0 .. local7, ...)", optarg);
			o->syslog.facility = (unsigned)fac;
			break;
		case OPT_SYSLOG_FLUSH:
			o->flush_timeout_s = (unsigned)parse_num("--syslog-flush-timeout", optarg, 0,
			    3600, false);
			break;
		case OPT_REPORT:
			o->report_path = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			exit(EXIT_OK);
		case OPT_VERSION:
			printf("tlsentry %s (%s, %s, seccomp filter %s)\n", TLSENTRY_VERSION,
			    pcap_lib_version(), OPENSSL_VERSION_TEXT,
			    sandbox_available(&(const char *){ NULL }) ? "on" : "not in this build");
			exit(EXIT_OK);
		case ':':
			if (optopt >= OPT_VERSION || strncmp(argv[optind - 1], "--", 2) == 0)
				usage_error("option %s needs an argument", argv[optind - 1]);
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
	if (o->check_rules != NULL)
		return;
	if (o->n_inputs == 0 && o->n_ifaces == 0)
		usage_error("%s", "no input: give -r FILE (or -r - for standard input) or -i IFACE");
	if (o->n_inputs > 0 && o->n_ifaces > 0)
		usage_error("%s", "-r and -i cannot be mixed");
	if (o->duration_s > 0 && o->n_ifaces == 0)
		usage_error("%s", "--duration is for live capture (-i); a file ends by itself");
	if (o->learn && o->out_path != NULL)
		usage_error("%s", "learn writes rules, not events: give -o RULES, not -w");
	/* their state is one per process, not yet shared between threads */
	if (o->workers > 1 && (o->learn || o->state_path != NULL || o->cert_dir != NULL ||
	    o->evidence_dir != NULL))
		usage_error("%s", "--workers cannot be combined with learn, --state, "
		    "--store-certs or --evidence (their state is not shared between threads)");
	if (o->learn && (o->n_syslog > 0 || o->report_path != NULL || o->fmt != EV_FMT_N))
		usage_error("%s", "learn writes rules, not events: --syslog, --report and -F are for "
		    "watching");
	for (size_t i = 0; i < o->n_syslog; i++)	/* no --syslog-format at all */
		if (o->syslog_fmts[i] == EV_FMT_N)
			o->syslog_fmts[i] = EV_FMT_JSON;
	if (o->out_path != NULL && strcmp(o->out_path, "-") == 0)
		o->out_path = NULL;		/* -w -: standard output, said aloud */
	else if (o->out_path == NULL && o->n_syslog > 0 && o->fmt == EV_FMT_N)
		o->no_stdout = true;
	if (o->report_path != NULL && o->out_path != NULL && same_file(o->report_path, o->out_path))
		usage_error("--report %s is also the -w file", o->report_path);
	check_output_path(o);
	check_written_paths(o);
}

/* --- signals ----------------------------------------------------------------- */

static void
on_signal(int sig)
{
	if (sig == SIGHUP) {
		reload_requested = 1;
		return;
	}
	stop_requested = 1;
	if (the_run != NULL && the_run->src != NULL && !the_run->src->is_live)
		cap_stop((struct cap_src *)the_run->src);	/* a file: leave pcap's loop */
}

/* No SA_RESTART: poll() returns at once with EINTR. */
static void
catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/* --- privileges ---------------------------------------------------------------- */

/* Who to become after start-up; looked up before anything is opened. */
struct target_user {
	bool change;
	uid_t uid;
	gid_t gid;
	char name[64];
};

static void
resolve_user(const char *user, struct target_user *t)
{
	struct passwd *pw;
	bool root = geteuid() == 0;

	memset(t, 0, sizeof(*t));
	if (user == NULL)
		user = root ? DEFAULT_USER : NULL;
	if (user == NULL || strcmp(user, "root") == 0)
		return;
	pw = getpwnam(user);
	if (pw == NULL)
		die(EXIT_RUNTIME, "-Z %s: no such user (use -Z root to keep root)", user);
	if (!root) {
		if (pw->pw_uid == getuid())
			return;
		die(EXIT_RUNTIME, "-Z %s: only root can change user", user);
	}
	t->change = true;
	t->uid = pw->pw_uid;
	t->gid = pw->pw_gid;
	snprintf(t->name, sizeof(t->name), "%s", pw->pw_name);
}

/* Give up every capability (file capabilities included) and any way back. */
static void
drop_capabilities(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];

	memset(data, 0, sizeof(data));
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (syscall(SYS_capset, &hdr, data) != 0)
		die(EXIT_RUNTIME, "cannot drop capabilities: %s", strerror(errno));
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		die(EXIT_RUNTIME, "cannot set no_new_privs: %s", strerror(errno));
}

/*
 * Become the target user once every source and the output are open:
 * setgroups, setgid, setuid, in that order, then check that the change took
 * and cannot be undone.  Parsing hostile packets as root is never the
 * default.  Capabilities a non-root start had (setcap) are dropped too.
 */
static void
drop_privileges(const struct target_user *t)
{
	if (t->change) {
		if (initgroups(t->name, t->gid) != 0 || setgid(t->gid) != 0 || setuid(t->uid) != 0)
			die(EXIT_RUNTIME, "cannot become user %s: %s", t->name, strerror(errno));
		if (getuid() != t->uid || geteuid() != t->uid || getgid() != t->gid ||
		    getegid() != t->gid || (t->uid != 0 && setuid(0) == 0))
			die(EXIT_RUNTIME, "privilege drop to %s did not take", t->name);
	}
	if (geteuid() != 0)		/* -Z root keeps everything, as asked */
		drop_capabilities();
}

/*
 * The last step of start-up: from here on only the system calls that
 * reading packets, writing events and reloading need are allowed.
 */
static void
enter_sandbox(const struct opts *o)
{
	const char *why;
	char err[256];

	if (o->no_seccomp || !sandbox_available(&why))
		return;			/* a sanitizer build: its runtime needs more */
	if (cert_init() != 0)
		die(EXIT_RUNTIME, "cannot initialise OpenSSL");
	if (sandbox_enter(o->n_syslog > 0, err, sizeof(err)) != 0)
		die(EXIT_RUNTIME, "%s (--no-seccomp runs without the filter)", err);
}

static const char *pidfile_path;
static pid_t pidfile_owner;

/* Remove the pid file at exit, if it is still ours (best effort after the drop). */
static void
remove_pidfile(void)
{
	char buf[32] = "";
	int fd;

	if (pidfile_path == NULL || getpid() != pidfile_owner)
		return;
	fd = open(pidfile_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	if (read(fd, buf, sizeof(buf) - 1) > 0 && atol(buf) == (long)getpid())
		(void)unlink(pidfile_path);
	close(fd);
}

/*
 * Create the pid file, never through a symbolic link (one standing there is
 * replaced, its target untouched) and never over the file of a tlsentry
 * that is still running; a stale one is replaced.
 */
static void
write_pidfile(const char *path)
{
	char buf[32];
	int fd, n;

	for (int attempt = 0; attempt < 2; attempt++) {
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd >= 0 || errno != EEXIST)
			break;
		int old = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		long pid = 0;
		if (old >= 0) {
			ssize_t k = read(old, buf, sizeof(buf) - 1);
			buf[k > 0 ? k : 0] = '\0';
			pid = atol(buf);
			close(old);
		}
		if (pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM))
			die(EXIT_RUNTIME, "%s: tlsentry (pid %ld) is already running", path, pid);
		if (unlink(path) != 0)		/* stale: its process is gone */
			break;
	}
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (fd < 0 || write(fd, buf, (size_t)n) != n || close(fd) != 0)
		die(EXIT_RUNTIME, "%s: cannot write the pid file: %s", path,
		    errno == ELOOP ? "it is a symbolic link" : strerror(errno));
	pidfile_path = path;
	pidfile_owner = getpid();
	atexit(remove_pidfile);		/* also on die() */
}

/* --- counters ------------------------------------------------------------------- */

static double
seconds_between(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

static int64_t
wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
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

/* Packets read from every source so far (filtered out ones included). */
static uint64_t
packets_read(const struct run *r)
{
	uint64_t n = 0;

	for (size_t i = 0; i < r->n_srcs; i++)
		n += r->srcs[i].n_read;
	return n;
}

static uint64_t
packets_filtered_out(const struct run *r)
{
	uint64_t n = 0;

	for (size_t i = 0; i < r->n_srcs; i++)
		n += r->srcs[i].n_filtered_out;
	return n;
}

/* The counters of a metric event, grouped as they appear under tlsentry.stats. */
static void
emit_metric(struct run *r)
{
	struct engine_stats st;
	struct ev_iface ifs[IFACES_MAX];
	size_t n_ifs = 0;

	struct ev_counts evc;

	wk_stats(r->engine, &st);
	ev_out_counts(r->out, &evc);
	const struct ev_counter c[] = {
		{ NULL, "packets", packets_read(r) },
		{ NULL, "bytes", st.n_bytes },
		{ NULL, "handshakes", st.n_handshakes },
		{ NULL, "handshakes_with_certificate", st.n_with_cert },
		{ NULL, "certificates", st.n_certs },
		{ NULL, "alerts", st.n_alerts },
		{ NULL, "duplicate_handshakes", st.n_duplicates },
		{ "events", "written", evc.n_events },
		{ "events", "write_errors", evc.n_write_errors },
		{ "events", "reopen_failures", evc.n_reopen_failures },
		{ "events", "too_large", evc.n_too_large },
		{ "flows", "active", st.flows.n_active },
		{ "flows", "peak", st.flows.n_peak },
		{ "flows", "created", st.flows.n_created },
		{ "flows", "with_tls", st.n_tls_flows },
		{ "flows", "udp", st.n_udp_flows },
		{ "flows", "udp_with_handshake", st.n_udp_tls_flows },
		{ "flows", "ended_fin", st.flows.n_ended[FLOW_END_FIN] },
		{ "flows", "ended_rst", st.flows.n_ended[FLOW_END_RST] },
		{ "flows", "ended_idle", st.flows.n_ended[FLOW_END_IDLE] },
		{ "flows", "evicted", st.flows.n_ended[FLOW_END_EVICTED] },
		{ "flows", "reused", st.flows.n_ended[FLOW_END_REUSED] },
		{ "given_up", "missing_segments", st.n_giveup[GIVEUP_GAP] },
		{ "given_up", "malformed", st.n_giveup[GIVEUP_MALFORMED] },
		{ "given_up", "over_size_cap", st.n_giveup[GIVEUP_LIMIT] },
		{ "given_up", "memory_budget", st.n_giveup[GIVEUP_MEMORY] },
		{ "given_up", "flow_table_full", st.n_giveup[GIVEUP_EVICTED] },
		{ "memory", "used", st.mem.used },
		{ "memory", "peak", st.mem.peak },
		{ "memory", "limit", st.mem.limit },
		{ "memory", "refused", st.mem.n_refused },
		{ "packets_not_followed", "udp", st.n_udp_ignored },
		{ "packets_not_followed", "other", st.n_decode[DEC_OTHER] + st.n_decode[DEC_UNKNOWN_LINK] },
		{ "packets_not_followed", "ip_fragments", st.n_decode[DEC_FRAGMENT] },
		{ "packets_not_followed", "malformed", st.n_decode[DEC_BAD] },
		{ "packets_not_followed", "quic_unreadable", st.n_quic_skipped },
		{ "reassembly", "out_of_order_segments", st.reasm.n_ooo_segs },
		{ "reassembly", "outside_window", st.reasm.n_over_window },
		{ "reassembly", "holes", st.reasm.n_gaps },
		{ "reassembly", "rst_fin_ignored", st.n_ctl_ignored },
		{ "certificate_cache", "entries", st.certs.n_cached },
		{ "certificate_cache", "decoded", st.certs.n_decoded },
		{ "certificate_cache", "evicted", st.certs.n_evicted },
		{ "alerts_not_raised", "repeats", st.n_alerts_repeated },
		{ "evidence", "pcaps_written", st.n_evidence_pcaps },
		{ "evidence", "pcaps_failed", st.n_evidence_failed },
	};
	/* then per reason: handshakes with each finding, alerts raised for it */
	struct ev_counter all[sizeof(c) / sizeof(c[0]) + (size_t)2 * R_N];
	size_t n = sizeof(c) / sizeof(c[0]);

	memcpy(all, c, sizeof(c));
	for (int i = 0; i < R_N; i++)
		all[n++] = (struct ev_counter){ "findings", rules_reason_str((enum rule_reason)i),
		    st.n_finding[i] };
	for (int i = 0; i < R_N; i++)
		all[n++] = (struct ev_counter){ "alerts_by_reason", rules_reason_str((enum rule_reason)i),
		    st.n_alert_reason[i] };
	for (size_t i = 0; i < r->n_srcs && n_ifs < IFACES_MAX; i++) {
		struct ev_iface *f = &ifs[n_ifs];
		if (cap_kernel_stats(&r->srcs[i], &f->received, &f->dropped, &f->if_dropped)) {
			f->name = r->srcs[i].name;
			n_ifs++;
		}
	}
	struct ev_output_stats outs[SYSLOG_OUTPUTS_MAX];
	for (size_t i = 0; i < r->n_syslogs; i++)
		syslog_stats(r->syslogs[i], &outs[i]);
	struct ev_metric m = { .ts_us = wall_us(), .c = all, .n = n,
	    .ifs = ifs, .n_ifs = n_ifs, .outs = outs, .n_outs = r->n_syslogs };
	ev_emit_metric(r->out, &m);
}

/* --- between packets: reloads, metrics, progress ---------------------------------- */

static void
reload(struct run *r)
{
	char err[512];
	struct rules *fresh;

	reload_requested = 0;
	if (r->o->rules_path != NULL) {
		fresh = rules_load(r->o->rules_path, stderr, err, sizeof(err));
		if (fresh == NULL) {
			log_error("reload: %s; keeping the rules in use", err);
		} else {
			wk_set_rules(r->engine, fresh);
			rules_free(r->rules);
			r->rules = fresh;
			if (!r->o->quiet)
				log_info("reload: %s: %zu %s", r->o->rules_path, rules_count(fresh),
				    rules_count(fresh) == 1 ? "block" : "blocks");
		}
	}
	if (ev_out_reopen(r->out, err, sizeof(err)) != 0)
		log_error("reload: %s", err);
}

/* --state: written at exit and, so a crash loses little, every few minutes. */
static int
save_state(struct run *r, bool quiet)
{
	char err[512];

	clock_gettime(CLOCK_MONOTONIC, &r->last_state_save);
	if (tofu_save(r->tofu, r->o->state_path, err, sizeof(err)) != 0) {
		if (!quiet)
			log_error("--state: %s", err);
		return -1;
	}
	return 0;
}

static void
housekeeping(struct run *r)
{
	struct timespec now;

	if (reload_requested)
		reload(r);
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (r->tofu != NULL && seconds_between(&r->last_state_save, &now) >= STATE_SAVE_INTERVAL)
		(void)save_state(r, false);
	if (r->o->stats_interval == 0)
		return;
	if (seconds_between(&r->last_stats, &now) >= r->o->stats_interval) {
		r->last_stats = now;
		emit_metric(r);
	}
}

/* Called between packet batches of a file: a progress line, twice a second at most. */
static void
on_tick(void *ctx, const struct cap_src *src)
{
	struct run *r = ctx;
	struct engine_stats st;
	struct timespec now;
	char rate[32], done[32];
	int64_t off;
	double secs;

	housekeeping(r);
	if (!r->progress)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (seconds_between(&r->last_tick, &now) < 0.5)
		return;
	r->last_tick = now;
	wk_stats(r->engine, &st);
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

	wk_packet(r->engine, r->src->linktype, h, p);
}

/* --- sources ------------------------------------------------------------------- */

/*
 * Open every file (and check each is a capture) or interface before reading
 * any: a typo fails fast, and nothing needs opening after privileges drop.
 */
static void
open_sources(struct run *r)
{
	const struct opts *o = r->o;
	char err[512], warn[512];
	int code;

	for (size_t i = 0; i < o->n_inputs; i++, r->n_srcs++)
		if (cap_open_file(&r->srcs[i], o->inputs[i], o->bpf, err, sizeof(err), &code) != 0)
			die(code, "%s", err);
	if (o->n_ifaces > 0 && o->live.snaplen != 0 && o->live.snaplen < 1600)
		log_warn("--snaplen %d cuts full-size frames: handshakes crossing them will "
		    "be reported incomplete", o->live.snaplen);
	for (size_t i = 0; i < o->n_ifaces; i++, r->n_srcs++) {
		if (cap_open_live(&r->srcs[i], o->ifaces[i], o->bpf, &o->live, err, sizeof(err),
		    &code, warn, sizeof(warn)) != 0)
			die(code, "%s", err);
		if (warn[0] != '\0')
			log_warn("%s", warn);
	}
}

static void
read_file(struct run *r, struct cap_src *src)
{
	struct engine_stats before;
	char err[512];
	enum cap_status st;

	wk_stats(r->engine, &before);
	r->bytes_before = before.n_bytes;
	clock_gettime(CLOCK_MONOTONIC, &r->start);
	r->last_tick = r->start;
	r->src = src;
	wk_set_source(r->engine, strcmp(src->name, "(stdin)") == 0 ? NULL : src->name);
	st = cap_run(src, on_packet, r, on_tick, err, sizeof(err));
	if (r->progress_shown) {
		fputs("\r\x1b[K", stderr);
		r->progress_shown = false;
	}
	if (st == CAP_TRUNCATED)
		log_warn("%s: capture cut short or damaged after %llu packets (%s); "
		    "kept what was read", src->name, (unsigned long long)src->n_read, err);
	r->src = NULL;
	cap_close(src);
}

static int64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/*
 * Live: poll every interface, hand over what is waiting, and once a second
 * let time pass in the engine.  Idle time is measured on the monotonic
 * clock: a wall-clock step (NTP's first sync) must not end every flow.
 */
static void
read_live(struct run *r)
{
	struct pollfd pfd[IFACES_MAX];
	char err[512];
	int64_t last_tick = mono_us();
	int64_t until = r->o->duration_s > 0 ? last_tick + (int64_t)r->o->duration_s * 1000000 : 0;

	wk_tick(r->engine, last_tick);

	for (size_t i = 0; i < r->n_srcs; i++) {
		pfd[i].fd = cap_fd(&r->srcs[i]);
		pfd[i].events = POLLIN;
	}
	while (!stop_requested) {
		int n = poll(pfd, r->n_srcs, 1000);
		if (n < 0 && errno != EINTR) {
			log_error("poll: %s", strerror(errno));
			r->rc = EXIT_RUNTIME;
			break;
		}
		for (size_t i = 0; i < r->n_srcs && n > 0; i++) {
			if (pfd[i].revents == 0)
				continue;
			r->src = &r->srcs[i];
			wk_set_source(r->engine, r->srcs[i].name);
			if (cap_dispatch(&r->srcs[i], on_packet, r, err, sizeof(err)) < 0) {
				log_error("%s", err);
				r->rc = EXIT_RUNTIME;
				stop_requested = 1;
			}
			r->src = NULL;
		}
		wk_flush(r->engine);	/* --workers: no packet waits for a batch to fill */
		housekeeping(r);
		if (mono_us() - last_tick >= 1000000) {
			last_tick = mono_us();
			wk_tick(r->engine, last_tick);
		}
		if (until != 0 && mono_us() >= until)
			break;
	}
}

/* --- the end ----------------------------------------------------------------------- */

static const char *
plural(uint64_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

#define U(x) ((unsigned long long)(x))

/* "findings: 3 untrusted-chain (2 alerts), 1 weak-signature; 1 repeated alert not raised" */
static void
summary_findings(const struct engine_stats *st)
{
	bool any = false;

	for (int i = 0; i < R_N; i++) {
		if (st->n_finding[i] == 0)
			continue;
		fprintf(stderr, "%s %llu %s", any ? "," : "tlsentry: findings:", U(st->n_finding[i]),
		    rules_reason_str((enum rule_reason)i));
		if (st->n_alert_reason[i] > 0)
			fprintf(stderr, " (%llu %s)", U(st->n_alert_reason[i]),
			    plural(st->n_alert_reason[i], "alert", "alerts"));
		any = true;
	}
	if (any && st->n_alerts_repeated > 0)
		fprintf(stderr, "; %llu repeated %s not raised (--alert-interval)",
		    U(st->n_alerts_repeated), plural(st->n_alerts_repeated, "alert", "alerts"));
	if (any)
		fputc('\n', stderr);
}

/* What --store-certs, --evidence and --state wrote, and what the bounds refused. */
static void
summary_evidence(const struct run *r, const struct engine_stats *st)
{
	const struct evstore *stores[] = { r->cert_store, r->evidence };
	const char *what[] = { "certificates stored", "handshake captures kept" };

	for (size_t i = 0; i < 2; i++) {
		struct evstore_stats es;
		if (stores[i] == NULL)
			continue;
		evstore_stats(stores[i], &es);
		fprintf(stderr, "tlsentry: %s: %llu %s (%llu already there), %llu failed, %llu "
		    "oldest removed (--evidence-max); %llu files, %llu bytes now\n",
		    evstore_dir(stores[i]), U(es.n_written), what[i], U(es.n_present),
		    U(es.n_failed), U(es.n_removed), U(es.n_files), U(es.n_bytes));
	}
	if (r->tofu != NULL) {
		struct tofu_stats ts;
		tofu_stats(r->tofu, &ts);
		fprintf(stderr, "tlsentry: --state %s: %llu %s remembered, %llu new %s", r->o->state_path,
		    U(ts.n_domains), plural(ts.n_domains, "domain", "domains"), U(ts.n_new_issuers),
		    plural(ts.n_new_issuers, "issuer", "issuers"));
		if (ts.n_refused > 0)
			fprintf(stderr, ", %llu not remembered (over %d domains or %d issuers per "
			    "domain)", U(ts.n_refused), LEARN_DOMAINS_MAX, LEARN_PER_DOMAIN_MAX);
		fputc('\n', stderr);
	}
	(void)st;
}

static void
summary(const struct run *r, const struct engine_stats *st, double secs)
{
	const struct opts *o = r->o;
	const struct ev_out *out = r->out;
	char bytes[32];
	uint64_t gaveup = 0, n_tcp, n_read = packets_read(r), n_out = packets_filtered_out(r);
	size_t n_src = o->n_inputs + o->n_ifaces;

	for (int i = 0; i < GIVEUP_N; i++)
		gaveup += st->n_giveup[i];
	human_bytes((double)st->n_bytes, bytes, sizeof(bytes));
	fprintf(stderr, "tlsentry: %sread %llu %s from %zu %s in %.2f s",
	    stop_requested && o->n_inputs > 0 ? "interrupted: " : "", U(n_read),
	    plural(n_read, "packet", "packets"), n_src,
	    o->n_ifaces > 0 ? (n_src == 1 ? "interface" : "interfaces") :
	    (n_src == 1 ? "file" : "files"), secs);
	if (n_out > 0)
		fprintf(stderr, ", %llu matched the filter", U(n_read - n_out));
	n_tcp = st->flows.n_created - st->n_udp_flows;
	fprintf(stderr, " (%s); %llu TCP %s, %llu with TLS", bytes, U(n_tcp),
	    plural(n_tcp, "flow", "flows"), U(st->n_tls_flows));
	if (st->n_udp_flows > 0)
		fprintf(stderr, "; %llu UDP %s, %llu with DTLS or QUIC", U(st->n_udp_flows),
		    plural(st->n_udp_flows, "flow", "flows"), U(st->n_udp_tls_flows));
	fputc('\n', stderr);
	if (st->n_duplicates > 0)
		fprintf(stderr, "tlsentry: %llu duplicate %s not reported again (seen on more than "
		    "one interface, or twice in the capture)\n", U(st->n_duplicates),
		    plural(st->n_duplicates, "handshake", "handshakes"));
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
	fprintf(stderr, "tlsentry: flows ended: %llu FIN, %llu RST, %llu idle, %llu evicted "
	    "(table full), %llu reused, %llu open at the end; peak %llu at once, "
	    "peak buffers %llu kB\n",
	    U(st->flows.n_ended[FLOW_END_FIN]), U(st->flows.n_ended[FLOW_END_RST]),
	    U(st->flows.n_ended[FLOW_END_IDLE]), U(st->flows.n_ended[FLOW_END_EVICTED]),
	    U(st->flows.n_ended[FLOW_END_REUSED]), U(st->flows.n_ended[FLOW_END_EOF]),
	    U(st->flows.n_peak), U(st->mem.peak / 1024));
	fprintf(stderr, "tlsentry: packets not followed: %llu UDP, %llu other protocols, "
	    "%llu IP fragments, %llu malformed\n",
	    U(st->n_udp_ignored), U(st->n_decode[DEC_OTHER] + st->n_decode[DEC_UNKNOWN_LINK]),
	    U(st->n_decode[DEC_FRAGMENT]), U(st->n_decode[DEC_BAD]));
	for (size_t i = 0; i < r->n_srcs; i++) {
		uint64_t recv, drop, ifdrop;
		if (cap_kernel_stats(&r->srcs[i], &recv, &drop, &ifdrop))
			fprintf(stderr, "tlsentry: %s: the kernel received %llu packets, dropped "
			    "%llu (buffer full), the interface dropped %llu\n", r->srcs[i].name,
			    U(recv), U(drop), U(ifdrop));
	}
	summary_findings(st);
	summary_evidence(r, st);
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

static uint64_t
kinds(const uint64_t *n)
{
	return n[EV_KIND_HANDSHAKE] + n[EV_KIND_ALERT] + n[EV_KIND_METRIC];
}

/*
 * One line per collector: what it took and what it may not have.  Returns
 * true if an alert was lost for sure (dropped, or still queued at the end).
 */
static bool
summary_outputs(const struct run *r, bool print)
{
	struct ev_output_stats st;
	bool lost = false;

	for (size_t i = 0; i < r->n_syslogs; i++) {
		syslog_stats(r->syslogs[i], &st);
		if (st.dropped[EV_KIND_ALERT] + st.undelivered[EV_KIND_ALERT] > 0)
			lost = true;
		if (!print)
			continue;
		fprintf(stderr, "tlsentry: syslog %s (%s): %llu sent, %llu %s (%llu %s); "
		    "dropped, queue full: %llu handshakes, %llu alerts, %llu metrics; "
		    "%llu truncated; %llu possibly lost in broken connections (%llu alerts); "
		    "%llu not delivered at the end (%llu alerts)\n",
		    st.name, st.format, U(st.sent), U(st.connects),
		    plural(st.connects, "connection", "connections"), U(st.connect_failures),
		    plural(st.connect_failures, "failed attempt", "failed attempts"),
		    U(st.dropped[EV_KIND_HANDSHAKE]), U(st.dropped[EV_KIND_ALERT]),
		    U(st.dropped[EV_KIND_METRIC]), U(st.truncated), U(kinds(st.unconfirmed)),
		    U(st.unconfirmed[EV_KIND_ALERT]), U(kinds(st.undelivered)),
		    U(st.undelivered[EV_KIND_ALERT]));
	}
	return lost;
}

/* The sources, as the report's header names them. */
static void
sources_text(const struct opts *o, char *out, size_t outsz)
{
	size_t n = 0;
	const char *const *v = o->n_inputs > 0 ? o->inputs : o->ifaces;
	size_t nv = o->n_inputs > 0 ? o->n_inputs : o->n_ifaces;

	out[0] = '\0';
	for (size_t i = 0; i < nv && n + 1 < outsz; i++) {
		int k = snprintf(out + n, outsz - n, "%s%s", i ? ", " : "",
		    strcmp(v[i], "-") == 0 ? "(standard input)" : v[i]);
		if (k < 0)
			break;
		n += (size_t)k;
	}
}

/* Open every collector and the report (as root: CA files, DNS). */
static void
open_outputs(struct run *r, struct ev_out *out)
{
	const struct opts *o = r->o;
	char err[512];

	for (size_t i = 0; i < o->n_syslog; i++) {
		struct syslog_opts so = o->syslog;
		so.fmt = o->syslog_fmts[i];
		r->syslogs[i] = syslog_open(o->syslog_urls[i], &so, err, sizeof(err));
		if (r->syslogs[i] == NULL)
			die(EXIT_USAGE, "--syslog %s", err);
		r->n_syslogs++;
		if (ev_out_add_sink(out, &(struct ev_sink){ syslog_deliver, r->syslogs[i] }) != 0)
			die(EXIT_USAGE, "too many outputs");
	}
	if (o->report_path != NULL) {
		r->report = report_open(o->report_path, err, sizeof(err));
		if (r->report == NULL)
			die(EXIT_RUNTIME, "%s", err);
		if (ev_out_add_sink(out, &(struct ev_sink){ report_deliver, r->report }) != 0)
			die(EXIT_USAGE, "too many outputs");
	}
}

static void
start_outputs(struct run *r)
{
	char err[512];

	for (size_t i = 0; i < r->n_syslogs; i++)
		if (syslog_start(r->syslogs[i], err, sizeof(err)) != 0)
			die(EXIT_RUNTIME, "%s", err);
}

/* After the last event: collectors get their bounded wait, the report is written. */
static void
finish_outputs(struct run *r, const struct engine_stats *st, double secs)
{
	char err[512], sources[1024];

	if (r->n_syslogs > 0) {
		struct ev_output_stats q;
		uint64_t queued = 0;
		for (size_t i = 0; i < r->n_syslogs; i++) {
			syslog_stats(r->syslogs[i], &q);
			queued += q.queued;
		}
		if (queued > 0 && !r->o->quiet)
			log_info("delivering %llu queued %s to the collectors (at most %u s)",
			    U(queued), plural(queued, "message", "messages"), r->o->flush_timeout_s);
		syslog_finish(r->syslogs, r->n_syslogs, r->o->flush_timeout_s * 1000);
	}
	if (r->report != NULL) {
		struct ev_output_stats outs[SYSLOG_OUTPUTS_MAX];
		struct report_run run = { .sources = sources, .seconds = secs,
		    .packets = packets_read(r), .handshakes = st->n_handshakes,
		    .alerts = st->n_alerts, .interrupted = stop_requested != 0, .outs = outs,
		    .n_outs = r->n_syslogs };
		for (size_t i = 0; i < r->n_syslogs; i++)
			syslog_stats(r->syslogs[i], &outs[i]);
		sources_text(r->o, sources, sizeof(sources));
		if (report_write(r->report, &run, err, sizeof(err)) != 0) {
			log_error("%s", err);
			r->rc = EXIT_RUNTIME;
		}
	}
}

/* --check-rules FILE: errors as usual, else what each block watches. */
static int
check_rules(const char *path)
{
	char err[512];
	struct rules *rs = rules_load(path, stderr, err, sizeof(err));

	if (rs == NULL) {
		log_error("%s", err);
		return EXIT_RUNTIME;
	}
	printf("%s: %zu watched %s\n", path, rules_count(rs), rules_count(rs) == 1 ? "block" : "blocks");
	rules_describe(rs, stdout);
	rules_free(rs);
	return EXIT_OK;
}

/* learn: where the rules go; opened before privileges drop. */
static void
open_learning(struct run *r, struct opts *o)
{
	if (!regdomain_init())
		die(EXIT_RUNTIME, "cannot load a public suffix list");
	if (o->learn) {
		if ((r->learn = learn_new()) == NULL)
			die(EXIT_RUNTIME, "out of memory");
		r->learn_fp = o->learn_out != NULL ? fopen(o->learn_out, "w") : stdout;
		if (r->learn_fp == NULL)
			die(EXIT_RUNTIME, "%s: %s", o->learn_out, strerror(errno));
		o->cfg.learn = r->learn;
		o->out_path = "/dev/null";	/* learning writes no events */
	}
	if (o->state_path != NULL) {
		char err[512];
		if ((r->tofu = tofu_load(o->state_path, err, sizeof(err))) == NULL)
			die(EXIT_RUNTIME, "--state %s", err);
		o->cfg.tofu = r->tofu;
	}
}

/* --store-certs, --evidence: made (for the -Z user) before privileges drop. */
static void
open_evidence(struct run *r, struct opts *o, const struct target_user *t)
{
	char err[512];
	uid_t uid = t->change ? t->uid : (uid_t)-1;
	gid_t gid = t->change ? t->gid : (gid_t)-1;

	if (o->cert_dir != NULL) {
		r->cert_store = evstore_open(o->cert_dir, o->evidence_files, o->evidence_bytes, uid,
		    gid, err, sizeof(err));
		if (r->cert_store == NULL)
			die(EXIT_RUNTIME, "--store-certs %s", err);
		o->cfg.cert_store = r->cert_store;
	}
	if (o->evidence_dir != NULL) {
		r->evidence = evstore_open(o->evidence_dir, o->evidence_files, o->evidence_bytes, uid,
		    gid, err, sizeof(err));
		if (r->evidence == NULL)
			die(EXIT_RUNTIME, "--evidence %s", err);
		o->cfg.evidence = r->evidence;
	}
}

/* After the drop: can we still write there? */
static void
check_evidence_writable(const struct run *r)
{
	const struct evstore *st[] = { r->cert_store, r->evidence };
	const char *opt[] = { "--store-certs", "--evidence" };

	for (size_t i = 0; i < 2; i++)
		if (st[i] != NULL && !evstore_writable(st[i]))
			die(EXIT_RUNTIME, "%s %s: not writable by uid %ld: make it the -Z user's",
			    opt[i], evstore_dir(st[i]), (long)getuid());
}

/* learn: write the rules; a line on what they hold. */
static void
finish_learning(struct run *r)
{
	const struct opts *o = r->o;
	char sources[1024];
	size_t n = 0;
	struct learn_stats ls;
	bool failed;

	for (size_t i = 0; i < o->n_inputs && n < sizeof(sources); i++)
		n += (size_t)snprintf(sources + n, sizeof(sources) - n, "%s%s", i ? ", " : "",
		    o->inputs[i]);
	for (size_t i = 0; i < o->n_ifaces && n < sizeof(sources); i++)
		n += (size_t)snprintf(sources + n, sizeof(sources) - n, "%slive capture on %s",
		    i ? ", " : "", o->ifaces[i]);
	learn_write(r->learn, r->learn_fp, sources);
	learn_stats(r->learn, &ls);
	if (r->learn_fp == stdout)
		failed = fflush(stdout) != 0;
	else
		failed = fclose(r->learn_fp) != 0;
	if (failed) {
		log_error("%s: %s", o->learn_out ? o->learn_out : "standard output", strerror(errno));
		r->rc = EXIT_RUNTIME;
	} else if (!o->quiet) {
		log_info("learned %llu registered %s from %llu %s (%llu validated)%s%s",
		    U(ls.n_domains), plural(ls.n_domains, "domain", "domains"), U(ls.n_samples),
		    plural(ls.n_samples, "handshake", "handshakes"), U(ls.n_validated),
		    o->learn_out ? ": " : "", o->learn_out ? o->learn_out : "");
	}
	learn_free(r->learn);
}

int
main(int argc, char **argv)
{
	static struct run r;
	static struct ev_out out;		/* r points to it until the end */
	struct opts o;
	struct engine_stats st;
	struct target_user target;
	struct timespec t0, t1;
	char err[512];

	parse_args(argc, argv, &o);
	if (o.check_rules != NULL)
		return check_rules(o.check_rules);
	if (siphash_seed() != 0)
		die(EXIT_RUNTIME, "cannot seed the hash key: %s", strerror(errno));
	r.o = &o;
	the_run = &r;
	catch_signals();			/* before the pid file invites signals */
	resolve_user(o.user, &target);
	if (o.rules_path != NULL) {
		r.rules = rules_load(o.rules_path, stderr, err, sizeof(err));
		if (r.rules == NULL)
			die(EXIT_RUNTIME, "%s", err);
	}
	r.trust = trust_new(o.no_default_ca, o.ca_bundles, o.n_ca_bundles, o.ca_path, err, sizeof(err));
	if (r.trust == NULL)
		die(EXIT_RUNTIME, "%s", err);
	if (!trust_usable(r.trust) && !o.quiet && !o.no_default_ca)	/* not asked for */
		log_warn("no CA certificate to trust (install ca-certificates, or give --ca-bundle): "
		    "certificate chains are not validated");
	o.cfg.trust = r.trust;
	if (o.learn || o.state_path != NULL)
		open_learning(&r, &o);
	open_evidence(&r, &o, &target);
	open_sources(&r);
	if (ev_out_open(&out, o.out_path, o.n_ifaces > 0, err, sizeof(err)) != 0)
		die(EXIT_RUNTIME, "%s", err);
	r.out = &out;
	ev_out_set_format(&out, o.no_stdout ? EV_FMT_N : o.fmt == EV_FMT_N ? EV_FMT_JSON : o.fmt,
	    o.out_path == NULL && isatty(STDOUT_FILENO));
	open_outputs(&r, &out);
	if (o.pidfile != NULL)
		write_pidfile(o.pidfile);
	drop_privileges(&target);
	check_evidence_writable(&r);
	if (r.tofu != NULL && save_state(&r, true) != 0)	/* can we write it as this user? */
		die(EXIT_RUNTIME, "--state %s: cannot write it (%s) as uid %ld: its directory must "
		    "be writable by the -Z user", o.state_path, strerror(errno), (long)getuid());

	r.progress = !o.quiet && o.n_ifaces == 0 && isatty(STDERR_FILENO);
	o.cfg.live_clock = o.n_ifaces > 0;
	r.engine = wk_new(o.workers ? o.workers : 1, &o.cfg, r.rules, &out);
	if (r.engine == NULL)
		die(EXIT_RUNTIME, "out of memory");
	start_outputs(&r);			/* threads: after the drop, before the filter */
	enter_sandbox(&o);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r.last_stats = t0;
	if (o.n_ifaces > 0) {
		if (!o.quiet)
			log_info("capturing on %zu %s (%s%s), events to %s%s, running as uid %ld",
			    o.n_ifaces, o.n_ifaces == 1 ? "interface" : "interfaces", o.ifaces[0],
			    o.n_ifaces > 1 ? ", ..." : "", o.no_stdout ? "" : o.out_path ?
			    o.out_path : "stdout", o.n_syslog == 0 ? "" : o.no_stdout ?
			    "syslog" : " and syslog", (long)getuid());
		read_live(&r);
	} else {
		for (size_t i = 0; i < r.n_srcs && !stop_requested; i++)
			read_file(&r, &r.srcs[i]);
	}
	wk_finish(r.engine);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (o.stats_interval > 0)
		emit_metric(&r);		/* the final counts */
	wk_stats(r.engine, &st);
	finish_outputs(&r, &st, seconds_between(&t0, &t1));
	if (!o.quiet)
		summary(&r, &st, seconds_between(&t0, &t1));
	if (summary_outputs(&r, !o.quiet)) {
		log_error("alerts were not delivered to every collector (see the counts above)");
		r.rc = EXIT_RUNTIME;
	}
	for (size_t i = 0; i < r.n_srcs; i++)
		cap_close(&r.srcs[i]);
	wk_free(r.engine);
	if (r.learn != NULL)
		finish_learning(&r);
	if (r.tofu != NULL && save_state(&r, false) != 0)
		r.rc = EXIT_RUNTIME;
	tofu_free(r.tofu);
	evstore_free(r.cert_store);
	evstore_free(r.evidence);
	if (ev_out_close(&out) != 0) {
		log_error("%s: %llu failed %s: events were lost (first error: %s)",
		    o.out_path ? o.out_path : "standard output", (unsigned long long)out.n.n_write_errors,
		    out.n.n_write_errors == 1 ? "write" : "writes", strerror(out.first_errno));
		r.rc = EXIT_RUNTIME;
	}
	for (size_t i = 0; i < r.n_syslogs; i++)
		syslog_free(r.syslogs[i]);
	report_free(r.report);
	rules_free(r.rules);
	trust_free(r.trust);
	return r.rc;
}
