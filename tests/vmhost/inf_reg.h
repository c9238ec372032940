/* The registry a driver's INF would create at installation, as the test
 * host's emulated ports see it: NdisReadConfiguration reads the driver
 * key, StorPortRegistryRead the service key's Parameters\Device. */
#ifndef VMHOST_INF_REG_H
#define VMHOST_INF_REG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum infreg_root {
	INFREG_DRIVER,   /* HKR of DDInstall's AddReg: the driver (software) key */
	INFREG_HARDWARE, /* HKR of DDInstall.HW's AddReg: the device key */
	INFREG_SERVICE,  /* HKR of the AddService section's AddReg */
};

/* Registry value types (winnt.h REG_*). */
#define INFREG_SZ 1u
#define INFREG_EXPAND_SZ 2u
#define INFREG_BINARY 3u
#define INFREG_DWORD 4u
#define INFREG_MULTI_SZ 7u

struct infreg_value {
	enum infreg_root root;
	char subkey[128]; /* "" for the key itself; '\\' separated */
	char name[64];    /* "" for the key's default value */
	uint32_t type;    /* INFREG_* */
	uint32_t dword;   /* INFREG_DWORD */
	char data[256];   /* string types (MULTI_SZ: first string only) */
};

#define INFREG_MAX 256

struct infreg {
	unsigned count;
	struct infreg_value v[INFREG_MAX];
};

/* Parse an INF for the install section that serves `arch` ("amd64" or
 * "x86"); false with a one-line reason in err on any malformed input. */
bool infreg_load(struct infreg *r, const char *path, const char *arch, char *err, size_t errlen);
bool infreg_parse(struct infreg *r, const char *text, size_t len, const char *arch, char *err,
		  size_t errlen);

const struct infreg_value *infreg_find(const struct infreg *r, enum infreg_root root,
				       const char *subkey, const char *name);

/* The value NdisReadConfiguration sees for `name` right after installation:
 * a value of the driver key itself, else the Default of Ndi\params\<name>
 * unless that parameter is Optional (the network class installer stores
 * each required advanced property's default in the driver key). NULL if
 * the INF sets neither. */
const char *infreg_ndis_param(const struct infreg *r, const char *name);

/* The installed registry of the driver vdphost runs (vdphost --inf FILE);
 * empty until loaded. The emulated ports read it. */
bool vh_registry_load(const char *path, char *err, size_t errlen);
const struct infreg *vh_registry(void);

#endif
