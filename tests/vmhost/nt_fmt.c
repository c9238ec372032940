/* DbgPrint/vsnprintf-style formatting with Windows semantics: `l` and `h`
 * are 32/16-bit (LLP64), `I64`/`ll` are 64-bit, `I`/`z` are pointer
 * sized, %ws/%S take UTF-16, %wZ takes a UNICODE_STRING, %Z an ANSI_STRING.
 * Non-ASCII UTF-16 units print as '?' because the log is ASCII. */
#include "vmhost.h"

#include <string.h>

struct sink {
	char *out;
	size_t size, len;
};

static void put(struct sink *s, char c)
{
	if (s->len + 1 < s->size)
		s->out[s->len++] = c;
}

static void put_pad(struct sink *s, const char *p, size_t n, int width, bool left, char padc)
{
	size_t w = width > 0 ? (size_t)width : 0;

	if (!left)
		for (size_t i = n; i < w; i++)
			put(s, padc);
	for (size_t i = 0; i < n; i++)
		put(s, p[i]);
	if (left)
		for (size_t i = n; i < w; i++)
			put(s, ' ');
}

static void put_wide(struct sink *s, const uint16_t *w, size_t max_units, int width, bool left)
{
	char tmp[512];
	size_t n = 0;

	if (!w) {
		put_pad(s, "(null)", 6, width, left, ' ');
		return;
	}
	for (size_t i = 0; i < max_units && w[i] && n < sizeof(tmp); i++)
		tmp[n++] = (w[i] >= 0x20 && w[i] < 0x7f) ? (char)w[i] : '?';
	put_pad(s, tmp, n, width, left, ' ');
}

size_t nt_format(char *out, size_t size, const char *fmt, __builtin_ms_va_list *ap)
{
	struct sink s = { out, size, 0 };

	if (!size)
		return 0;
	if (!fmt)
		fmt = "(null format)";
	for (const char *p = fmt; *p; p++) {
		bool left = false, alt = false, wide = false, prec_set = false;
		char padc = ' ', sign = 0, num[72], *q;
		int width = 0, prec = 0, bits = 32;
		uint64_t v;
		int64_t sv;
		unsigned base;

		if (*p != '%') {
			put(&s, *p);
			continue;
		}
		p++;
		for (;; p++) {
			if (*p == '-') left = true;
			else if (*p == '0') padc = '0';
			else if (*p == '#') alt = true;
			else if (*p == '+' || *p == ' ') sign = *p;
			else break;
		}
		if (*p == '*') {
			width = __builtin_va_arg(*ap, int);
			p++;
		} else {
			while (*p >= '0' && *p <= '9')
				width = width * 10 + (*p++ - '0');
		}
		if (width > 256)
			width = 256;
		if (*p == '.') {
			prec_set = true;
			p++;
			if (*p == '*') {
				prec = __builtin_va_arg(*ap, int);
				p++;
			} else {
				while (*p >= '0' && *p <= '9')
					prec = prec * 10 + (*p++ - '0');
			}
		}
		/* Size modifiers, Windows meaning. */
		if (p[0] == 'I' && p[1] == '6' && p[2] == '4') { bits = 64; p += 3; }
		else if (p[0] == 'I' && p[1] == '3' && p[2] == '2') { bits = 32; p += 3; }
		else if (p[0] == 'I') { bits = 64; p++; }
		else if (p[0] == 'l' && p[1] == 'l') { bits = 64; p += 2; }
		else if (p[0] == 'l') { bits = 32; wide = true; p++; }
		else if (p[0] == 'h' && p[1] == 'h') { bits = 8; p += 2; }
		else if (p[0] == 'h') { bits = 16; p++; }
		else if (p[0] == 'z' || p[0] == 't' || p[0] == 'j') { bits = 64; p++; }
		else if (p[0] == 'w') { wide = true; p++; }

		base = 10;
		switch (*p) {
		case 0:
			p--;
			continue;
		case '%':
			put(&s, '%');
			continue;
		case 'c':
			num[0] = (char)__builtin_va_arg(*ap, int);
			put_pad(&s, num, 1, width, left, ' ');
			continue;
		case 'C':
			num[0] = (char)(__builtin_va_arg(*ap, int) & 0x7f);
			put_pad(&s, num, 1, width, left, ' ');
			continue;
		case 's':
		case 'S':
			if (wide || *p == 'S') {
				put_wide(&s, __builtin_va_arg(*ap, const uint16_t *),
					 prec_set ? (size_t)prec : SIZE_MAX, width, left);
			} else {
				const char *str = __builtin_va_arg(*ap, const char *);
				size_t n;
				if (!str)
					str = "(null)";
				n = prec_set ? strnlen(str, (size_t)prec) : strlen(str);
				put_pad(&s, str, n, width, left, ' ');
			}
			continue;
		case 'Z': {
			/* %wZ: UNICODE_STRING; %Z: ANSI_STRING. Length is bytes. */
			const void *str = __builtin_va_arg(*ap, const void *);
			if (!str) {
				put_pad(&s, "(null)", 6, width, left, ' ');
			} else if (wide) {
				const nt_unicode_string *u = str;
				put_wide(&s, u->Buffer, u->Length / 2, width, left);
			} else {
				const nt_ansi_string *a = str;
				if (!a->Buffer)
					put_pad(&s, "(null)", 6, width, left, ' ');
				else
					put_pad(&s, a->Buffer, strnlen(a->Buffer, a->Length), width, left, ' ');
			}
			continue;
		}
		case 'p':
			v = (uint64_t)(uintptr_t)__builtin_va_arg(*ap, void *);
			q = num + sizeof(num);
			for (int i = 0; i < 16; i++, v >>= 4)
				*--q = "0123456789ABCDEF"[v & 15];
			put_pad(&s, q, 16, width, left, ' ');
			continue;
		case 'd':
		case 'i':
			sv = bits == 64 ? __builtin_va_arg(*ap, int64_t) : __builtin_va_arg(*ap, int32_t);
			if (bits == 16) sv = (int16_t)sv;
			if (bits == 8) sv = (int8_t)sv;
			if (sv < 0) {
				sign = '-';
				v = (uint64_t)0 - (uint64_t)sv;
			} else {
				v = (uint64_t)sv;
			}
			break;
		case 'u':
		case 'x':
		case 'X':
		case 'o':
			v = bits == 64 ? __builtin_va_arg(*ap, uint64_t) : __builtin_va_arg(*ap, uint32_t);
			if (bits == 16) v = (uint16_t)v;
			if (bits == 8) v = (uint8_t)v;
			base = *p == 'u' ? 10 : *p == 'o' ? 8 : 16;
			sign = 0;
			break;
		default:
			/* Unknown conversion: show it literally rather than guess
			 * how many argument bytes it would consume. */
			put(&s, '%');
			put(&s, *p);
			continue;
		}
		{
			const char *digits = *p == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
			char body[160];
			size_t n = 0, bl = 0;

			q = num + sizeof(num);
			do {
				*--q = digits[v % base];
				v /= base;
			} while (v);
			n = (size_t)(num + sizeof(num) - q);
			if (sign)
				body[bl++] = sign;
			if (alt && base == 16) {
				body[bl++] = '0';
				body[bl++] = *p;
			}
			if (prec_set && prec > 64)
				prec = 64;
			for (size_t i = n; prec_set && i < (size_t)prec; i++)
				body[bl++] = '0';
			if (padc == '0' && !left && !prec_set)
				for (size_t i = bl + n; i < (size_t)width && bl + n < sizeof(body); i++)
					body[bl++] = '0';
			memcpy(body + bl, q, n);
			bl += n;
			put_pad(&s, body, bl, width, left, ' ');
		}
	}
	out[s.len] = 0;
	return s.len;
}
