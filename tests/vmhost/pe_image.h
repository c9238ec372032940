/* PE32+ loader for Windows x64 kernel images (.sys) in a Linux process. */
#ifndef VMHOST_PE_IMAGE_H
#define VMHOST_PE_IMAGE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PE_MAX_SECTIONS 96

struct pe_section {
	char name[9];
	uint32_t rva;
	uint32_t vsize;         /* bytes mapped (VirtualSize, or raw size if 0) */
	uint32_t characteristics;
};

struct pe_image {
	uint8_t *base;          /* where the image is mapped */
	size_t size;            /* SizeOfImage */
	uint64_t image_base;    /* preferred base from the header */
	uint32_t entry_rva;
	uint16_t characteristics;
	uint16_t subsystem;
	unsigned nsections;
	struct pe_section sections[PE_MAX_SECTIONS];
	uint32_t dir_rva[16], dir_size[16];
	unsigned relocs_applied;
	unsigned wx_sections;   /* writable and executable: HVCI refuses these */
};

/* Callback: return the host function for module!name, or NULL. */
typedef void *pe_resolver(const char *module, const char *name, void *ctx);

/* Validate FILE strictly and map it: headers and sections copied, base
 * relocations applied. Imports are not bound yet. On failure returns -1
 * with a one-line reason in err; nothing stays mapped. */
int pe_load(struct pe_image *img, const uint8_t *file, size_t len,
	    char *err, size_t errlen);

/* Bind every import through resolve. Each unresolved import is printed to
 * report as "unresolved import: module!name" before returning, so that all
 * of them show at once. Returns the number unresolved, or -1 with err set
 * if the import directory is malformed. */
int pe_bind_imports(struct pe_image *img, pe_resolver *resolve, void *ctx,
		    FILE *report, char *err, size_t errlen);

/* Apply the section protections (R/W/X) once binding is done. */
int pe_protect(struct pe_image *img, char *err, size_t errlen);

/* Exported symbol by name, or NULL. */
void *pe_export(const struct pe_image *img, const char *name);

/* Name of the section holding addr and the RVA, for fault reports;
 * returns 0 when addr is outside the image. */
int pe_locate(const struct pe_image *img, const void *addr,
	      const char **section, uint32_t *rva);

void pe_unload(struct pe_image *img);

#endif
