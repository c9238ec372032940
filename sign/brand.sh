#!/bin/sh
# brand.sh: read and validate a brand configuration (brand/*.conf).
#
#   brand.sh check CONF        validate; warnings on stderr; exit 1 on error
#   brand.sh env CONF          validate, then print shell assignments
#                              BRAND_<KEY>='value' for `eval`
#   brand.sh get CONF KEY      validate, then print one value
#
# The list of drivers (for the <ID>_FILE/_SERVICE/_DESC keys) comes from the
# INF templates inf/<id>.inf.in, or from $BRAND_DRIVERS (space separated ids).
# On error exactly one line "brand: FILE:LINE: message" goes to stderr.
set -eu

usage() { echo "usage: $0 check|env CONF | get CONF KEY" >&2; exit 2; }
[ $# -ge 2 ] || usage
mode=$1 conf=$2
case $mode in check|env) [ $# -eq 2 ] || usage ;; get) [ $# -eq 3 ] || usage ;; *) usage ;; esac

if [ ! -f "$conf" ] || [ ! -r "$conf" ]; then
	echo "brand: $conf: cannot read brand configuration" >&2
	exit 1
fi

if [ -z "${BRAND_DRIVERS+x}" ]; then
	top=$(cd "$(dirname "$0")/.." && pwd)
	BRAND_DRIVERS=
	for t in "$top"/inf/*.inf.in; do
		[ -f "$t" ] || continue
		t=${t##*/}
		BRAND_DRIVERS="$BRAND_DRIVERS ${t%.inf.in}"
	done
fi

assignments=$(LC_ALL=C awk -v conf="$conf" -v drivers="$BRAND_DRIVERS" '
function fail(msg) {
	printf "brand: %s%s: %s\n", conf, (lineno ? ":" lineno : ""), msg > "/dev/stderr"
	failed = 1
	exit 1
}
function warn(msg) { printf "brand: %s: warning: %s\n", conf, msg > "/dev/stderr" }
function add_key(k, kind, req) { kinds[k] = kind; required[k] = req; order[++nkeys] = k }
function is_text(v) { return v ~ /^[ -~]+$/ && v !~ /["%$;\\]/ }
function check_value(k, v,    n, i, parts, seen) {
	kind = kinds[k]
	if (v == "") {
		if (required[k] == 1)
			fail(k " must not be empty")
		return
	}
	if (v !~ /^[ -~]*$/)
		fail(k ": only printable ASCII is allowed (found a control or non-ASCII byte)")
	if (kind == "text") {
		if (!is_text(v))
			fail(k ": characters \" % $ ; \\ would break an INF string; remove them")
		if (length(v) > 200)
			fail(k ": longer than 200 characters")
	} else if (kind == "id") {
		if (v !~ /^[a-z0-9][a-z0-9-]*$/ || length(v) > 32)
			fail(k ": \"" v "\" is not 1..32 characters of [a-z0-9-]")
	} else if (kind == "file") {
		if (v !~ /^[a-z0-9_]+$/ || length(v) > 32)
			fail(k ": \"" v "\" is not 1..32 characters of [a-z0-9_]")
	} else if (kind == "service") {
		if (v !~ /^[A-Za-z0-9_]+$/ || length(v) > 32)
			fail(k ": \"" v "\" is not 1..32 characters of [A-Za-z0-9_]")
	} else if (kind == "url") {
		if (v !~ /^https?:\/\/[^ ]+$/ || !is_text(v))
			fail(k ": \"" v "\" is not an http:// or https:// URL without spaces, \" % $ ; \\")
	} else if (kind == "version") {
		if (v !~ /^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/)
			fail("VERSION: \"" v "\" is not major.minor.patch.build")
		n = split(v, parts, ".")
		for (i = 1; i <= n; i++)
			if (length(parts[i]) > 5 || parts[i] + 0 > 65535)
				fail("VERSION: component \"" parts[i] "\" is larger than 65535")
	} else if (kind == "hexlist") {
		n = split(v, parts, /[ \t]+/)
		for (i = 1; i <= n; i++) {
			if (parts[i] !~ /^[0-9A-Fa-f][0-9A-Fa-f][0-9A-Fa-f][0-9A-Fa-f]$/)
				fail(k ": \"" parts[i] "\" is not a 4-digit hex PCI vendor ID")
			parts[i] = toupper(parts[i])
			if (parts[i] == "0000" || parts[i] == "FFFF")
				fail(k ": " parts[i] " is not a valid PCI vendor ID")
			if (parts[i] in seen)
				fail(k ": " parts[i] " is listed twice")
			seen[parts[i]] = 1
		}
	} else if (kind == "certmode") {
		if (v != "test" && v != "pkcs12" && v != "pkcs11")
			fail("CERT_MODE: \"" v "\" is not one of test, pkcs12, pkcs11")
	} else if (kind == "path") {
		if (!is_text(v))
			fail(k ": path contains a control character or one of \" % $ ; \\")
	} else if (kind == "p11uri") {
		if (v !~ /^pkcs11:/ || v ~ /[ "\\$]/)
			fail(k ": \"" v "\" is not a pkcs11: URI (RFC 7512) without spaces")
	}
}
function need(k) {
	if (!(k in val) || val[k] == "")
		fail("CERT_MODE=" val["CERT_MODE"] " needs " k)
}
function forbid(k) {
	if ((k in val) && val[k] != "")
		fail(k " is set but CERT_MODE=" val["CERT_MODE"] " does not use it")
}
function shq(s) { gsub(/\047/, "\047\\\047\047", s); return "\047" s "\047" }
BEGIN {
	add_key("BRAND_ID", "id", 1)
	add_key("PROVIDER", "text", 1)
	add_key("MANUFACTURER", "text", 1)
	add_key("VENDOR", "text", 1)
	add_key("PRODUCT", "text", 1)
	add_key("COPYRIGHT", "text", 1)
	add_key("URL", "url", 1)
	add_key("SUPPORT_URL", "url", 1)
	add_key("VERSION", "version", 1)
	add_key("SUBSYS_VENDOR_IDS", "hexlist", 1)
	ndrv = split(drivers, drv, /[ \t]+/)
	for (i = 1; i <= ndrv; i++) {
		if (drv[i] == "")
			continue
		u = toupper(drv[i])
		add_key(u "_FILE", "file", 1)
		add_key(u "_SERVICE", "service", 1)
		add_key(u "_DESC", "text", 1)
	}
	add_key("CERT_MODE", "certmode", 1)
	add_key("CERT_PKCS12", "path", 0)
	add_key("CERT_PASSWORD_FILE", "path", 0)
	add_key("CERT_PKCS11_URI", "p11uri", 0)
	add_key("CERT_PKCS11_MODULE", "path", 0)
	add_key("CERT_CHAIN", "path", 0)
	add_key("TIMESTAMP_URL", "url", 0)
}
{
	lineno = NR
	line = $0
	if (line ~ /\r$/)
		fail("carriage return at end of line (DOS line endings); convert the file to LF")
	if (line ~ /^[ \t]*(#|$)/)
		next
	if (line !~ /^[ \t]*[A-Za-z][A-Za-z0-9_]*[ \t]*=/)
		fail("expected KEY=VALUE, got \"" line "\"")
	eq = index(line, "=")
	k = substr(line, 1, eq - 1); gsub(/^[ \t]+|[ \t]+$/, "", k)
	v = substr(line, eq + 1);    gsub(/^[ \t]+|[ \t]+$/, "", v)
	if (v ~ /^".*"$/ && length(v) >= 2)
		v = substr(v, 2, length(v) - 2)
	if (!(k in kinds))
		fail("unknown key \"" k "\"" (k != toupper(k) ? " (keys are upper case)" : ""))
	if (k in val)
		fail("duplicate key \"" k "\" (first set on line " where[k] ")")
	check_value(k, v)
	if (kinds[k] == "hexlist")
		v = toupper(v)
	val[k] = v
	where[k] = NR
}
END {
	if (failed)
		exit 1
	lineno = 0
	for (i = 1; i <= nkeys; i++) {
		k = order[i]
		if (required[k] && !(k in val))
			fail("missing key " k)
	}
	m = val["CERT_MODE"]
	if (m == "test") {
		forbid("CERT_PKCS12"); forbid("CERT_PASSWORD_FILE"); forbid("CERT_PKCS11_URI")
		forbid("CERT_PKCS11_MODULE"); forbid("CERT_CHAIN")
	} else if (m == "pkcs12") {
		need("CERT_PKCS12"); need("CERT_PASSWORD_FILE")
		forbid("CERT_PKCS11_URI"); forbid("CERT_PKCS11_MODULE"); forbid("CERT_CHAIN")
	} else {
		need("CERT_PKCS11_URI"); need("CERT_PKCS11_MODULE"); need("CERT_CHAIN")
		forbid("CERT_PKCS12"); forbid("CERT_PASSWORD_FILE")
	}
	# Two drivers sharing a file or service name would overwrite each other.
	for (i = 1; i <= ndrv; i++) {
		if (drv[i] == "")
			continue
		u = toupper(drv[i])
		f = val[u "_FILE"]; s = tolower(val[u "_SERVICE"])
		if (f in files)
			fail(u "_FILE: \"" f "\" is also the file name of " files[f])
		if (s in services)
			fail(u "_SERVICE: \"" val[u "_SERVICE"] "\" is also the service name of " services[s])
		files[f] = drv[i]; services[s] = drv[i]
	}
	if (val["BRAND_ID"] != "openvdp" && (" " val["SUBSYS_VENDOR_IDS"] " ") ~ / 1AF4 /)
		warn("brand \"" val["BRAND_ID"] "\" still matches the default subsystem vendor ID 1AF4; " \
		     "its INFs will also bind to stock QEMU devices")
	for (i = 1; i <= nkeys; i++)
		printf "BRAND_%s=%s\n", order[i], shq(val[order[i]])
	printf "BRAND_DRIVERS=%s\n", shq(drivers)
}
' "$conf") || exit 1
eval "$assignments"

# Certificate files must exist now: failing later would waste a build.
case $BRAND_CERT_MODE in
pkcs12) files="CERT_PKCS12 CERT_PASSWORD_FILE" ;;
pkcs11) files="CERT_PKCS11_MODULE CERT_CHAIN" ;;
*) files= ;;
esac
for k in $files; do
	eval "p=\$BRAND_$k"
	if [ ! -f "$p" ] || [ ! -r "$p" ]; then
		echo "brand: $conf: $k: cannot read file \"$p\"" >&2
		exit 1
	fi
done

case $mode in
env) printf '%s\n' "$assignments" ;;
get)
	key=$3
	case $key in
	''|*[!A-Z0-9_]*) key= ;;
	esac
	if [ -z "$key" ] || ! eval "[ -n \"\${BRAND_$key+x}\" ]"; then
		echo "brand: unknown key \"$3\"" >&2
		exit 1
	fi
	eval "printf '%s\\n' \"\$BRAND_$key\""
	;;
esac
