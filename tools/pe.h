/*
 * Minimal, strict reader of PE/PE32+ images for the build tools. Every
 * offset taken from the file is checked against the file size before use.
 */
#ifndef VDP_TOOLS_PE_H
#define VDP_TOOLS_PE_H

#include <stddef.h>
#include <stdint.h>

#define PE_SCN_CNT_CODE         0x00000020u
#define PE_SCN_MEM_DISCARDABLE  0x02000000u
#define PE_SCN_MEM_EXECUTE      0x20000000u
#define PE_SCN_MEM_READ         0x40000000u
#define PE_SCN_MEM_WRITE        0x80000000u

#define PE_DLLCHAR_HIGH_ENTROPY_VA 0x0020u
#define PE_DLLCHAR_DYNAMIC_BASE    0x0040u
#define PE_DLLCHAR_NX_COMPAT       0x0100u
#define PE_DLLCHAR_WDM_DRIVER      0x2000u

#define PE_SUBSYSTEM_NATIVE 1

#define PE_DIR_IMPORT   1
#define PE_DIR_SECURITY 4
#define PE_DIR_BASERELOC 5

struct pe_section {
	char name[9];
	uint32_t virtual_size;
	uint32_t virtual_address;
	uint32_t raw_size;
	uint32_t raw_offset;
	uint32_t characteristics;
	size_t header_offset;       /* of this section header in the file */
};

struct pe_image {
	uint8_t *data;
	size_t size;
	int pe32plus;
	uint16_t machine;
	uint32_t timestamp;
	uint32_t entry_rva;
	uint64_t image_base;
	uint32_t size_of_image;
	uint16_t subsystem;
	uint16_t dll_characteristics;
	size_t checksum_offset;     /* of the CheckSum field in the file */
	uint32_t ndirs;
	size_t dirs_offset;         /* of the data directory array */
	unsigned nsections;
	struct pe_section *sections;
};

/* Parse an image held in memory; on failure write a reason to err. */
int pe_parse(struct pe_image *pe, uint8_t *data, size_t size, char *err, size_t errlen);
void pe_free(struct pe_image *pe);

/* Load a whole file; returns NULL and sets err on failure. */
uint8_t *pe_read_file(const char *path, size_t *size, char *err, size_t errlen);

/* Data directory entry; 0 when absent. */
int pe_dir(const struct pe_image *pe, unsigned idx, uint32_t *rva, uint32_t *size);

/* File offset of an RVA range, or -1 if not backed by the file. */
long pe_rva_to_off(const struct pe_image *pe, uint32_t rva, uint32_t len);

/* The CheckSumMappedFile algorithm: 16-bit one's-complement-style sum of the
 * file with the CheckSum field taken as zero, plus the file length. */
uint32_t pe_checksum(const struct pe_image *pe);
uint32_t pe_stored_checksum(const struct pe_image *pe);
void pe_set_checksum(struct pe_image *pe, uint32_t sum);

/* Calls fn for every imported module name; stops and returns non-zero on a
 * malformed import table (err set) or when fn returns non-zero. */
int pe_for_each_import(const struct pe_image *pe,
		       int (*fn)(const char *module, void *arg), void *arg,
		       char *err, size_t errlen);

#endif
