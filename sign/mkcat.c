/*
 * mkcat: build an unsigned Windows catalog (.cat) for a driver package, check
 * files against a catalog, and compute Authenticode PE hashes.
 *
 *   mkcat -o OUT.cat [-t EPOCH] [-O OS] [-A OSATTR] [-H HWID]... [-h HWIDFILE] FILE...
 *   mkcat -V CAT FILE...      every FILE must be a member with a matching hash
 *   mkcat -p FILE...          print the SHA-256 Authenticode hash of PE files
 *
 * The catalog is a PKCS#7 SignedData without signers whose content is a
 * Certificate Trust List (szOID_CTL); `osslsigncode sign` adds the signature.
 * Layout (CatalogVersion 2, SHA-256 members; see sign/README.md):
 *
 *   CTL { subjectUsage {szOID_CATALOG_LIST}, listIdentifier (16 bytes),
 *         ctlThisUpdate (UTCTime, -t or SOURCE_DATE_EPOCH),
 *         subjectAlgorithm {szOID_CATALOG_LIST_MEMBER2, NULL},
 *         trustedSubjects { member... } sorted by hash,
 *         [0] extensions { CAT_NAMEVALUE "OS", "HWID1".. } }
 *   member { OCTET STRING sha256,
 *            SET { SPC_INDIRECT_DATA { PE image data | flat file link, sha256 },
 *                  CAT_MEMBERINFO2, CAT_NAMEVALUE "File", CAT_NAMEVALUE "OSAttr" } }
 *
 * Everything is derived from the inputs, so equal inputs give equal bytes.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/stat.h>

#include <openssl/asn1.h>
#include <openssl/asn1t.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#define OID_CTL               "1.3.6.1.4.1.311.10.1"
#define OID_CATALOG_LIST      "1.3.6.1.4.1.311.12.1.1"
#define OID_CATALOG_MEMBER2   "1.3.6.1.4.1.311.12.1.3"
#define OID_CAT_NAMEVALUE     "1.3.6.1.4.1.311.12.2.1"
#define OID_CAT_MEMBERINFO2   "1.3.6.1.4.1.311.12.2.3"
#define OID_SPC_INDIRECT_DATA "1.3.6.1.4.1.311.2.1.4"
#define OID_SPC_PE_IMAGE_DATA "1.3.6.1.4.1.311.2.1.15"
#define OID_SPC_CAB_DATA      "1.3.6.1.4.1.311.2.1.25"

/* CRYPTCAT_ATTR_AUTHENTICATED | DATAASCII | NAMEASCII (mscat.h). */
#define CAT_ATTR_FLAGS 0x10010001L

#define CAT_MAX_FILE   (512L * 1024 * 1024)
#define CAT_MAX_NAME   128
#define CAT_MAX_HWIDS  256
#define CAT_HASH_LEN   32

/* ------------------------------------------------------------------ ASN.1 */

typedef struct {
	int type;
	union {
		ASN1_BMPSTRING *unicode;
		ASN1_IA5STRING *ascii;
	} value;
} spc_string;

ASN1_CHOICE(spc_string) = {
	ASN1_IMP_OPT(spc_string, value.unicode, ASN1_BMPSTRING, 0),
	ASN1_IMP_OPT(spc_string, value.ascii, ASN1_IA5STRING, 1),
} static_ASN1_CHOICE_END(spc_string)

typedef struct {
	int type;
	union {
		ASN1_IA5STRING *url;
		spc_string *file;
	} value;
} spc_link;

ASN1_CHOICE(spc_link) = {
	ASN1_IMP_OPT(spc_link, value.url, ASN1_IA5STRING, 0),
	ASN1_EXP_OPT(spc_link, value.file, spc_string, 2),
} static_ASN1_CHOICE_END(spc_link)

typedef struct {
	ASN1_BIT_STRING *flags;
	spc_link *file;
} spc_pe_image_data;

ASN1_SEQUENCE(spc_pe_image_data) = {
	ASN1_SIMPLE(spc_pe_image_data, flags, ASN1_BIT_STRING),
	ASN1_EXP_OPT(spc_pe_image_data, file, spc_link, 0),
} static_ASN1_SEQUENCE_END(spc_pe_image_data)

typedef struct {
	ASN1_OBJECT *type;
	ASN1_TYPE *value;
} spc_attr_value;

ASN1_SEQUENCE(spc_attr_value) = {
	ASN1_SIMPLE(spc_attr_value, type, ASN1_OBJECT),
	ASN1_OPT(spc_attr_value, value, ASN1_ANY),
} static_ASN1_SEQUENCE_END(spc_attr_value)

typedef struct {
	X509_ALGOR *alg;
	ASN1_OCTET_STRING *digest;
} cat_digest_info;

ASN1_SEQUENCE(cat_digest_info) = {
	ASN1_SIMPLE(cat_digest_info, alg, X509_ALGOR),
	ASN1_SIMPLE(cat_digest_info, digest, ASN1_OCTET_STRING),
} static_ASN1_SEQUENCE_END(cat_digest_info)

typedef struct {
	spc_attr_value *data;
	cat_digest_info *digest;
} spc_indirect_data;

ASN1_SEQUENCE(spc_indirect_data) = {
	ASN1_SIMPLE(spc_indirect_data, data, spc_attr_value),
	ASN1_SIMPLE(spc_indirect_data, digest, cat_digest_info),
} static_ASN1_SEQUENCE_END(spc_indirect_data)

typedef struct {
	ASN1_BMPSTRING *tag;
	ASN1_INTEGER *flags;
	ASN1_OCTET_STRING *value;
} cat_name_value;

ASN1_SEQUENCE(cat_name_value) = {
	ASN1_SIMPLE(cat_name_value, tag, ASN1_BMPSTRING),
	ASN1_SIMPLE(cat_name_value, flags, ASN1_INTEGER),
	ASN1_SIMPLE(cat_name_value, value, ASN1_OCTET_STRING),
} static_ASN1_SEQUENCE_END(cat_name_value)

typedef struct {
	ASN1_OCTET_STRING *identifier;
	STACK_OF(X509_ATTRIBUTE) *attrs;
} cat_subject;

ASN1_SEQUENCE(cat_subject) = {
	ASN1_SIMPLE(cat_subject, identifier, ASN1_OCTET_STRING),
	ASN1_SET_OF_OPT(cat_subject, attrs, X509_ATTRIBUTE),
} static_ASN1_SEQUENCE_END(cat_subject)

DEFINE_STACK_OF(cat_subject)

typedef struct {
	STACK_OF(ASN1_OBJECT) *usage;
	ASN1_OCTET_STRING *list_id;
	ASN1_TIME *this_update;
	X509_ALGOR *subject_alg;
	STACK_OF(cat_subject) *subjects;
	STACK_OF(X509_EXTENSION) *extensions;
} cat_ctl;

ASN1_SEQUENCE(cat_ctl) = {
	ASN1_SEQUENCE_OF(cat_ctl, usage, ASN1_OBJECT),
	ASN1_OPT(cat_ctl, list_id, ASN1_OCTET_STRING),
	ASN1_SIMPLE(cat_ctl, this_update, ASN1_TIME),
	ASN1_SIMPLE(cat_ctl, subject_alg, X509_ALGOR),
	ASN1_SEQUENCE_OF_OPT(cat_ctl, subjects, cat_subject),
	ASN1_EXP_SEQUENCE_OF_OPT(cat_ctl, extensions, X509_EXTENSION, 0),
} static_ASN1_SEQUENCE_END(cat_ctl)

/* ------------------------------------------------------------------ helpers */

static const char *prog = "mkcat";

static void cat_die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void cat_die(const char *fmt, ...)
{
	va_list ap;
	unsigned long e;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	while ((e = ERR_get_error()) != 0)
		fprintf(stderr, "%s:   openssl: %s\n", prog, ERR_error_string(e, NULL));
	exit(1);
}

static void *cat_xcheck(void *p, const char *what)
{
	if (p == NULL)
		cat_die("out of memory or OpenSSL failure (%s)", what);
	return p;
}

static ASN1_OBJECT *cat_oid(const char *text)
{
	return cat_xcheck(OBJ_txt2obj(text, 1), text);
}

static const char *cat_base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* Catalog text is plain ASCII: checked, so BMP/UTF-16 is a zero-extension. */
static void cat_check_ascii(const char *s, const char *what)
{
	size_t n = strlen(s);

	if (n == 0 || n > CAT_MAX_NAME)
		cat_die("%s \"%s\" must be 1..%d characters", what, s, CAT_MAX_NAME);
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7e)
			cat_die("%s contains a byte outside printable ASCII (0x%02x)", what, (unsigned char)*s);
}

static ASN1_BMPSTRING *cat_bmp_string(const char *s)
{
	size_t n = strlen(s), i;
	unsigned char *buf = cat_xcheck(malloc(2 * n + 1), "bmp");
	ASN1_BMPSTRING *b = cat_xcheck(ASN1_BMPSTRING_new(), "bmp");

	for (i = 0; i < n; i++) {
		buf[2 * i] = 0;
		buf[2 * i + 1] = (unsigned char)s[i];
	}
	if (!ASN1_STRING_set(b, buf, (int)(2 * n)))
		cat_die("ASN1_STRING_set failed");
	free(buf);
	return b;
}

/* UTF-16LE with the terminating NUL, as makecat stores CAT_NAMEVALUE data. */
static ASN1_OCTET_STRING *cat_utf16le_z(const char *s)
{
	size_t n = strlen(s), i;
	unsigned char *buf = cat_xcheck(calloc(2 * n + 2, 1), "utf16");
	ASN1_OCTET_STRING *o = cat_xcheck(ASN1_OCTET_STRING_new(), "utf16");

	for (i = 0; i < n; i++)
		buf[2 * i] = (unsigned char)s[i];
	if (!ASN1_OCTET_STRING_set(o, buf, (int)(2 * n + 2)))
		cat_die("ASN1_OCTET_STRING_set failed");
	free(buf);
	return o;
}

/* DER of an item, returned in *der (caller frees). */
static int cat_item_der(const void *val, const ASN1_ITEM *it, unsigned char **der)
{
	int len;

	*der = NULL;
	len = ASN1_item_i2d((const ASN1_VALUE *)val, der, it);
	if (len <= 0)
		cat_die("DER encoding failed (%s)", it->sname);
	return len;
}

static unsigned char *cat_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	unsigned char *buf;

	if (f == NULL)
		cat_die("%s: %s", path, strerror(errno));
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode))
		cat_die("%s: not a regular file", path);
	if (st.st_size > CAT_MAX_FILE)
		cat_die("%s: larger than %ld bytes", path, CAT_MAX_FILE);
	buf = cat_xcheck(malloc((size_t)st.st_size + 1), path);
	if (fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size)
		cat_die("%s: short read", path);
	fclose(f);
	*len = (size_t)st.st_size;
	return buf;
}

/* ------------------------------------------------------------------ hashes */

static uint32_t cat_le16(const unsigned char *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }
static uint32_t cat_le32(const unsigned char *p) { return cat_le16(p) | cat_le16(p + 2) << 16; }

static void cat_sha256_update(EVP_MD_CTX *md, const unsigned char *p, size_t n)
{
	if (!EVP_DigestUpdate(md, p, n))
		cat_die("EVP_DigestUpdate failed");
}

/*
 * Authenticode PE image hash: the file without the CheckSum field, without
 * the security (certificate table) directory entry and without the
 * certificate table itself. Unsigned images are hashed as if zero-padded to
 * 8 bytes, because signing pads them so before appending the table.
 * Returns 0 if the data is not a PE image at all (no MZ), 1 on success; a
 * malformed PE image is a fatal error.
 */
static int cat_pe_hash(const char *path, const unsigned char *buf, size_t len, unsigned char out[CAT_HASH_LEN])
{
	static const unsigned char zeros[8];
	size_t pe, opt, cksum, secdir, hdr_size, end;
	uint32_t opt_size, magic, dd_off, ndirs, sec_off, sec_size;
	EVP_MD_CTX *md;

	if (len < 2 || buf[0] != 'M' || buf[1] != 'Z')
		return 0;
	if (len < 0x40)
		cat_die("%s: truncated DOS header", path);
	pe = cat_le32(buf + 0x3c);
	if (pe > len || len - pe < 24 || memcmp(buf + pe, "PE\0\0", 4) != 0)
		cat_die("%s: MZ file without a valid PE header (e_lfanew 0x%zx)", path, pe);
	opt_size = cat_le16(buf + pe + 4 + 16);
	opt = pe + 24;
	if (opt_size > len - opt || opt_size < 2)
		cat_die("%s: optional header (%u bytes) runs past the end of the file", path, opt_size);
	magic = cat_le16(buf + opt);
	if (magic == 0x10b)
		dd_off = 96;
	else if (magic == 0x20b)
		dd_off = 112;
	else
		cat_die("%s: unknown optional header magic 0x%x", path, magic);
	if (opt_size < dd_off + 5 * 8)
		cat_die("%s: optional header too small for the security directory", path);
	ndirs = cat_le32(buf + opt + dd_off - 4);
	if (ndirs < 5)
		cat_die("%s: only %u data directories, no security directory", path, ndirs);
	cksum = opt + 64;
	secdir = opt + dd_off + 4 * 8;
	hdr_size = cat_le32(buf + opt + 60);
	if (hdr_size > len || hdr_size < secdir + 8)
		cat_die("%s: SizeOfHeaders 0x%zx is outside the file or the headers", path, hdr_size);
	sec_off = cat_le32(buf + secdir);
	sec_size = cat_le32(buf + secdir + 4);
	if (sec_size != 0) {
		if (sec_off < hdr_size || sec_off > len || sec_size > len - sec_off)
			cat_die("%s: certificate table 0x%x+0x%x is outside the file", path, sec_off, sec_size);
		if ((size_t)sec_off + sec_size != len)
			cat_die("%s: data after the certificate table; refusing an ambiguous image", path);
		end = sec_off;
	} else {
		end = len;
	}
	md = cat_xcheck(EVP_MD_CTX_new(), "md");
	if (!EVP_DigestInit_ex(md, EVP_sha256(), NULL))
		cat_die("EVP_DigestInit_ex failed");
	cat_sha256_update(md, buf, cksum);
	cat_sha256_update(md, buf + cksum + 4, secdir - (cksum + 4));
	cat_sha256_update(md, buf + secdir + 8, end - (secdir + 8));
	if (sec_size == 0 && len % 8 != 0)
		cat_sha256_update(md, zeros, 8 - len % 8);
	if (!EVP_DigestFinal_ex(md, out, NULL))
		cat_die("EVP_DigestFinal_ex failed");
	EVP_MD_CTX_free(md);
	return 1;
}

/* A file named like an executable must be a PE image. */
static int cat_looks_like_pe_name(const char *name)
{
	const char *dot = strrchr(name, '.');

	return dot && (!strcasecmp(dot, ".sys") || !strcasecmp(dot, ".dll") || !strcasecmp(dot, ".exe"));
}

static int cat_member_hash(const char *path, unsigned char out[CAT_HASH_LEN])
{
	size_t len;
	unsigned char *buf = cat_read_file(path, &len);
	int pe = cat_pe_hash(path, buf, len, out);

	if (!pe) {
		if (cat_looks_like_pe_name(cat_base_name(path)))
			cat_die("%s: named like an executable but is not a PE image", path);
		if (!EVP_Digest(buf, len, out, NULL, EVP_sha256(), NULL))
			cat_die("EVP_Digest failed");
	}
	free(buf);
	return pe;
}

static void cat_hex(const unsigned char *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = 0;
}

/* ------------------------------------------------------------------ build */

struct cat_member {
	const char *path;
	const char *name;
	int pe;
	unsigned char hash[CAT_HASH_LEN];
};

static X509_ATTRIBUTE *cat_der_attr(const char *attr_oid, int type, const unsigned char *der, int len)
{
	ASN1_OBJECT *o = cat_oid(attr_oid);
	X509_ATTRIBUTE *a = X509_ATTRIBUTE_create_by_OBJ(NULL, o, type, der, len);

	ASN1_OBJECT_free(o);
	return cat_xcheck(a, attr_oid);
}

/* An attribute whose single value is given as complete DER (any tag). */
static X509_ATTRIBUTE *cat_raw_attr(const char *attr_oid, const unsigned char *der, int len)
{
	int nid = OBJ_txt2nid(attr_oid);
	ASN1_STRING *s = cat_xcheck(ASN1_STRING_type_new(V_ASN1_OTHER), "raw");

	if (nid == NID_undef)
		nid = OBJ_create(attr_oid, NULL, NULL);
	if (nid == NID_undef || !ASN1_STRING_set(s, der, len))
		cat_die("cannot register %s", attr_oid);
	return cat_xcheck(X509_ATTRIBUTE_create(nid, V_ASN1_OTHER, s), attr_oid);
}

static cat_name_value *cat_new_name_value(const char *tag, const char *value)
{
	cat_name_value *nv = cat_xcheck(ASN1_item_new(ASN1_ITEM_rptr(cat_name_value)), "namevalue");

	ASN1_BMPSTRING_free(nv->tag);
	nv->tag = cat_bmp_string(tag);
	if (!ASN1_INTEGER_set(nv->flags, CAT_ATTR_FLAGS))
		cat_die("ASN1_INTEGER_set failed");
	ASN1_OCTET_STRING_free(nv->value);
	nv->value = cat_utf16le_z(value);
	return nv;
}

static X509_ATTRIBUTE *cat_name_value_attr(const char *tag, const char *value)
{
	cat_name_value *nv = cat_new_name_value(tag, value);
	unsigned char *der;
	int len = cat_item_der(nv, ASN1_ITEM_rptr(cat_name_value), &der);
	X509_ATTRIBUTE *a = cat_der_attr(OID_CAT_NAMEVALUE, V_ASN1_SEQUENCE, der, len);

	OPENSSL_free(der);
	ASN1_item_free((ASN1_VALUE *)nv, ASN1_ITEM_rptr(cat_name_value));
	return a;
}

static X509_ATTRIBUTE *cat_indirect_data_attr(const struct cat_member *m)
{
	spc_indirect_data *id = cat_xcheck(ASN1_item_new(ASN1_ITEM_rptr(spc_indirect_data)), "indirect");
	spc_link *link = cat_xcheck(ASN1_item_new(ASN1_ITEM_rptr(spc_link)), "link");
	spc_string *str = cat_xcheck(ASN1_item_new(ASN1_ITEM_rptr(spc_string)), "string");
	unsigned char *der;
	int len;
	X509_ATTRIBUTE *a;

	/* An empty file link: the name lives in the "File" attribute. */
	str->type = 0;
	str->value.unicode = cat_bmp_string("");
	link->type = 1;
	link->value.file = str;
	if (m->pe) {
		spc_pe_image_data *pe = cat_xcheck(ASN1_item_new(ASN1_ITEM_rptr(spc_pe_image_data)), "pe");

		pe->file = link;
		id->data->type = cat_oid(OID_SPC_PE_IMAGE_DATA);
		if (!ASN1_TYPE_pack_sequence(ASN1_ITEM_rptr(spc_pe_image_data), pe, &id->data->value))
			cat_die("cannot encode SpcPeImageData");
		ASN1_item_free((ASN1_VALUE *)pe, ASN1_ITEM_rptr(spc_pe_image_data));
	} else {
		id->data->type = cat_oid(OID_SPC_CAB_DATA);
		if (!ASN1_TYPE_pack_sequence(ASN1_ITEM_rptr(spc_link), link, &id->data->value))
			cat_die("cannot encode SpcLink");
		ASN1_item_free((ASN1_VALUE *)link, ASN1_ITEM_rptr(spc_link));
	}
	if (!X509_ALGOR_set0(id->digest->alg, OBJ_nid2obj(NID_sha256), V_ASN1_NULL, NULL))
		cat_die("X509_ALGOR_set0 failed");
	if (!ASN1_OCTET_STRING_set(id->digest->digest, m->hash, CAT_HASH_LEN))
		cat_die("ASN1_OCTET_STRING_set failed");
	len = cat_item_der(id, ASN1_ITEM_rptr(spc_indirect_data), &der);
	a = cat_der_attr(OID_SPC_INDIRECT_DATA, V_ASN1_SEQUENCE, der, len);
	OPENSSL_free(der);
	ASN1_item_free((ASN1_VALUE *)id, ASN1_ITEM_rptr(spc_indirect_data));
	return a;
}

static cat_subject *cat_make_subject(const struct cat_member *m, const char *os_attr)
{
	/* CAT_MEMBERINFO2's value is an empty [2] (context, primitive): raw DER. */
	static const unsigned char memberinfo2[] = { 0x82, 0x00 };
	cat_subject *s = cat_xcheck(ASN1_item_new(ASN1_ITEM_rptr(cat_subject)), "subject");

	if (!ASN1_OCTET_STRING_set(s->identifier, m->hash, CAT_HASH_LEN))
		cat_die("ASN1_OCTET_STRING_set failed");
	s->attrs = cat_xcheck(sk_X509_ATTRIBUTE_new_null(), "attrs");
	sk_X509_ATTRIBUTE_push(s->attrs, cat_indirect_data_attr(m));
	sk_X509_ATTRIBUTE_push(s->attrs, cat_raw_attr(OID_CAT_MEMBERINFO2, memberinfo2, sizeof(memberinfo2)));
	sk_X509_ATTRIBUTE_push(s->attrs, cat_name_value_attr("File", m->name));
	if (os_attr)
		sk_X509_ATTRIBUTE_push(s->attrs, cat_name_value_attr("OSAttr", os_attr));
	return s;
}

static void cat_add_extension(cat_ctl *ctl, const char *tag, const char *value)
{
	cat_name_value *nv = cat_new_name_value(tag, value);
	unsigned char *der;
	int len = cat_item_der(nv, ASN1_ITEM_rptr(cat_name_value), &der);
	ASN1_OCTET_STRING *os = cat_xcheck(ASN1_OCTET_STRING_new(), "ext");
	ASN1_OBJECT *o = cat_oid(OID_CAT_NAMEVALUE);
	X509_EXTENSION *ext;

	if (!ASN1_OCTET_STRING_set(os, der, len))
		cat_die("ASN1_OCTET_STRING_set failed");
	ext = cat_xcheck(X509_EXTENSION_create_by_OBJ(NULL, o, 0, os), "extension");
	if (ctl->extensions == NULL)
		ctl->extensions = cat_xcheck(sk_X509_EXTENSION_new_null(), "exts");
	sk_X509_EXTENSION_push(ctl->extensions, ext);
	ASN1_OBJECT_free(o);
	ASN1_OCTET_STRING_free(os);
	OPENSSL_free(der);
	ASN1_item_free((ASN1_VALUE *)nv, ASN1_ITEM_rptr(cat_name_value));
}

static int cat_cmp_member(const void *a, const void *b)
{
	return memcmp(((const struct cat_member *)a)->hash, ((const struct cat_member *)b)->hash, CAT_HASH_LEN);
}

static long long cat_parse_epoch(const char *s, const char *what)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > 2524607999LL) /* UTCTime ends in 2049 */
		cat_die("%s \"%s\" is not a time in seconds between 1970 and 2049", what, s);
	return v;
}

static void cat_build(const char *out, long long epoch, const char *os, const char *os_attr,
		  char **hwids, int nhwids, char **files, int nfiles)
{
	struct cat_member *m = cat_xcheck(calloc((size_t)nfiles, sizeof(*m)), "members");
	cat_ctl *ctl = cat_xcheck(ASN1_item_new(ASN1_ITEM_rptr(cat_ctl)), "ctl");
	unsigned char digest[CAT_HASH_LEN], *der;
	EVP_MD_CTX *md = cat_xcheck(EVP_MD_CTX_new(), "md");
	ASN1_STRING *content;
	ASN1_TYPE *any;
	PKCS7 *p7, *inner;
	int i, j, len;
	FILE *f;
	char tmp[4096], tag[16];

	for (i = 0; i < nfiles; i++) {
		m[i].path = files[i];
		m[i].name = cat_base_name(files[i]);
		cat_check_ascii(m[i].name, "file name");
		for (j = 0; j < i; j++)
			if (!strcasecmp(m[i].name, m[j].name))
				cat_die("two members are named %s", m[i].name);
		m[i].pe = cat_member_hash(files[i], m[i].hash);
	}
	qsort(m, (size_t)nfiles, sizeof(*m), cat_cmp_member);

	/* listIdentifier: makecat uses a random GUID; a digest of the contents
	 * keeps the catalog reproducible while still differing between lists. */
	if (!EVP_DigestInit_ex(md, EVP_sha256(), NULL))
		cat_die("EVP_DigestInit_ex failed");
	for (i = 0; i < nfiles; i++) {
		cat_sha256_update(md, (const unsigned char *)m[i].name, strlen(m[i].name) + 1);
		cat_sha256_update(md, m[i].hash, CAT_HASH_LEN);
	}
	for (i = 0; i < nhwids; i++)
		cat_sha256_update(md, (const unsigned char *)hwids[i], strlen(hwids[i]) + 1);
	if (!EVP_DigestFinal_ex(md, digest, NULL))
		cat_die("EVP_DigestFinal_ex failed");
	EVP_MD_CTX_free(md);

	sk_ASN1_OBJECT_push(ctl->usage, cat_oid(OID_CATALOG_LIST));
	ctl->list_id = cat_xcheck(ASN1_OCTET_STRING_new(), "listid");
	if (!ASN1_OCTET_STRING_set(ctl->list_id, digest, 16))
		cat_die("ASN1_OCTET_STRING_set failed");
	if (!ASN1_TIME_set(ctl->this_update, (time_t)epoch))
		cat_die("ASN1_TIME_set failed");
	if (!X509_ALGOR_set0(ctl->subject_alg, cat_oid(OID_CATALOG_MEMBER2), V_ASN1_NULL, NULL))
		cat_die("X509_ALGOR_set0 failed");
	ctl->subjects = cat_xcheck(sk_cat_subject_new_null(), "subjects");
	for (i = 0; i < nfiles; i++)
		sk_cat_subject_push(ctl->subjects, cat_make_subject(&m[i], os_attr));
	if (os)
		cat_add_extension(ctl, "OS", os);
	for (i = 0; i < nhwids; i++) {
		snprintf(tag, sizeof(tag), "HWID%d", i + 1);
		cat_add_extension(ctl, tag, hwids[i]);
	}

	/* SignedData { version 1, no digests, content CTL, no signers }; the
	 * CTL is the [0] EXPLICIT content itself, not an OCTET STRING. */
	len = cat_item_der(ctl, ASN1_ITEM_rptr(cat_ctl), &der);
	content = cat_xcheck(ASN1_STRING_type_new(V_ASN1_SEQUENCE), "content");
	ASN1_STRING_set0(content, der, len);
	any = cat_xcheck(ASN1_TYPE_new(), "any");
	ASN1_TYPE_set(any, V_ASN1_SEQUENCE, content);
	inner = cat_xcheck(PKCS7_new(), "p7");
	inner->type = cat_oid(OID_CTL);
	inner->d.other = any;
	p7 = cat_xcheck(PKCS7_new(), "p7");
	if (!PKCS7_set_type(p7, NID_pkcs7_signed) || !PKCS7_set_content(p7, inner))
		cat_die("cannot build the PKCS#7 envelope");
	der = NULL;
	len = i2d_PKCS7(p7, &der);
	if (len <= 0)
		cat_die("cannot encode the PKCS#7 envelope");

	/* Write beside the target and rename, so a failure leaves no partial file. */
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", out) >= (int)sizeof(tmp))
		cat_die("output path too long");
	f = fopen(tmp, "wb");
	if (f == NULL)
		cat_die("%s: %s", tmp, strerror(errno));
	if (fwrite(der, 1, (size_t)len, f) != (size_t)len || fclose(f) != 0) {
		remove(tmp);
		cat_die("%s: write failed", tmp);
	}
	if (rename(tmp, out) != 0) {
		remove(tmp);
		cat_die("%s: %s", out, strerror(errno));
	}
	OPENSSL_free(der);
	PKCS7_free(p7);
	ASN1_item_free((ASN1_VALUE *)ctl, ASN1_ITEM_rptr(cat_ctl));
	free(m);
}

/* ------------------------------------------------------------------ verify */

static const ASN1_STRING *cat_attr_sequence(X509_ATTRIBUTE *a)
{
	ASN1_TYPE *t = X509_ATTRIBUTE_get0_type(a, 0);

	if (t == NULL || t->type != V_ASN1_SEQUENCE)
		return NULL;
	return t->value.sequence;
}

static void *cat_unpack(const ASN1_STRING *s, const ASN1_ITEM *it)
{
	const unsigned char *p;

	if (s == NULL)
		return NULL;
	p = ASN1_STRING_get0_data(s);
	return ASN1_item_d2i(NULL, &p, ASN1_STRING_length(s), it);
}

/* The member's "File" name as ASCII, or an empty string. */
static void cat_member_name(cat_subject *s, char *name, size_t size)
{
	int i, j, n;

	name[0] = 0;
	for (i = 0; i < sk_X509_ATTRIBUTE_num(s->attrs); i++) {
		X509_ATTRIBUTE *a = sk_X509_ATTRIBUTE_value(s->attrs, i);
		char txt[64];
		cat_name_value *nv;
		const unsigned char *tag, *val;

		OBJ_obj2txt(txt, sizeof(txt), X509_ATTRIBUTE_get0_object(a), 1);
		if (strcmp(txt, OID_CAT_NAMEVALUE) != 0)
			continue;
		nv = cat_unpack(cat_attr_sequence(a), ASN1_ITEM_rptr(cat_name_value));
		if (nv == NULL)
			continue;
		tag = ASN1_STRING_get0_data(nv->tag);
		if (ASN1_STRING_length(nv->tag) == 8 && !memcmp(tag, "\0F\0i\0l\0e", 8)) {
			val = ASN1_STRING_get0_data(nv->value);
			n = ASN1_STRING_length(nv->value) / 2;
			for (j = 0; j < n && (size_t)j + 1 < size && val[2 * j]; j++)
				name[j] = (val[2 * j + 1] == 0 && val[2 * j] < 0x80) ? (char)val[2 * j] : '?';
			name[j] = 0;
		}
		ASN1_item_free((ASN1_VALUE *)nv, ASN1_ITEM_rptr(cat_name_value));
	}
}

static int cat_member_digest(cat_subject *s, unsigned char out[CAT_HASH_LEN])
{
	int i, ok = 0;

	for (i = 0; i < sk_X509_ATTRIBUTE_num(s->attrs); i++) {
		X509_ATTRIBUTE *a = sk_X509_ATTRIBUTE_value(s->attrs, i);
		char txt[64];
		spc_indirect_data *id;

		OBJ_obj2txt(txt, sizeof(txt), X509_ATTRIBUTE_get0_object(a), 1);
		if (strcmp(txt, OID_SPC_INDIRECT_DATA) != 0)
			continue;
		id = cat_unpack(cat_attr_sequence(a), ASN1_ITEM_rptr(spc_indirect_data));
		if (id && OBJ_obj2nid(id->digest->alg->algorithm) == NID_sha256 &&
		    ASN1_STRING_length(id->digest->digest) == CAT_HASH_LEN) {
			memcpy(out, ASN1_STRING_get0_data(id->digest->digest), CAT_HASH_LEN);
			ok = 1;
		}
		ASN1_item_free((ASN1_VALUE *)id, ASN1_ITEM_rptr(spc_indirect_data));
	}
	return ok;
}

static int cat_verify(const char *cat_path, char **files, int nfiles)
{
	size_t len;
	unsigned char *buf = cat_read_file(cat_path, &len);
	const unsigned char *p = buf;
	PKCS7 *p7 = d2i_PKCS7(NULL, &p, (long)len);
	PKCS7 *inner;
	cat_ctl *ctl;
	char txt[64], name[CAT_MAX_NAME + 1], want[2 * CAT_HASH_LEN + 1], got[2 * CAT_HASH_LEN + 1];
	unsigned char hash[CAT_HASH_LEN], digest[CAT_HASH_LEN];
	int i, j, bad = 0, found, nmembers;

	if (p7 == NULL || !PKCS7_type_is_signed(p7) || p7->d.sign == NULL || p7->d.sign->contents == NULL)
		cat_die("%s: not a PKCS#7 signed-data catalog", cat_path);
	inner = p7->d.sign->contents;
	OBJ_obj2txt(txt, sizeof(txt), inner->type, 1);
	if (strcmp(txt, OID_CTL) != 0 || inner->d.other == NULL || inner->d.other->type != V_ASN1_SEQUENCE)
		cat_die("%s: content is not a certificate trust list (%s)", cat_path, txt);
	ctl = cat_unpack(inner->d.other->value.sequence, ASN1_ITEM_rptr(cat_ctl));
	if (ctl == NULL)
		cat_die("%s: cannot decode the certificate trust list", cat_path);
	nmembers = sk_cat_subject_num(ctl->subjects);
	if (nmembers <= 0)
		cat_die("%s: catalog has no members", cat_path);
	if (nmembers != nfiles) {
		fprintf(stderr, "%s: catalog has %d members, %d files given\n", prog, nmembers, nfiles);
		bad = 1;
	}
	for (i = 0; i < nfiles; i++) {
		const char *bn = cat_base_name(files[i]);

		cat_member_hash(files[i], hash);
		found = 0;
		for (j = 0; j < nmembers; j++) {
			cat_subject *s = sk_cat_subject_value(ctl->subjects, j);

			cat_member_name(s, name, sizeof(name));
			if (strcasecmp(name, bn) != 0)
				continue;
			found = 1;
			if (!cat_member_digest(s, digest)) {
				fprintf(stderr, "%s: %s: member has no SHA-256 indirect data\n", prog, bn);
				bad = 1;
			} else if (memcmp(digest, hash, CAT_HASH_LEN) != 0 ||
				   ASN1_STRING_length(s->identifier) != CAT_HASH_LEN ||
				   memcmp(ASN1_STRING_get0_data(s->identifier), hash, CAT_HASH_LEN) != 0) {
				cat_hex(digest, CAT_HASH_LEN, want);
				cat_hex(hash, CAT_HASH_LEN, got);
				fprintf(stderr, "%s: %s: hash mismatch: catalog %s, file %s\n", prog, bn, want, got);
				bad = 1;
			}
		}
		if (!found) {
			fprintf(stderr, "%s: %s: not a member of %s\n", prog, bn, cat_path);
			bad = 1;
		}
	}
	ASN1_item_free((ASN1_VALUE *)ctl, ASN1_ITEM_rptr(cat_ctl));
	PKCS7_free(p7);
	free(buf);
	return bad;
}

/* ------------------------------------------------------------------ main */

static void cat_read_hwids(const char *path, char **hwids, int *n)
{
	FILE *f = fopen(path, "r");
	char line[512];

	if (f == NULL)
		cat_die("%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		size_t l = strcspn(line, "\r\n");

		if (line[l] == 0 && !feof(f))
			cat_die("%s: line longer than %zu characters", path, sizeof(line) - 2);
		line[l] = 0;
		if (l == 0)
			continue;
		if (*n >= CAT_MAX_HWIDS)
			cat_die("%s: more than %d hardware IDs", path, CAT_MAX_HWIDS);
		hwids[(*n)++] = cat_xcheck(strdup(line), "hwid");
	}
	fclose(f);
}

static void cat_usage(void)
{
	fprintf(stderr,
		"usage: %s -o OUT.cat [-t EPOCH] [-O OS] [-A OSATTR] [-H HWID]... [-h HWIDFILE] FILE...\n"
		"       %s -V CAT FILE...\n"
		"       %s -p PEFILE...\n", prog, prog, prog);
	exit(2);
}

int main(int argc, char **argv)
{
	const char *out = NULL, *os = NULL, *os_attr = NULL, *vcat = NULL, *sde;
	char *hwids[CAT_MAX_HWIDS];
	int nhwids = 0, print_hash = 0, i, j, k;
	long long epoch = -1;

	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		const char *opt = argv[i];

		if (!strcmp(opt, "--")) {
			i++;
			break;
		}
		if (!strcmp(opt, "-p")) {
			print_hash = 1;
			continue;
		}
		if (strlen(opt) != 2 || i + 1 >= argc)
			cat_usage();
		switch (opt[1]) {
		case 'o': out = argv[++i]; break;
		case 't': epoch = cat_parse_epoch(argv[++i], "-t"); break;
		case 'O': os = argv[++i]; cat_check_ascii(os, "OS"); break;
		case 'A': os_attr = argv[++i]; cat_check_ascii(os_attr, "OSAttr"); break;
		case 'V': vcat = argv[++i]; break;
		case 'H':
			if (nhwids >= CAT_MAX_HWIDS)
				cat_die("more than %d hardware IDs", CAT_MAX_HWIDS);
			hwids[nhwids++] = argv[++i];
			break;
		case 'h': cat_read_hwids(argv[++i], hwids, &nhwids); break;
		default: cat_usage();
		}
	}
	if (i >= argc)
		cat_usage();
	if (print_hash) {
		for (; i < argc; i++) {
			size_t len;
			unsigned char *buf = cat_read_file(argv[i], &len), h[CAT_HASH_LEN];
			char txt[2 * CAT_HASH_LEN + 1];

			if (!cat_pe_hash(argv[i], buf, len, h))
				cat_die("%s: not a PE image", argv[i]);
			cat_hex(h, CAT_HASH_LEN, txt);
			printf("%s  %s\n", txt, argv[i]);
			free(buf);
		}
		return 0;
	}
	if (vcat)
		return cat_verify(vcat, argv + i, argc - i);
	if (out == NULL)
		cat_usage();
	if (epoch < 0) {
		sde = getenv("SOURCE_DATE_EPOCH");
		if (sde == NULL || !*sde)
			cat_die("no time given: use -t or set SOURCE_DATE_EPOCH");
		epoch = cat_parse_epoch(sde, "SOURCE_DATE_EPOCH");
	}
	/* Hardware IDs are matched case-insensitively; store them lower case
	 * like inf2cat, dropping duplicates so HWIDn numbering is stable. */
	for (j = 0, k = 0; j < nhwids; j++) {
		char *h = cat_xcheck(strdup(hwids[j]), "hwid");
		int dup = 0, x;

		cat_check_ascii(h, "hardware ID");
		for (char *c = h; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		for (x = 0; x < k; x++)
			if (!strcmp(hwids[x], h))
				dup = 1;
		if (dup)
			free(h);
		else
			hwids[k++] = h;
	}
	cat_build(out, epoch, os, os_attr, hwids, k, argv + i, argc - i);
	for (j = 0; j < k; j++)
		free(hwids[j]);
	return 0;
}
