/*
 * floor.c: the floor of the benchmark (README, Performance): a bare libpcap
 * loop that reads every packet of a capture file and does nothing with it.
 * No program that reads the file through libpcap can be faster, so each
 * tool's time is given as a ratio to this one.  It stays the plain loop on
 * purpose (libpcap's own stdio buffering, 4 KiB reads on Debian 12):
 * faster reading belongs in the tool, and shows as a ratio below 1.
 *
 *   floor FILE       prints "packets=N bytes=M" (captured bytes)
 */
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>

int
main(int argc, char **argv)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *d;
	uint64_t n = 0, bytes = 0;
	pcap_t *pc;
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: floor FILE\n");
		return 2;
	}
	if ((pc = pcap_open_offline(argv[1], err)) == NULL) {
		fprintf(stderr, "floor: %s\n", err);
		return 1;
	}
	while ((rc = pcap_next_ex(pc, &h, &d)) == 1) {
		n++;
		bytes += h->caplen;
	}
	if (rc == PCAP_ERROR) {
		fprintf(stderr, "floor: %s: %s\n", argv[1], pcap_geterr(pc));
		return 1;
	}
	pcap_close(pc);
	printf("packets=%" PRIu64 " bytes=%" PRIu64 "\n", n, bytes);
	return 0;
}
