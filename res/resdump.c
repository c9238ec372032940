/*
 * resdump FILE: prints the VERSIONINFO resource of a PE image as KEY=VALUE
 * lines, so a script can compare it with the brand:
 *
 *   fixed.file_version=a.b.c.d      fixed.product_version=a.b.c.d
 *   fixed.flags_mask=0x.. fixed.flags=0x.. fixed.os=0x.. fixed.type=0x.. fixed.subtype=0x..
 *   resource.language=0x0409
 *   string.040904B0.CompanyName=...  (one line per string, in file order)
 *   var.Translation=0x0409,1200      (one pair per line)
 *
 * Everything read from the file is bounds-checked; a malformed or missing
 * resource gives one "resdump: FILE: reason" line on stderr and exit 1.
 */
#include "../tools/pe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PE_DIR_RESOURCE 2
#define RT_VERSION 16
#define VS_FFI_SIGNATURE 0xFEEF04BDu

struct res_ctx {
	const uint8_t *data;
	size_t size;
	const char *path;
	char err[160];
};

static uint16_t res_rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t res_rd32(const uint8_t *p) { return (uint32_t)res_rd16(p) | (uint32_t)res_rd16(p + 2) << 16; }

static int res_fail(struct res_ctx *c, const char *msg)
{
	if (!c->err[0])
		snprintf(c->err, sizeof(c->err), "%s", msg);
	return -1;
}

/*
 * Resource directory lookup: in the directory at dir_off (relative to the
 * resource section start res_off, size res_size) find the entry with integer
 * id (or the first entry if id < 0). Returns the entry's offset field.
 */
static int res_find(struct res_ctx *c, size_t res_off, size_t res_size, uint32_t dir_off,
		    long id, uint32_t *found_id, uint32_t *value)
{
	uint16_t named, ids;
	size_t i, n;

	if (dir_off > res_size || res_size - dir_off < 16)
		return res_fail(c, "resource directory outside the resource section");
	named = res_rd16(c->data + res_off + dir_off + 12);
	ids = res_rd16(c->data + res_off + dir_off + 14);
	n = (size_t)named + ids;
	if ((res_size - dir_off - 16) / 8 < n)
		return res_fail(c, "resource directory entries run past the resource section");
	for (i = 0; i < n; i++) {
		const uint8_t *e = c->data + res_off + dir_off + 16 + 8 * i;
		uint32_t name = res_rd32(e), off = res_rd32(e + 4);

		if (name & 0x80000000u)
			continue;       /* a named entry; version resources use ids */
		if (id < 0 || name == (uint32_t)id) {
			*found_id = name;
			*value = off;
			return 0;
		}
	}
	return 1;
}

/* Block header of a version structure at off (relative to ver), end bound. */
struct ver_block {
	size_t off, end;        /* the block [off, end) */
	uint16_t value_len, type;
	char key[64];
	size_t value_off;       /* 4-aligned, after the key */
	size_t child_off;       /* first child, 4-aligned after the value */
};

static size_t res_align4(size_t v) { return (v + 3) & ~(size_t)3; }

/* UTF-16LE, NUL terminated within [off, end), to ASCII; non-ASCII fails. */
static int res_ver_string(struct res_ctx *c, const uint8_t *ver, size_t off, size_t end,
		      char *out, size_t outlen, size_t *after)
{
	size_t n = 0;

	for (;;) {
		uint16_t ch;

		if (off + 2 > end)
			return res_fail(c, "unterminated string in the version resource");
		ch = res_rd16(ver + off);
		off += 2;
		if (ch == 0)
			break;
		if (ch < 0x20 || ch > 0x7e)
			return res_fail(c, "non-ASCII or control character in a version string");
		if (n + 1 >= outlen)
			return res_fail(c, "version string too long");
		out[n++] = (char)ch;
	}
	out[n] = 0;
	*after = off;
	return 0;
}

static int res_ver_block(struct res_ctx *c, const uint8_t *ver, size_t off, size_t limit,
		     struct ver_block *b)
{
	uint16_t len;
	size_t after;

	if (off + 6 > limit)
		return res_fail(c, "version block header past its parent");
	len = res_rd16(ver + off);
	if (len < 6 || len > limit - off)
		return res_fail(c, "version block length out of range");
	b->off = off;
	b->end = off + len;
	b->value_len = res_rd16(ver + off + 2);
	b->type = res_rd16(ver + off + 4);
	if (b->type > 1)
		return res_fail(c, "version block type is neither binary nor text");
	if (res_ver_string(c, ver, off + 6, b->end, b->key, sizeof(b->key), &after))
		return -1;
	b->value_off = res_align4(after);
	if (b->value_off > b->end)
		b->value_off = b->end;
	return 0;
}

static int res_dump_strings(struct res_ctx *c, const uint8_t *ver, const struct ver_block *sfi)
{
	size_t off = res_align4(sfi->value_off);

	while (off + 6 <= sfi->end) {
		struct ver_block table;
		size_t soff;

		if (res_ver_block(c, ver, off, sfi->end, &table))
			return -1;
		for (soff = table.value_off; soff + 6 <= table.end;) {
			struct ver_block s;
			char val[512];
			size_t after;

			if (res_ver_block(c, ver, soff, table.end, &s))
				return -1;
			if (s.type != 1)
				return res_fail(c, "a StringFileInfo string is not of text type");
			if (s.value_len == 0)
				val[0] = 0;
			else if (res_ver_string(c, ver, s.value_off, s.end, val, sizeof(val), &after))
				return -1;
			printf("string.%s.%s=%s\n", table.key, s.key, val);
			soff = res_align4(s.end);
		}
		off = res_align4(table.end);
	}
	return 0;
}

static int res_dump_vars(struct res_ctx *c, const uint8_t *ver, const struct ver_block *vfi)
{
	size_t off = res_align4(vfi->value_off);

	while (off + 6 <= vfi->end) {
		struct ver_block v;
		size_t i;

		if (res_ver_block(c, ver, off, vfi->end, &v))
			return -1;
		if (v.type != 0 || v.value_len % 4 || v.value_len > v.end - v.value_off)
			return res_fail(c, "a VarFileInfo value is not a list of language/code page pairs");
		for (i = 0; i < v.value_len; i += 4)
			printf("var.%s=0x%04X,%u\n", v.key, res_rd16(ver + v.value_off + i),
			       res_rd16(ver + v.value_off + i + 2));
		off = res_align4(v.end);
	}
	return 0;
}

static int res_dump_version(struct res_ctx *c, const uint8_t *ver, size_t len)
{
	struct ver_block root;
	const uint8_t *f;
	size_t off;

	if (res_ver_block(c, ver, 0, len, &root))
		return -1;
	if (strcmp(root.key, "VS_VERSION_INFO") != 0)
		return res_fail(c, "version resource does not start with VS_VERSION_INFO");
	if (root.value_len != 52 || root.end - root.value_off < 52)
		return res_fail(c, "VS_FIXEDFILEINFO missing or of the wrong size");
	f = ver + root.value_off;
	if (res_rd32(f) != VS_FFI_SIGNATURE)
		return res_fail(c, "VS_FIXEDFILEINFO signature is not 0xFEEF04BD");
	printf("fixed.struc_version=0x%08X\n", res_rd32(f + 4));
	printf("fixed.file_version=%u.%u.%u.%u\n", res_rd32(f + 8) >> 16, res_rd32(f + 8) & 0xffff,
	       res_rd32(f + 12) >> 16, res_rd32(f + 12) & 0xffff);
	printf("fixed.product_version=%u.%u.%u.%u\n", res_rd32(f + 16) >> 16, res_rd32(f + 16) & 0xffff,
	       res_rd32(f + 20) >> 16, res_rd32(f + 20) & 0xffff);
	printf("fixed.flags_mask=0x%X\n", res_rd32(f + 24));
	printf("fixed.flags=0x%X\n", res_rd32(f + 28));
	printf("fixed.os=0x%X\n", res_rd32(f + 32));
	printf("fixed.type=0x%X\n", res_rd32(f + 36));
	printf("fixed.subtype=0x%X\n", res_rd32(f + 40));
	printf("fixed.date=0x%08X%08X\n", res_rd32(f + 44), res_rd32(f + 48));

	for (off = res_align4(root.value_off + 52); off + 6 <= root.end;) {
		struct ver_block b;

		if (res_ver_block(c, ver, off, root.end, &b))
			return -1;
		if (strcmp(b.key, "StringFileInfo") == 0) {
			if (res_dump_strings(c, ver, &b))
				return -1;
		} else if (strcmp(b.key, "VarFileInfo") == 0) {
			if (res_dump_vars(c, ver, &b))
				return -1;
		} else {
			return res_fail(c, "unknown child block in VS_VERSION_INFO");
		}
		off = res_align4(b.end);
	}
	return 0;
}

static int res_dump_file(const char *path)
{
	struct res_ctx c = { .path = path };
	struct pe_image pe;
	uint8_t *data;
	size_t size;
	uint32_t rva, rsize, id, off, lang, dir = 0;
	long res_off, data_off;
	int level, rc = -1;

	data = pe_read_file(path, &size, c.err, sizeof(c.err));
	if (!data)
		goto out_msg;
	if (pe_parse(&pe, data, size, c.err, sizeof(c.err))) {
		free(data);
		goto out_msg;
	}
	c.data = data;
	c.size = size;
	if (!pe_dir(&pe, PE_DIR_RESOURCE, &rva, &rsize) || rsize == 0) {
		res_fail(&c, "no resource directory (no version resource linked in)");
		goto out;
	}
	res_off = pe_rva_to_off(&pe, rva, rsize);
	if (res_off < 0) {
		res_fail(&c, "resource directory not backed by the file");
		goto out;
	}
	/* type RT_VERSION -> name 1 (any) -> first language */
	for (level = 0; level < 3; level++) {
		long want = level == 0 ? RT_VERSION : -1;
		int r = res_find(&c, (size_t)res_off, rsize, dir, want, &id, &off);

		if (r < 0)
			goto out;
		if (r > 0) {
			res_fail(&c, level == 0 ? "no RT_VERSION resource" : "empty version resource directory");
			goto out;
		}
		if (level < 2 && !(off & 0x80000000u)) {
			res_fail(&c, "resource tree is shallower than type/name/language");
			goto out;
		}
		if (level == 2 && (off & 0x80000000u)) {
			res_fail(&c, "resource tree is deeper than type/name/language");
			goto out;
		}
		dir = off & 0x7fffffffu;
	}
	lang = id;
	if (dir > rsize || rsize - dir < 16) {
		res_fail(&c, "resource data entry outside the resource section");
		goto out;
	}
	{
		const uint8_t *e = data + res_off + dir;
		uint32_t drva = res_rd32(e), dsize = res_rd32(e + 4);

		if (dsize == 0 || dsize > 0xffff) {
			res_fail(&c, "version resource size out of range");
			goto out;
		}
		data_off = pe_rva_to_off(&pe, drva, dsize);
		if (data_off < 0) {
			res_fail(&c, "version resource data not backed by the file");
			goto out;
		}
		printf("resource.language=0x%04X\n", lang);
		if (res_dump_version(&c, data + data_off, dsize))
			goto out;
	}
	rc = 0;
out:
	pe_free(&pe);
	free(data);
	if (rc == 0)
		return 0;
out_msg:
	fprintf(stderr, "resdump: %s: %s\n", path, c.err[0] ? c.err : "cannot read");
	return 1;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: resdump FILE.sys\n");
		return 2;
	}
	return res_dump_file(argv[1]);
}
