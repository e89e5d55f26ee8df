/*
 * capture.h: packet sources.  Opens capture files (pcap or pcapng, or
 * standard input for "-"), applies a BPF filter, and runs a loop that hands
 * each packet to a callback.  Knows nothing of what the packets carry.
 */
#ifndef TLSENTRY_CAPTURE_H
#define TLSENTRY_CAPTURE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <pcap/pcap.h>

#ifndef CAP_READ_BUF
#define CAP_READ_BUF (1 << 20)	/* stdio buffer for capture files */
#endif

struct cap_src {
	pcap_t *pcap;
	FILE *fp;		/* owned by pcap once opened */
	const char *name;	/* as given on the command line; borrowed */
	int linktype;
	int64_t size;		/* file size in bytes; -1 when unknown (a pipe) */
	char *iobuf;		/* stdio buffer; owned */
	bool has_filter;
	struct bpf_program filter;	/* applied by cap_run(), so every packet is counted */
	uint64_t n_read;	/* packets read from the file */
	uint64_t n_filtered_out;	/* of which the filter rejected */
};

/* One packet: header and bytes are valid only during the call. */
typedef void (*cap_packet_cb)(void *ctx, const struct pcap_pkthdr *h, const uint8_t *p);

enum cap_status {
	CAP_OK = 0,		/* read to the end */
	CAP_TRUNCATED,		/* the file ends inside a record, or a record is damaged */
	CAP_STOPPED,		/* cap_stop() was called */
};

/*
 * Open a capture file ("-" = standard input) and compile the filter (NULL or
 * "" for none).  On failure returns -1 with a one-line reason in err, which
 * names the file; *exit_code is 2 for a bad filter (a usage error) and 1
 * otherwise.
 */
int cap_open_file(struct cap_src *src, const char *path, const char *bpf,
    char *err, size_t errsz, int *exit_code);

/*
 * Read packets until the end of the file, calling cb for each.  Every
 * batch of packets, tick (if not NULL) is called so the caller can show
 * progress.  On CAP_TRUNCATED, err holds libpcap's reason.
 */
enum cap_status cap_run(struct cap_src *src, cap_packet_cb cb, void *ctx,
    void (*tick)(void *ctx, const struct cap_src *src), char *err, size_t errsz);

/* Ask cap_run() to return after the current packet (signal-safe). */
void cap_stop(struct cap_src *src);

/* Bytes of the file consumed so far; -1 when unknown. */
int64_t cap_offset(const struct cap_src *src);

/* Close and free; a zeroed or already closed source is a no-op. */
void cap_close(struct cap_src *src);

#endif /* TLSENTRY_CAPTURE_H */
