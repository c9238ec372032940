#include "pe.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p) { return (uint32_t)rd16(p) | (uint32_t)rd16(p + 2) << 16; }
static uint64_t rd64(const uint8_t *p) { return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32; }

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* True if [off, off+len) lies inside the file. */
static int in_file(const struct pe_image *pe, uint64_t off, uint64_t len)
{
	return off <= pe->size && len <= pe->size - off;
}

uint8_t *pe_read_file(const char *path, size_t *size, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long len;

	if (f == NULL) {
		fail(err, errlen, "cannot open: %s", strerror(errno));
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		fail(err, errlen, "cannot size: %s", strerror(errno));
		goto out;
	}
	buf = malloc(len ? (size_t)len : 1);
	if (buf == NULL) {
		fail(err, errlen, "out of memory");
		goto out;
	}
	if (fread(buf, 1, (size_t)len, f) != (size_t)len) {
		fail(err, errlen, "short read");
		free(buf);
		buf = NULL;
		goto out;
	}
	*size = (size_t)len;
out:
	fclose(f);
	return buf;
}

int pe_parse(struct pe_image *pe, uint8_t *data, size_t size, char *err, size_t errlen)
{
	uint32_t lfanew, opt_size;
	size_t coff, opt, sect;
	unsigned i;

	memset(pe, 0, sizeof(*pe));
	pe->data = data;
	pe->size = size;

	if (!in_file(pe, 0, 64) || data[0] != 'M' || data[1] != 'Z')
		return fail(err, errlen, "not an MZ executable");
	lfanew = rd32(data + 0x3c);
	if (!in_file(pe, lfanew, 24) || memcmp(data + lfanew, "PE\0\0", 4) != 0)
		return fail(err, errlen, "no PE signature at 0x%x", lfanew);
	coff = lfanew + 4;
	pe->machine = rd16(data + coff);
	pe->nsections = rd16(data + coff + 2);
	pe->timestamp = rd32(data + coff + 4);
	opt_size = rd16(data + coff + 16);
	opt = coff + 20;
	if (!in_file(pe, opt, opt_size) || opt_size < 2)
		return fail(err, errlen, "optional header outside the file");

	switch (rd16(data + opt)) {
	case 0x10b:
		if (opt_size < 96)
			return fail(err, errlen, "PE32 optional header too small (%u)", opt_size);
		pe->image_base = rd32(data + opt + 28);
		pe->ndirs = rd32(data + opt + 92);
		pe->dirs_offset = opt + 96;
		break;
	case 0x20b:
		if (opt_size < 112)
			return fail(err, errlen, "PE32+ optional header too small (%u)", opt_size);
		pe->pe32plus = 1;
		pe->image_base = rd64(data + opt + 24);
		pe->ndirs = rd32(data + opt + 108);
		pe->dirs_offset = opt + 112;
		break;
	default:
		return fail(err, errlen, "unknown optional header magic 0x%x", rd16(data + opt));
	}
	pe->entry_rva = rd32(data + opt + 16);
	pe->size_of_image = rd32(data + opt + 56);
	pe->checksum_offset = opt + 64;
	pe->subsystem = rd16(data + opt + 68);
	pe->dll_characteristics = rd16(data + opt + 70);
	if (pe->ndirs > 16 || pe->dirs_offset + (size_t)pe->ndirs * 8 > opt + opt_size)
		return fail(err, errlen, "bad data directory count %u", pe->ndirs);

	sect = opt + opt_size;
	if (pe->nsections == 0 || pe->nsections > 96 || !in_file(pe, sect, (uint64_t)pe->nsections * 40))
		return fail(err, errlen, "bad section table (%u sections)", pe->nsections);
	pe->sections = calloc(pe->nsections, sizeof(*pe->sections));
	if (pe->sections == NULL)
		return fail(err, errlen, "out of memory");
	for (i = 0; i < pe->nsections; i++) {
		const uint8_t *h = data + sect + 40 * i;
		struct pe_section *s = &pe->sections[i];

		memcpy(s->name, h, 8);
		s->name[8] = 0;
		s->virtual_size = rd32(h + 8);
		s->virtual_address = rd32(h + 12);
		s->raw_size = rd32(h + 16);
		s->raw_offset = rd32(h + 20);
		s->characteristics = rd32(h + 36);
		s->header_offset = sect + 40 * i;
		if (s->raw_size && !in_file(pe, s->raw_offset, s->raw_size)) {
			fail(err, errlen, "section %s data outside the file", s->name);
			pe_free(pe);
			return -1;
		}
		if ((uint64_t)s->virtual_address + s->virtual_size > pe->size_of_image) {
			fail(err, errlen, "section %s beyond SizeOfImage", s->name);
			pe_free(pe);
			return -1;
		}
	}
	return 0;
}

void pe_free(struct pe_image *pe)
{
	free(pe->sections);
	pe->sections = NULL;
}

int pe_dir(const struct pe_image *pe, unsigned idx, uint32_t *rva, uint32_t *size)
{
	if (idx >= pe->ndirs)
		return 0;
	*rva = rd32(pe->data + pe->dirs_offset + 8 * idx);
	*size = rd32(pe->data + pe->dirs_offset + 8 * idx + 4);
	return *rva != 0 || *size != 0;
}

long pe_rva_to_off(const struct pe_image *pe, uint32_t rva, uint32_t len)
{
	unsigned i;

	for (i = 0; i < pe->nsections; i++) {
		const struct pe_section *s = &pe->sections[i];

		if (rva >= s->virtual_address &&
		    (uint64_t)rva + len <= (uint64_t)s->virtual_address + s->raw_size)
			return (long)(s->raw_offset + (rva - s->virtual_address));
	}
	return -1;
}

uint32_t pe_checksum(const struct pe_image *pe)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < pe->size; i += 2) {
		uint32_t w;

		if (i >= pe->checksum_offset && i < pe->checksum_offset + 4)
			continue;
		w = pe->data[i];
		if (i + 1 < pe->size)
			w |= (uint32_t)pe->data[i + 1] << 8;
		sum += w;
		sum = (sum & 0xffff) + (sum >> 16);
	}
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint32_t)(sum + pe->size);
}

uint32_t pe_stored_checksum(const struct pe_image *pe)
{
	return rd32(pe->data + pe->checksum_offset);
}

void pe_set_checksum(struct pe_image *pe, uint32_t sum)
{
	uint8_t *p = pe->data + pe->checksum_offset;

	p[0] = (uint8_t)sum;
	p[1] = (uint8_t)(sum >> 8);
	p[2] = (uint8_t)(sum >> 16);
	p[3] = (uint8_t)(sum >> 24);
}

int pe_for_each_import(const struct pe_image *pe,
		       int (*fn)(const char *module, void *arg), void *arg,
		       char *err, size_t errlen)
{
	uint32_t rva, size, n;

	if (!pe_dir(pe, PE_DIR_IMPORT, &rva, &size))
		return 0;
	for (n = 0;; n++) {
		long off = pe_rva_to_off(pe, rva + 20 * n, 20);
		uint32_t name_rva;
		long name_off;
		size_t maxlen;
		int rc;

		if (off < 0)
			return fail(err, errlen, "import descriptor %u outside the file", n);
		name_rva = rd32(pe->data + off + 12);
		if (name_rva == 0 && rd32(pe->data + off + 16) == 0)
			return 0;
		name_off = pe_rva_to_off(pe, name_rva, 1);
		if (name_off < 0)
			return fail(err, errlen, "import name %u outside the file", n);
		maxlen = pe->size - (size_t)name_off;
		if (memchr(pe->data + name_off, 0, maxlen < 256 ? maxlen : 256) == NULL)
			return fail(err, errlen, "import name %u not terminated", n);
		rc = fn((const char *)pe->data + name_off, arg);
		if (rc)
			return rc;
	}
}
