/*
 * capture.c: capture files through libpcap.
 *
 * Distrusts: the file (libpcap checks its framing; a damaged or cut record
 * ends the read with a warning, keeping what was read).  Owns: the pcap
 * handle, its FILE and the stdio buffer.
 */
#include <errno.h>
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
