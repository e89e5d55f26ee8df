/*
 * replay_main.c: a main() for the fuzz targets without libFuzzer, so gcc
 * builds can run saved inputs (tests/regress/, seed corpora) in make test.
 * Usage: fuzz_X FILE...; prints "fuzz_X: N passed, 0 failed" if nothing
 * crashed (a crash ends the process, which run-tests.sh counts).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

/* libFuzzer's mutator, for targets with a custom one; never called here. */
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

size_t
LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size)
{
	(void)data;
	(void)max_size;
	return size;
}

int
main(int argc, char **argv)
{
	int n = 0;

	for (int i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		long len;
		uint8_t *buf;

		if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0) {
			fprintf(stderr, "%s: cannot read\n", argv[i]);
			return 2;
		}
		rewind(f);
		buf = malloc(len ? (size_t)len : 1);	/* exact size for ASan */
		if (buf == NULL || fread(buf, 1, (size_t)len, f) != (size_t)len)
			return 2;
		fclose(f);
		LLVMFuzzerTestOneInput(buf, (size_t)len);
		free(buf);
		n++;
	}
	printf("%s: %d passed, 0 failed\n", strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0], n);
	return 0;
}
