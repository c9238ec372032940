/*
 * pefixup IN OUT: post-link step for kernel drivers.
 *
 * GNU ld cannot mark a section discardable, so the INIT section (code that
 * runs only during DriverEntry) would stay resident; set the flag here and
 * rewrite the PE checksum, which the kernel checks for boot-start drivers.
 */
#include "pe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	struct pe_image pe;
	char err[256];
	uint8_t *data;
	size_t size;
	unsigned i;
	FILE *f;

	if (argc != 3) {
		fprintf(stderr, "usage: pefixup IN OUT\n");
		return 2;
	}
	data = pe_read_file(argv[1], &size, err, sizeof(err));
	if (data == NULL || pe_parse(&pe, data, size, err, sizeof(err)) != 0) {
		fprintf(stderr, "pefixup: %s: %s\n", argv[1], err);
		return 1;
	}
	for (i = 0; i < pe.nsections; i++) {
		struct pe_section *s = &pe.sections[i];
		uint8_t *flags = data + s->header_offset + 36;

		if (strcmp(s->name, "INIT") != 0)
			continue;
		s->characteristics |= PE_SCN_MEM_DISCARDABLE;
		flags[0] = (uint8_t)s->characteristics;
		flags[1] = (uint8_t)(s->characteristics >> 8);
		flags[2] = (uint8_t)(s->characteristics >> 16);
		flags[3] = (uint8_t)(s->characteristics >> 24);
	}
	pe_set_checksum(&pe, pe_checksum(&pe));

	f = fopen(argv[2], "wb");
	if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0) {
		fprintf(stderr, "pefixup: cannot write %s\n", argv[2]);
		remove(argv[2]);
		return 1;
	}
	pe_free(&pe);
	free(data);
	return 0;
}
