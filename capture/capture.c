/*
 * capture.c: capture files through libpcap.
 *
 * Distrusts: the file (libpcap checks its framing; a damaged or cut record
 * ends the read with a warning, keeping what was read).  Owns: the pcap
 * handle, its FILE and the stdio buffer.
 */
#include <errno.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "capture.h"
#include "decode.h"

struct run_ctx {
	struct cap_src *src;
	cap_packet_cb cb;
	void *ctx;
};

static void
on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct run_ctx *rc = (struct run_ctx *)user;

	rc->src->n_read++;
	if (rc->src->has_filter && pcap_offline_filter(&rc->src->filter, h, bytes) == 0) {
		rc->src->n_filtered_out++;
		return;
	}
	rc->cb(rc->ctx, h, bytes);
}

/* libpcap's open errors, said the way a user thinks of them. */
static void
open_error(const char *path, const char *pcap_err, char *err, size_t errsz)
{
	if (strstr(pcap_err, "unknown file format") != NULL)
		snprintf(err, errsz, "%s: not a capture file (neither pcap nor pcapng)", path);
	else if (strstr(pcap_err, "truncated dump file") != NULL ||
	    strstr(pcap_err, "only got") != NULL)
		snprintf(err, errsz, "%s: not a capture file (too short for a file header)", path);
	else
		snprintf(err, errsz, "%s: cannot read capture: %s", path, pcap_err);
}

int
cap_open_file(struct cap_src *src, const char *path, const char *bpf,
    char *err, size_t errsz, int *exit_code)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	struct stat sb;
	bool is_stdin = strcmp(path, "-") == 0;

	memset(src, 0, sizeof(*src));
	src->name = is_stdin ? "(stdin)" : path;
	src->size = -1;
	*exit_code = 1;
	src->fp = is_stdin ? stdin : fopen(path, "rb");
	if (src->fp == NULL) {
		snprintf(err, errsz, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fileno(src->fp), &sb) == 0) {
		if (S_ISDIR(sb.st_mode)) {
			snprintf(err, errsz, "%s: is a directory, not a capture file", path);
			goto fail;
		}
		if (S_ISREG(sb.st_mode))
			src->size = (int64_t)sb.st_size;
	}
	src->iobuf = malloc(CAP_READ_BUF);
	if (src->iobuf != NULL)
		setvbuf(src->fp, src->iobuf, _IOFBF, CAP_READ_BUF);
	/* only the reading thread touches this stream: no lock per fread (two a packet) */
	(void)__fsetlocking(src->fp, FSETLOCKING_BYCALLER);
	src->pcap = pcap_fopen_offline_with_tstamp_precision(src->fp,
	    PCAP_TSTAMP_PRECISION_MICRO, errbuf);
	if (src->pcap == NULL) {
		if (errno == EISDIR)
			snprintf(err, errsz, "%s: is a directory, not a capture file", path);
		else
			open_error(src->name, errbuf, err, errsz);
		goto fail;
	}
	src->linktype = pcap_datalink(src->pcap);
	if (!dec_linktype_ok(src->linktype)) {
		const char *n = pcap_datalink_val_to_name(src->linktype);
		snprintf(err, errsz, "%s: link type %d (%s) is not supported", src->name,
		    src->linktype, n ? n : "unknown");
		goto fail;
	}
	/* the filter runs in cap_run(), not in libpcap, so packets it rejects
	 * are still counted: a filter that hides tunnelled traffic shows */
	if (bpf != NULL && bpf[0] != '\0') {
		if (pcap_compile(src->pcap, &src->filter, bpf, 1, PCAP_NETMASK_UNKNOWN) != 0) {
			snprintf(err, errsz, "bad filter '%s': %s", bpf, pcap_geterr(src->pcap));
			*exit_code = 2;
			goto fail;
		}
		src->has_filter = true;
	}
	return 0;
fail:
	cap_close(src);
	return -1;
}

/* Map pcap_activate() failures to what a user can act on. */
static void
activate_error(const char *iface, int rc, pcap_t *p, char *err, size_t errsz)
{
	switch (rc) {
	case PCAP_ERROR_NO_SUCH_DEVICE:
		snprintf(err, errsz, "%s: no such interface", iface);
		break;
	case PCAP_ERROR_PERM_DENIED:
		snprintf(err, errsz, "%s: permission denied: capturing needs root or the "
		    "CAP_NET_RAW and CAP_NET_ADMIN capabilities", iface);
		break;
	case PCAP_ERROR_IFACE_NOT_UP:
		snprintf(err, errsz, "%s: interface is down", iface);
		break;
	default:
		snprintf(err, errsz, "%s: cannot capture: %s", iface, pcap_geterr(p));
		break;
	}
}

int
cap_open_live(struct cap_src *src, const char *iface, const char *bpf,
    const struct cap_live_opts *o, char *err, size_t errsz, int *exit_code,
    char *warn, size_t warnsz)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	struct bpf_program prog;
	int rc;

	memset(src, 0, sizeof(*src));
	src->name = iface;
	src->size = -1;
	src->is_live = true;
	*exit_code = 1;
	warn[0] = '\0';
	src->pcap = pcap_create(iface, errbuf);
	if (src->pcap == NULL) {
		snprintf(err, errsz, "%s: cannot capture: %s", iface, errbuf);
		return -1;
	}
	if (pcap_set_snaplen(src->pcap, o->snaplen ? o->snaplen : CAP_SNAPLEN) != 0 ||
	    pcap_set_promisc(src->pcap, !o->no_promisc) != 0 ||
	    /* hand packets over at least every CAP_TIMEOUT_MS, so no event waits
	     * for a buffer to fill; unlike immediate mode this keeps libpcap's
	     * TPACKET_V3 ring of --buffer-size, not 512 fixed slots */
	    pcap_set_timeout(src->pcap, CAP_TIMEOUT_MS) != 0 ||
	    pcap_set_buffer_size(src->pcap, o->buffer_bytes ? o->buffer_bytes : CAP_BUFFER) != 0 ||
	    pcap_set_tstamp_precision(src->pcap, PCAP_TSTAMP_PRECISION_MICRO) != 0) {
		snprintf(err, errsz, "%s: cannot set capture options: %s", iface,
		    pcap_geterr(src->pcap));
		goto fail;
	}
	rc = pcap_activate(src->pcap);
	if (rc < 0) {
		activate_error(iface, rc, src->pcap, err, errsz);
		goto fail;
	}
	if (rc > 0)
		snprintf(warn, warnsz, "%s: %s", iface, pcap_geterr(src->pcap));
	src->linktype = pcap_datalink(src->pcap);
	if (!dec_linktype_ok(src->linktype)) {
		const char *n = pcap_datalink_val_to_name(src->linktype);
		snprintf(err, errsz, "%s: link type %d (%s) is not supported", iface,
		    src->linktype, n ? n : "unknown");
		goto fail;
	}
	if (bpf != NULL && bpf[0] != '\0') {	/* live: filter in the kernel */
		if (pcap_compile(src->pcap, &prog, bpf, 1, PCAP_NETMASK_UNKNOWN) != 0) {
			snprintf(err, errsz, "bad filter '%s': %s", bpf, pcap_geterr(src->pcap));
			*exit_code = 2;
			goto fail;
		}
		rc = pcap_setfilter(src->pcap, &prog);
		pcap_freecode(&prog);
		if (rc != 0) {
			snprintf(err, errsz, "%s: cannot set filter: %s", iface,
			    pcap_geterr(src->pcap));
			goto fail;
		}
	}
	if (pcap_setnonblock(src->pcap, 1, errbuf) != 0) {
		snprintf(err, errsz, "%s: %s", iface, errbuf);
		goto fail;
	}
	return 0;
fail:
	cap_close(src);
	return -1;
}

int
cap_fd(const struct cap_src *src)
{
	return src->pcap ? pcap_get_selectable_fd(src->pcap) : -1;
}

int
cap_dispatch(struct cap_src *src, cap_packet_cb cb, void *ctx, char *err, size_t errsz)
{
	struct run_ctx rc = { src, cb, ctx };
	int n = pcap_dispatch(src->pcap, 4096, on_packet, (u_char *)&rc);

	if (n == PCAP_ERROR) {
		snprintf(err, errsz, "%s: %s", src->name, pcap_geterr(src->pcap));
		return -1;
	}
	return n < 0 ? 0 : n;			/* PCAP_ERROR_BREAK: nothing more now */
}

bool
cap_kernel_stats(const struct cap_src *src, uint64_t *received, uint64_t *dropped,
    uint64_t *if_dropped)
{
	struct pcap_stat ps;

	if (!src->is_live || src->pcap == NULL || pcap_stats(src->pcap, &ps) != 0)
		return false;
	*received = ps.ps_recv;
	*dropped = ps.ps_drop;
	*if_dropped = ps.ps_ifdrop;
	return true;
}

enum cap_status
cap_run(struct cap_src *src, cap_packet_cb cb, void *ctx,
    void (*tick)(void *ctx, const struct cap_src *src), char *err, size_t errsz)
{
	struct run_ctx rc = { src, cb, ctx };
	int n;

	for (;;) {
		n = pcap_dispatch(src->pcap, 4096, on_packet, (u_char *)&rc);
		if (tick != NULL)
			tick(ctx, src);
		if (n == 0)
			return CAP_OK;
		if (n == PCAP_ERROR_BREAK)
			return CAP_STOPPED;
		if (n < 0) {
			snprintf(err, errsz, "%s", pcap_geterr(src->pcap));
			return CAP_TRUNCATED;
		}
	}
}

void
cap_stop(struct cap_src *src)
{
	if (src->pcap != NULL)
		pcap_breakloop(src->pcap);
}

int64_t
cap_offset(const struct cap_src *src)
{
	FILE *fp = src->pcap ? pcap_file(src->pcap) : NULL;
	off_t off;

	if (fp == NULL || src->size < 0)
		return -1;
	off = ftello(fp);
	return off < 0 ? -1 : (int64_t)off;
}

void
cap_close(struct cap_src *src)
{
	if (src->has_filter)
		pcap_freecode(&src->filter);
	src->has_filter = false;
	if (src->pcap != NULL)
		pcap_close(src->pcap);		/* closes fp too */
	else if (src->fp != NULL && src->fp != stdin)
		fclose(src->fp);
	free(src->iobuf);
	src->pcap = NULL;
	src->fp = NULL;
	src->iobuf = NULL;
}
