/*
 * capture.h: packet sources.  Opens capture files (pcap or pcapng, or
 * standard input for "-") and live interfaces, applies a BPF filter, and
 * hands each packet to a callback.  Knows nothing of what the packets carry.
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

#ifndef CAP_SNAPLEN
#define CAP_SNAPLEN 262144	/* bytes kept per packet on a live interface */
#endif
#ifndef CAP_BUFFER
#define CAP_BUFFER (32 << 20)	/* kernel capture ring per interface (resident memory) */
#endif
#ifndef CAP_TIMEOUT_MS
#define CAP_TIMEOUT_MS 100	/* longest a packet waits in the kernel ring */
#endif

struct cap_live_opts {
	int snaplen;		/* 0: CAP_SNAPLEN */
	int buffer_bytes;	/* 0: CAP_BUFFER */
	bool no_promisc;
};

struct cap_src {
	pcap_t *pcap;
	bool is_live;
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
 * Open a live interface ("any" for all), non-blocking, packets handed over
 * within CAP_TIMEOUT_MS, with the filter compiled into the kernel.  Same error contract as
 * cap_open_file(); a libpcap warning (e.g. promiscuous mode not supported)
 * goes to warn, which is "" otherwise.
 */
int cap_open_live(struct cap_src *src, const char *iface, const char *bpf,
    const struct cap_live_opts *o, char *err, size_t errsz, int *exit_code,
    char *warn, size_t warnsz);

/* The descriptor to poll() for a live source's packets. */
int cap_fd(const struct cap_src *src);

/*
 * Live: hand over the packets that are waiting, without blocking.  Returns
 * the number handled, or -1 with err set (the interface went away...).
 */
int cap_dispatch(struct cap_src *src, cap_packet_cb cb, void *ctx, char *err, size_t errsz);

/* The kernel's counters for a live source; false when it has none. */
bool cap_kernel_stats(const struct cap_src *src, uint64_t *received, uint64_t *dropped,
    uint64_t *if_dropped);

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
