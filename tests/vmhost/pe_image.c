/* PE32+ loader. The file is untrusted: every offset, size and RVA is
 * checked against the file or the image before it is used, with 64-bit
 * arithmetic so that no sum can wrap. Layout facts: Microsoft PE/COFF
 * specification (DOS stub e_lfanew at 0x3c, COFF header 20 bytes, PE32+
 * optional header 112 bytes + data directories, section header 40 bytes). */
#include "pe_image.h"

#include <stdarg.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>

#define PAGE 4096u

#define IMAGE_FILE_MACHINE_AMD64       0x8664
#define IMAGE_FILE_RELOCS_STRIPPED     0x0001
#define IMAGE_FILE_EXECUTABLE_IMAGE    0x0002
#define PE32PLUS_MAGIC                 0x20b
#define OPT_FIXED_SIZE                 112
#define SECTION_HEADER_SIZE            40
#define MAX_IMAGE_SIZE                 (256u << 20)
#define MAX_NAME                       256

#define DIR_EXPORT    0
#define DIR_IMPORT    1
#define DIR_BASERELOC 5

#define SCN_CNT_CODE        0x00000020u
#define SCN_MEM_EXECUTE     0x20000000u
#define SCN_MEM_READ        0x40000000u
#define SCN_MEM_WRITE       0x80000000u

#define REL_ABSOLUTE 0
#define REL_HIGHLOW  3
#define REL_DIR64    10

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static uint16_t rd16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static bool is_pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

/* [rva, rva+len) inside the image. */
static bool rva_ok(const struct pe_image *img, uint64_t rva, uint64_t len)
{
	return rva <= img->size && len <= img->size - rva;
}

/* NUL-terminated string at rva, fully inside the image and at most
 * MAX_NAME bytes; NULL otherwise. */
static const char *rva_str(const struct pe_image *img, uint32_t rva)
{
	size_t room;
	const char *s;

	if (rva == 0 || rva >= img->size)
		return NULL;
	s = (const char *)img->base + rva;
	room = img->size - rva;
	if (room > MAX_NAME)
		room = MAX_NAME;
	return memchr(s, 0, room) ? s : NULL;
}

static int parse_headers(struct pe_image *img, const uint8_t *f, size_t len,
			 uint32_t *hdr_size, uint64_t *sect_off, char *err, size_t errlen)
{
	uint32_t lfanew, nsect, optsz, ndirs, salign, falign;
	const uint8_t *coff, *opt;
	uint64_t end;

	if (len < 64 || f[0] != 'M' || f[1] != 'Z')
		return fail(err, errlen, "not a PE image: no MZ header");
	lfanew = rd32(f + 0x3c);
	if ((uint64_t)lfanew + 4 + 20 > len || (lfanew & 3))
		return fail(err, errlen, "bad e_lfanew 0x%x (file is %zu bytes)", lfanew, len);
	if (memcmp(f + lfanew, "PE\0\0", 4))
		return fail(err, errlen, "bad PE signature at 0x%x", lfanew);
	coff = f + lfanew + 4;
	if (rd16(coff) != IMAGE_FILE_MACHINE_AMD64)
		return fail(err, errlen, "machine 0x%04x is not AMD64 (0x8664)", rd16(coff));
	nsect = rd16(coff + 2);
	optsz = rd16(coff + 16);
	img->characteristics = rd16(coff + 18);
	if (!(img->characteristics & IMAGE_FILE_EXECUTABLE_IMAGE))
		return fail(err, errlen, "COFF characteristics 0x%x: not an executable image",
			    img->characteristics);
	if (nsect == 0 || nsect > PE_MAX_SECTIONS)
		return fail(err, errlen, "bad section count %u", nsect);
	if (optsz < OPT_FIXED_SIZE || (uint64_t)lfanew + 24 + optsz > len)
		return fail(err, errlen, "optional header size %u out of file", optsz);
	opt = coff + 20;
	if (rd16(opt) != PE32PLUS_MAGIC)
		return fail(err, errlen, "optional header magic 0x%x is not PE32+ (0x20b)", rd16(opt));

	img->entry_rva = rd32(opt + 16);
	img->image_base = rd64(opt + 24);
	salign = rd32(opt + 32);
	falign = rd32(opt + 36);
	img->size = rd32(opt + 56);
	*hdr_size = rd32(opt + 60);
	img->subsystem = rd16(opt + 68);
	ndirs = rd32(opt + 108);

	if (!is_pow2(salign) || salign < PAGE)
		return fail(err, errlen, "section alignment 0x%x is not a power of 2 >= 4096", salign);
	if (!is_pow2(falign) || falign < 512 || falign > 65536 || falign > salign)
		return fail(err, errlen, "bad file alignment 0x%x", falign);
	if (img->size == 0 || img->size > MAX_IMAGE_SIZE || img->size % salign)
		return fail(err, errlen, "bad SizeOfImage 0x%zx", img->size);
	if (img->image_base % 65536)
		return fail(err, errlen, "ImageBase 0x%llx not 64 KiB aligned",
			    (unsigned long long)img->image_base);
	if (ndirs > 16 || OPT_FIXED_SIZE + 8ull * ndirs > optsz)
		return fail(err, errlen, "bad data directory count %u", ndirs);

	*sect_off = (uint64_t)lfanew + 24 + optsz;
	end = *sect_off + (uint64_t)nsect * SECTION_HEADER_SIZE;
	if (end > len)
		return fail(err, errlen, "section table (%u entries) extends past end of file", nsect);
	if (*hdr_size < end || *hdr_size > len || *hdr_size > img->size)
		return fail(err, errlen, "bad SizeOfHeaders 0x%x", *hdr_size);

	memset(img->dir_rva, 0, sizeof(img->dir_rva));
	memset(img->dir_size, 0, sizeof(img->dir_size));
	for (uint32_t i = 0; i < ndirs; i++) {
		img->dir_rva[i] = rd32(opt + OPT_FIXED_SIZE + 8 * i);
		img->dir_size[i] = rd32(opt + OPT_FIXED_SIZE + 8 * i + 4);
		/* Directory 4 (security) holds a file offset, not an RVA. */
		if (i == 4 || img->dir_size[i] == 0)
			continue;
		if (!rva_ok(img, img->dir_rva[i], img->dir_size[i]))
			return fail(err, errlen, "data directory %u (rva 0x%x size 0x%x) outside image",
				    i, img->dir_rva[i], img->dir_size[i]);
	}
	img->nsections = nsect;
	return 0;
}

static int parse_sections(struct pe_image *img, const uint8_t *f, size_t len,
			  uint32_t hdr_size, uint64_t sect_off, char *err, size_t errlen)
{
	uint64_t prev_end = (hdr_size + PAGE - 1) & ~(uint64_t)(PAGE - 1);

	for (unsigned i = 0; i < img->nsections; i++) {
		const uint8_t *s = f + sect_off + (uint64_t)i * SECTION_HEADER_SIZE;
		struct pe_section *sec = &img->sections[i];
		uint32_t vsize = rd32(s + 8), rva = rd32(s + 12);
		uint32_t rawsize = rd32(s + 16), rawptr = rd32(s + 20);

		memcpy(sec->name, s, 8);
		sec->name[8] = 0;
		for (int k = 0; k < 8; k++)
			if (sec->name[k] && (sec->name[k] < 0x20 || sec->name[k] > 0x7e))
				sec->name[k] = '?';
		sec->rva = rva;
		sec->vsize = vsize ? vsize : rawsize;
		sec->characteristics = rd32(s + 36);
		if (rva % PAGE)
			return fail(err, errlen, "section %u '%s': rva 0x%x not page aligned", i, sec->name, rva);
		if (rva < prev_end)
			return fail(err, errlen, "section %u '%s' (rva 0x%x) overlaps the previous section or the headers",
				    i, sec->name, rva);
		if (!rva_ok(img, rva, sec->vsize))
			return fail(err, errlen, "section %u '%s' (rva 0x%x size 0x%x) outside SizeOfImage 0x%zx",
				    i, sec->name, rva, sec->vsize, img->size);
		if (rawsize && ((uint64_t)rawptr + rawsize > len || rawptr < hdr_size))
			return fail(err, errlen, "section %u '%s': raw data (offset 0x%x size 0x%x) outside the file",
				    i, sec->name, rawptr, rawsize);
		prev_end = ((uint64_t)rva + sec->vsize + PAGE - 1) & ~(uint64_t)(PAGE - 1);
	}
	return 0;
}

static int apply_relocs(struct pe_image *img, char *err, size_t errlen)
{
	uint64_t delta = (uint64_t)(uintptr_t)img->base - img->image_base;
	uint32_t off = 0, dir = img->dir_rva[DIR_BASERELOC], dsize = img->dir_size[DIR_BASERELOC];

	img->relocs_applied = 0;
	if (dsize == 0) {
		if (delta && (img->characteristics & IMAGE_FILE_RELOCS_STRIPPED))
			return fail(err, errlen, "relocations stripped and image not at its preferred base");
		return 0;
	}
	while (off < dsize) {
		const uint8_t *blk = img->base + dir + off;
		uint32_t page, bsize;

		if (dsize - off < 8)
			return fail(err, errlen, "relocation block at +0x%x truncated", off);
		page = rd32(blk);
		bsize = rd32(blk + 4);
		if (bsize < 8 || (bsize & 1) || bsize > dsize - off)
			return fail(err, errlen, "relocation block at +0x%x has bad size 0x%x", off, bsize);
		if (page % PAGE || page >= img->size)
			return fail(err, errlen, "relocation block at +0x%x: page rva 0x%x invalid", off, page);
		for (uint32_t e = 8; e + 2 <= bsize; e += 2) {
			uint16_t ent = rd16(blk + e);
			unsigned type = ent >> 12;
			uint64_t at = (uint64_t)page + (ent & 0xfff);

			switch (type) {
			case REL_ABSOLUTE:
				break;
			case REL_DIR64:
				if (!rva_ok(img, at, 8))
					return fail(err, errlen, "DIR64 relocation at rva 0x%llx outside image",
						    (unsigned long long)at);
				{
					uint64_t v = rd64(img->base + at) + delta;
					memcpy(img->base + at, &v, 8);
				}
				img->relocs_applied++;
				break;
			case REL_HIGHLOW:
				if (!rva_ok(img, at, 4))
					return fail(err, errlen, "HIGHLOW relocation at rva 0x%llx outside image",
						    (unsigned long long)at);
				{
					uint32_t v = rd32(img->base + at) + (uint32_t)delta;
					memcpy(img->base + at, &v, 4);
				}
				img->relocs_applied++;
				break;
			default:
				return fail(err, errlen, "unsupported relocation type %u at rva 0x%llx",
					    type, (unsigned long long)at);
			}
		}
		off += bsize;
	}
	return 0;
}

int pe_load(struct pe_image *img, const uint8_t *file, size_t len,
	    char *err, size_t errlen)
{
	uint32_t hdr_size = 0;
	uint64_t sect_off = 0;
	void *map;

	memset(img, 0, sizeof(*img));
	if (!file)
		return fail(err, errlen, "no image");
	if (parse_headers(img, file, len, &hdr_size, &sect_off, err, errlen) ||
	    parse_sections(img, file, len, hdr_size, sect_off, err, errlen))
		return -1;
	if (img->entry_rva) {
		bool in_code = false;
		for (unsigned i = 0; i < img->nsections; i++) {
			const struct pe_section *s = &img->sections[i];
			if (img->entry_rva >= s->rva && img->entry_rva - s->rva < s->vsize &&
			    (s->characteristics & SCN_MEM_EXECUTE))
				in_code = true;
		}
		if (!in_code)
			return fail(err, errlen, "entry point rva 0x%x is not in an executable section",
				    img->entry_rva);
	}

	/* Mapped anywhere but the preferred base, so relocations are exercised. */
	map = mmap(NULL, img->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED)
		return fail(err, errlen, "cannot map 0x%zx bytes", img->size);
	img->base = map;
	memcpy(img->base, file, hdr_size);
	for (unsigned i = 0; i < img->nsections; i++) {
		const uint8_t *s = file + sect_off + (uint64_t)i * SECTION_HEADER_SIZE;
		uint32_t rawsize = rd32(s + 16), rawptr = rd32(s + 20);
		uint32_t n = rawsize < img->sections[i].vsize ? rawsize : img->sections[i].vsize;

		memcpy(img->base + img->sections[i].rva, file + rawptr, n);
	}
	if (apply_relocs(img, err, errlen)) {
		pe_unload(img);
		return -1;
	}
	return 0;
}

int pe_bind_imports(struct pe_image *img, pe_resolver *resolve, void *ctx,
		    FILE *report, char *err, size_t errlen)
{
	uint32_t dir = img->dir_rva[DIR_IMPORT], dsize = img->dir_size[DIR_IMPORT];
	int unresolved = 0;

	if (dsize == 0)
		return 0;
	for (uint32_t off = 0;; off += 20) {
		const uint8_t *d = img->base + dir + off;
		uint32_t lookup, name_rva, iat;
		const char *module;

		if (off + 20 > dsize)
			return fail(err, errlen, "import directory not terminated");
		lookup = rd32(d);
		name_rva = rd32(d + 12);
		iat = rd32(d + 16);
		if (!lookup && !name_rva && !iat)
			break;
		module = rva_str(img, name_rva);
		if (!module)
			return fail(err, errlen, "import descriptor %u: module name rva 0x%x out of bounds",
				    off / 20, name_rva);
		if (!lookup)
			lookup = iat;
		for (uint32_t k = 0;; k++) {
			uint64_t at = (uint64_t)lookup + 8ull * k, slot = (uint64_t)iat + 8ull * k;
			uint64_t thunk;
			const char *name;
			void *fn;

			if (!rva_ok(img, at, 8) || !rva_ok(img, slot, 8))
				return fail(err, errlen, "%s: import thunk %u out of bounds", module, k);
			thunk = rd64(img->base + at);
			if (!thunk)
				break;
			if (thunk >> 63) {
				if (report)
					fprintf(report, "unresolved import: %s!#%u (by ordinal)\n",
						module, (unsigned)(thunk & 0xffff));
				unresolved++;
				continue;
			}
			if (thunk > UINT32_MAX || !(name = rva_str(img, (uint32_t)thunk + 2)) ||
			    !rva_ok(img, thunk, 2))
				return fail(err, errlen, "%s: import %u name rva 0x%llx out of bounds",
					    module, k, (unsigned long long)thunk);
			fn = resolve(module, name, ctx);
			if (!fn) {
				if (report)
					fprintf(report, "unresolved import: %s!%s\n", module, name);
				unresolved++;
				continue;
			}
			memcpy(img->base + slot, &fn, 8);
		}
	}
	return unresolved;
}

int pe_protect(struct pe_image *img, char *err, size_t errlen)
{
	if (mprotect(img->base, img->sections[0].rva, PROT_READ))
		return fail(err, errlen, "mprotect headers failed");
	for (unsigned i = 0; i < img->nsections; i++) {
		const struct pe_section *s = &img->sections[i];
		size_t len = ((size_t)s->vsize + PAGE - 1) & ~(size_t)(PAGE - 1);
		int prot = 0;

		if (!len)
			continue;
		if (s->characteristics & SCN_MEM_READ)
			prot |= PROT_READ;
		if (s->characteristics & SCN_MEM_WRITE)
			prot |= PROT_WRITE;
		if (s->characteristics & (SCN_MEM_EXECUTE | SCN_CNT_CODE))
			prot |= PROT_EXEC | PROT_READ;
		if ((prot & PROT_WRITE) && (prot & PROT_EXEC))
			img->wx_sections++;
		if (mprotect(img->base + s->rva, len, prot))
			return fail(err, errlen, "mprotect section '%s' failed", s->name);
	}
	return 0;
}

void *pe_export(const struct pe_image *img, const char *name)
{
	uint32_t dir = img->dir_rva[DIR_EXPORT];
	uint32_t nfuncs, nnames, funcs, names, ords;
	const uint8_t *d;

	if (!img->base || img->dir_size[DIR_EXPORT] < 40)
		return NULL;
	d = img->base + dir;
	nfuncs = rd32(d + 20);
	nnames = rd32(d + 24);
	funcs = rd32(d + 28);
	names = rd32(d + 32);
	ords = rd32(d + 36);
	if (!rva_ok(img, funcs, 4ull * nfuncs) || !rva_ok(img, names, 4ull * nnames) ||
	    !rva_ok(img, ords, 2ull * nnames))
		return NULL;
	for (uint32_t i = 0; i < nnames; i++) {
		const char *n = rva_str(img, rd32(img->base + names + 4 * i));
		uint16_t ord;
		uint32_t frva;

		if (!n || strcmp(n, name))
			continue;
		ord = rd16(img->base + ords + 2 * i);
		if (ord >= nfuncs)
			return NULL;
		frva = rd32(img->base + funcs + 4 * ord);
		/* A forwarder points back into the export directory. */
		if (!frva || !rva_ok(img, frva, 1) ||
		    (frva >= dir && frva - dir < img->dir_size[DIR_EXPORT]))
			return NULL;
		return img->base + frva;
	}
	return NULL;
}

int pe_locate(const struct pe_image *img, const void *addr,
	      const char **section, uint32_t *rva)
{
	uintptr_t a = (uintptr_t)addr, b = (uintptr_t)img->base;

	if (!img->base || a < b || a - b >= img->size)
		return 0;
	*rva = (uint32_t)(a - b);
	*section = "headers";
	for (unsigned i = 0; i < img->nsections; i++)
		if (*rva >= img->sections[i].rva && *rva - img->sections[i].rva < img->sections[i].vsize)
			*section = img->sections[i].name;
	return 1;
}

void pe_unload(struct pe_image *img)
{
	if (img->base)
		munmap(img->base, img->size);
	img->base = NULL;
}
