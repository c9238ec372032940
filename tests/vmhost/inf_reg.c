/* The registry values an INF creates for one device (see inf_reg.h).
 *
 * Follows the INF install chain the way SetupAPI does for a PCI device:
 * [Manufacturer] -> models section for the architecture -> DDInstall
 * (AddReg: driver key), DDInstall.HW (AddReg: device key),
 * DDInstall.Services (AddService -> service-install section -> AddReg:
 * service key). Syntax handled: sections, '=' keys, comma fields, "quoted"
 * strings with "" escapes, ';' comments, '\' continuation, %strkey% and %%. */
#include "inf_reg.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define INF_FIELDS 8
#define INF_FIELD_LEN 256
#define INF_MAX_LINES 4096
#define INF_MAX_SECTIONS 256

struct inf_line {
	unsigned section; /* index into sections */
	unsigned lineno;
	char key[INF_FIELD_LEN]; /* "" when the line has no '=' */
	unsigned nfields;
	char field[INF_FIELDS][INF_FIELD_LEN];
};

struct inf_file {
	unsigned nsections, nlines;
	char sections[INF_MAX_SECTIONS][INF_FIELD_LEN];
	struct inf_line lines[INF_MAX_LINES];
};

struct inf_ctx {
	struct inf_file *f;
	char *err;
	size_t errlen;
};

static bool fail(struct inf_ctx *c, unsigned lineno, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static bool fail(struct inf_ctx *c, unsigned lineno, const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	if (!c->errlen)
		return false;
	if (lineno)
		n = snprintf(c->err, c->errlen, "line %u: ", lineno);
	if (n < 0 || (size_t)n >= c->errlen)
		n = 0;
	va_start(ap, fmt);
	vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return false;
}

static void trim(char *s)
{
	size_t n = strlen(s), i = 0;

	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = 0;
	while (isspace((unsigned char)s[i]))
		i++;
	memmove(s, s + i, n - i + 1);
}

/* Split one logical line into key and fields. Quotes protect ',', '=' and
 * ';'; a quoted field keeps its inner spaces, an unquoted one is trimmed. */
static bool split_line(struct inf_ctx *c, struct inf_line *l, const char *s)
{
	char cur[INF_FIELD_LEN];
	size_t n = 0;
	bool quoted = false, have_key = false;

	l->nfields = 0;
	l->key[0] = 0;
	for (;; s++) {
		char ch = *s;

		if (quoted) {
			if (!ch)
				return fail(c, l->lineno, "unterminated quoted string");
			if (ch == '"') {
				if (s[1] == '"') {
					s++;
				} else {
					quoted = false;
					continue;
				}
			}
		} else if (ch == '"') {
			quoted = true;
			continue;
		} else if (!ch || ch == ';' || ch == ',' || (ch == '=' && !have_key && !l->nfields)) {
			cur[n] = 0;
			trim(cur);
			if (ch == '=') {
				snprintf(l->key, sizeof(l->key), "%s", cur);
				have_key = true;
			} else {
				if (l->nfields == INF_FIELDS)
					return fail(c, l->lineno, "more than %d fields", INF_FIELDS);
				snprintf(l->field[l->nfields++], INF_FIELD_LEN, "%s", cur);
			}
			n = 0;
			if (!ch || ch == ';')
				return true;
			continue;
		}
		if (n + 1 >= sizeof(cur))
			return fail(c, l->lineno, "field longer than %d characters", INF_FIELD_LEN - 1);
		cur[n++] = ch;
	}
}

static int find_section(const struct inf_file *f, const char *name)
{
	for (unsigned i = 0; i < f->nsections; i++)
		if (!strcasecmp(f->sections[i], name))
			return (int)i;
	return -1;
}

static bool read_lines(struct inf_ctx *c, const char *text, size_t len)
{
	struct inf_file *f = c->f;
	char logical[2048];
	size_t ln = 0, pos = 0;
	unsigned lineno = 0, start = 0;
	int section = -1;

	while (pos < len) {
		size_t e = pos, n;
		bool cont = false;

		while (e < len && text[e] != '\n')
			e++;
		n = e - pos;
		lineno++;
		if (!ln)
			start = lineno;
		if (memchr(text + pos, 0, n))
			return fail(c, lineno, "NUL byte (UTF-16 INFs are not read by the test host)");
		if (n && text[pos + n - 1] == '\r')
			n--;
		/* A trailing '\' (outside a comment) joins the next line. */
		if (n && text[pos + n - 1] == '\\' && !memchr(text + pos, ';', n)) {
			n--;
			cont = true;
		}
		if (ln + n + 1 >= sizeof(logical))
			return fail(c, lineno, "logical line longer than %zu bytes", sizeof(logical) - 1);
		memcpy(logical + ln, text + pos, n);
		ln += n;
		logical[ln] = 0;
		pos = e + 1;
		if (cont)
			continue;
		ln = 0;
		trim(logical);
		if (!logical[0] || logical[0] == ';')
			continue;
		if (logical[0] == '[') {
			char *close = strchr(logical, ']');

			if (!close)
				return fail(c, start, "section header without ']'");
			*close = 0;
			trim(logical + 1);
			if (!logical[1])
				return fail(c, start, "empty section name");
			if (strlen(logical + 1) >= INF_FIELD_LEN)
				return fail(c, start, "section name longer than %d characters", INF_FIELD_LEN - 1);
			section = find_section(f, logical + 1);
			if (section < 0) {
				if (f->nsections == INF_MAX_SECTIONS)
					return fail(c, start, "more than %d sections", INF_MAX_SECTIONS);
				memcpy(f->sections[f->nsections], logical + 1, strlen(logical + 1) + 1);
				section = (int)f->nsections++;
			}
			continue;
		}
		if (section < 0)
			return fail(c, start, "text before the first section");
		if (f->nlines == INF_MAX_LINES)
			return fail(c, start, "more than %d lines", INF_MAX_LINES);
		f->lines[f->nlines].section = (unsigned)section;
		f->lines[f->nlines].lineno = start;
		if (!split_line(c, &f->lines[f->nlines], logical))
			return false;
		f->nlines++;
	}
	return true;
}

/* %key% from [Strings] (case-insensitive), %% = '%'. */
static bool substitute(struct inf_ctx *c, unsigned lineno, char *s)
{
	int strings = find_section(c->f, "Strings");
	char out[INF_FIELD_LEN];
	size_t n = 0;

	for (const char *p = s; *p; p++) {
		const char *val = NULL;
		char one[2] = { *p, 0 };

		if (*p == '%') {
			const char *end = strchr(p + 1, '%');
			char key[INF_FIELD_LEN];

			if (!end)
				return fail(c, lineno, "unmatched '%%' in \"%s\"", s);
			if (end == p + 1) {
				val = "%";
			} else {
				snprintf(key, sizeof(key), "%.*s", (int)(end - p - 1), p + 1);
				for (unsigned i = 0; strings >= 0 && i < c->f->nlines; i++) {
					const struct inf_line *l = &c->f->lines[i];

					if (l->section == (unsigned)strings && l->nfields &&
					    !strcasecmp(l->key, key))
						val = l->field[0];
				}
				if (!val)
					return fail(c, lineno, "string key %%%s%% is not in [Strings]", key);
			}
			p = end;
		} else {
			val = one;
		}
		if (n + strlen(val) >= sizeof(out))
			return fail(c, lineno, "value too long after %%string%% substitution");
		memcpy(out + n, val, strlen(val));
		n += strlen(val);
	}
	out[n] = 0;
	memcpy(s, out, n + 1);
	return true;
}

/* The next line with `key` in section `sec` at or after *from; NULL if none. */
static struct inf_line *directive(struct inf_ctx *c, int sec, const char *key, unsigned *from)
{
	for (unsigned i = from ? *from : 0; sec >= 0 && i < c->f->nlines; i++) {
		struct inf_line *l = &c->f->lines[i];

		if (l->section == (unsigned)sec && !strcasecmp(l->key, key)) {
			if (from)
				*from = i + 1;
			return l;
		}
	}
	return NULL;
}

static bool parse_number(const char *s, uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (!*s || *end || errno || v > 0xffffffffu)
		return false;
	*out = (uint32_t)v;
	return true;
}

static bool add_value(struct inf_ctx *c, struct infreg *r, enum infreg_root root,
		      struct inf_line *l)
{
	struct infreg_value *v;
	uint32_t flags = 0;

	for (unsigned i = 0; i < l->nfields; i++)
		if (!substitute(c, l->lineno, l->field[i]))
			return false;
	if (l->key[0] || l->nfields < 2)
		return fail(c, l->lineno, "AddReg entry needs root, subkey[, name[, flags[, value]]]");
	if (strcasecmp(l->field[0], "HKR"))
		return true; /* absolute keys are not the device's */
	if (l->nfields >= 4 && l->field[3][0] && !parse_number(l->field[3], &flags))
		return fail(c, l->lineno, "AddReg flags \"%s\" are not a number", l->field[3]);
	if (flags & 0x10) /* FLG_ADDREG_KEYONLY */
		return true;
	if (r->count == INFREG_MAX)
		return fail(c, l->lineno, "more than %d registry values", INFREG_MAX);
	v = &r->v[r->count];
	memset(v, 0, sizeof(*v));
	v->root = root;
	if (strlen(l->field[1]) >= sizeof(v->subkey) || (l->nfields > 2 && strlen(l->field[2]) >= sizeof(v->name)))
		return fail(c, l->lineno, "registry key or value name too long");
	snprintf(v->subkey, sizeof(v->subkey), "%s", l->field[1]);
	snprintf(v->name, sizeof(v->name), "%s", l->nfields > 2 ? l->field[2] : "");
	switch (flags & 0xffff0001u) {
	case 0x00000000: v->type = INFREG_SZ; break;
	case 0x00020000: v->type = INFREG_EXPAND_SZ; break;
	case 0x00010000: v->type = INFREG_MULTI_SZ; break;
	case 0x00000001: v->type = INFREG_BINARY; break;
	case 0x00010001: v->type = INFREG_DWORD; break;
	default: return fail(c, l->lineno, "AddReg flags 0x%08x: unknown value type", flags);
	}
	if (v->type == INFREG_DWORD && !parse_number(l->nfields > 4 ? l->field[4] : "", &v->dword))
		return fail(c, l->lineno, "REG_DWORD value \"%s\" is not a number",
			    l->nfields > 4 ? l->field[4] : "");
	snprintf(v->data, sizeof(v->data), "%s", l->nfields > 4 ? l->field[4] : "");
	/* A later entry for the same value replaces the earlier one, as in the registry. */
	for (unsigned i = 0; i < r->count; i++)
		if (r->v[i].root == root && !strcasecmp(r->v[i].subkey, v->subkey) &&
		    !strcasecmp(r->v[i].name, v->name)) {
			r->v[i] = *v;
			return true;
		}
	r->count++;
	return true;
}

/* Every AddReg directive of `sec`, each naming one or more sections. */
static bool apply_addreg(struct inf_ctx *c, struct infreg *r, enum infreg_root root, int sec)
{
	struct inf_line *d;
	unsigned from = 0;

	while ((d = directive(c, sec, "AddReg", &from))) {
		for (unsigned i = 0; i < d->nfields; i++) {
			int target;

			if (!d->field[i][0])
				continue;
			target = find_section(c->f, d->field[i]);
			if (target < 0)
				return fail(c, d->lineno, "AddReg section [%s] does not exist", d->field[i]);
			for (unsigned j = 0; j < c->f->nlines; j++) {
				struct inf_line l = c->f->lines[j];

				if (l.section == (unsigned)target && !add_value(c, r, root, &l))
					return false;
			}
		}
	}
	return true;
}

/* `name` decorated for the architecture if such a section exists. */
static int decorated(struct inf_ctx *c, const char *name, const char *suffix, const char *arch)
{
	char buf[2 * INF_FIELD_LEN + 16];
	int s;

	snprintf(buf, sizeof(buf), "%s.NT%s%s", name, arch, suffix);
	s = find_section(c->f, buf);
	if (s >= 0)
		return s;
	snprintf(buf, sizeof(buf), "%s.NT%s", name, suffix);
	s = find_section(c->f, buf);
	if (s >= 0)
		return s;
	snprintf(buf, sizeof(buf), "%s%s", name, suffix);
	return find_section(c->f, buf);
}

static bool install_section(struct inf_ctx *c, const char *arch, char *out)
{
	int mfg = find_section(c->f, "Manufacturer");
	struct inf_line *m;
	char models[2 * INF_FIELD_LEN + 8];
	int ms = -1;

	if (mfg < 0)
		return fail(c, 0, "no [Manufacturer] section");
	m = NULL;
	for (unsigned i = 0; i < c->f->nlines && !m; i++)
		if (c->f->lines[i].section == (unsigned)mfg)
			m = &c->f->lines[i];
	if (!m || !m->nfields || !m->field[0][0])
		return fail(c, 0, "[Manufacturer] names no models section");
	/* Decorations: the first one for this architecture wins. */
	for (unsigned i = 1; i < m->nfields && ms < 0; i++) {
		if (strncasecmp(m->field[i], "NT", 2) || strncasecmp(m->field[i] + 2, arch, strlen(arch)))
			continue;
		snprintf(models, sizeof(models), "%s.%s", m->field[0], m->field[i]);
		ms = find_section(c->f, models);
		if (ms < 0)
			return fail(c, m->lineno, "models section [%s] does not exist", models);
	}
	if (ms < 0 && m->nfields == 1)
		ms = find_section(c->f, m->field[0]);
	if (ms < 0)
		return fail(c, m->lineno, "no models section for NT%s", arch);
	for (unsigned i = 0; i < c->f->nlines; i++) {
		const struct inf_line *l = &c->f->lines[i];

		if (l->section != (unsigned)ms)
			continue;
		if (l->nfields < 2 || !l->field[0][0])
			return fail(c, l->lineno, "model line needs install-section, hardware-id");
		snprintf(out, INF_FIELD_LEN, "%s", l->field[0]);
		return true; /* every model of our INFs shares one install section */
	}
	return fail(c, 0, "models section [%s] is empty", c->f->sections[ms]);
}

static bool collect(struct inf_ctx *c, struct infreg *r, const char *arch)
{
	char inst[INF_FIELD_LEN];
	struct inf_line *d;
	unsigned from = 0;
	int sec;

	if (!install_section(c, arch, inst))
		return false;
	sec = decorated(c, inst, "", arch);
	if (sec < 0)
		return fail(c, 0, "install section [%s] does not exist", inst);
	if (!apply_addreg(c, r, INFREG_DRIVER, sec))
		return false;
	if (!apply_addreg(c, r, INFREG_HARDWARE, decorated(c, inst, ".HW", arch)))
		return false;
	sec = decorated(c, inst, ".Services", arch);
	while ((d = directive(c, sec, "AddService", &from))) {
		int svc;

		if (d->nfields < 3 || !d->field[2][0])
			return fail(c, d->lineno, "AddService needs name, flags, service-install-section");
		svc = find_section(c->f, d->field[2]);
		if (svc < 0)
			return fail(c, d->lineno, "service-install section [%s] does not exist", d->field[2]);
		if (!apply_addreg(c, r, INFREG_SERVICE, svc))
			return false;
	}
	return true;
}

bool infreg_parse(struct infreg *r, const char *text, size_t len, const char *arch, char *err,
		  size_t errlen)
{
	struct inf_ctx c = { .err = err, .errlen = errlen };
	bool ok;

	if (errlen)
		err[0] = 0;
	memset(r, 0, sizeof(*r));
	if (strcmp(arch, "amd64") && strcmp(arch, "x86"))
		return fail(&c, 0, "architecture must be amd64 or x86, not \"%s\"", arch);
	c.f = calloc(1, sizeof(*c.f));
	if (!c.f)
		return fail(&c, 0, "out of memory");
	ok = read_lines(&c, text, len) && collect(&c, r, arch);
	free(c.f);
	return ok;
}

bool infreg_load(struct infreg *r, const char *path, const char *arch, char *err, size_t errlen)
{
	FILE *fp = fopen(path, "rb");
	char *buf;
	size_t n;
	bool ok;

	if (!fp) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return false;
	}
	buf = malloc(1u << 20);
	n = buf ? fread(buf, 1, 1u << 20, fp) : 0;
	if (!buf || ferror(fp) || n == 1u << 20) {
		snprintf(err, errlen, "%s: %s", path, buf ? "unreadable or larger than 1 MiB" : "out of memory");
		fclose(fp);
		free(buf);
		return false;
	}
	fclose(fp);
	ok = infreg_parse(r, buf, n, arch, err, errlen);
	if (!ok && errlen) {
		char tmp[512];

		snprintf(tmp, sizeof(tmp), "%s: %s", path, err);
		snprintf(err, errlen, "%s", tmp);
	}
	free(buf);
	return ok;
}

const struct infreg_value *infreg_find(const struct infreg *r, enum infreg_root root,
				       const char *subkey, const char *name)
{
	for (unsigned i = 0; i < r->count; i++)
		if (r->v[i].root == root && !strcasecmp(r->v[i].subkey, subkey) &&
		    !strcasecmp(r->v[i].name, name))
			return &r->v[i];
	return NULL;
}

const char *infreg_ndis_param(const struct infreg *r, const char *name)
{
	const struct infreg_value *v = infreg_find(r, INFREG_DRIVER, "", name);
	char key[sizeof(v->subkey)];

	if (v)
		return v->data;
	if ((size_t)snprintf(key, sizeof(key), "Ndi\\params\\%s", name) >= sizeof(key))
		return NULL;
	v = infreg_find(r, INFREG_DRIVER, key, "Optional");
	if (v && !strcmp(v->data, "1"))
		return NULL;
	v = infreg_find(r, INFREG_DRIVER, key, "Default");
	return v ? v->data : NULL;
}

static struct infreg vh_installed;

bool vh_registry_load(const char *path, char *err, size_t errlen)
{
	return infreg_load(&vh_installed, path, "amd64", err, errlen);
}

const struct infreg *vh_registry(void)
{
	return &vh_installed;
}
