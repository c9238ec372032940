# infcheck.awk: static checks on a generated driver INF, in the spirit of
# InfVerif (which does not run on Linux). Usage:
#
#   awk -f inf/infcheck.awk [-v pkgdir=DIR] file.inf
#
# Prints "file:line: message" for every problem and exits 1 if there was one.
# With pkgdir, every file the INF names (SourceDisksFiles, CatalogFile) must
# exist in DIR. Covers: syntax, duplicate sections and keys, required [Version]
# entries, Class/ClassGuid pairs, DriverVer format, undefined %strings%,
# sections that are referenced but missing or defined but never used, unknown
# directives in install and service sections, files copied but not listed in
# [SourceDisksFiles], malformed AddReg lines and duplicate hardware IDs.

function err(line, msg) { printf "%s:%s: %s\n", FILENAME, line, msg; nerr++ }
function trim(s) { gsub(/^[ \t]+|[ \t]+$/, "", s); return s }
function unquote(s) { s = trim(s); if (s ~ /^".*"$/) s = substr(s, 2, length(s) - 2); return s }
# Remove a ';' comment that is not inside double quotes.
function strip_comment(s,    i, c, q) {
	q = 0
	for (i = 1; i <= length(s); i++) {
		c = substr(s, i, 1)
		if (c == "\"") q = !q
		else if (c == ";" && !q) return substr(s, 1, i - 1)
	}
	if (q) quote_err = 1
	return s
}
# Split on commas outside quotes into f[1..n]; returns n.
function split_fields(s, f,    i, c, q, n, cur) {
	n = 0; q = 0; cur = ""
	for (i = 1; i <= length(s); i++) {
		c = substr(s, i, 1)
		if (c == "\"") q = !q
		if (c == "," && !q) { f[++n] = trim(cur); cur = "" } else cur = cur c
	}
	f[++n] = trim(cur)
	return n
}
# Position of the first '=' outside quotes, 0 if none.
function eq_pos(s,    i, c, q) {
	q = 0
	for (i = 1; i <= length(s); i++) {
		c = substr(s, i, 1)
		if (c == "\"") q = !q
		else if (c == "=" && !q) return i
	}
	return 0
}
function ref(name, line, why) {
	name = tolower(trim(name))
	if (name == "") return
	refd[name] = 1
	if (!(name in refline)) { refline[name] = line; refwhy[name] = why }
}
BEGIN {
	# Setup classes the pack may use, with their fixed GUIDs.
	classguid["scsiadapter"] = "{4d36e97b-e325-11ce-bfc1-08002be10318}"
	classguid["net"]         = "{4d36e972-e325-11ce-bfc1-08002be10318}"
	classguid["system"]      = "{4d36e97d-e325-11ce-bfc1-08002be10318}"
	classguid["hdc"]         = "{4d36e96a-e325-11ce-bfc1-08002be10318}"
	classguid["ports"]       = "{4d36e978-e325-11ce-bfc1-08002be10318}"
	classguid["hidclass"]    = "{745a17a0-74d3-11d0-b6fe-00a0c90f57da}"
	classguid["diskdrive"]   = "{4d36e967-e325-11ce-bfc1-08002be10318}"
	classguid["display"]     = "{4d36e968-e325-11ce-bfc1-08002be10318}"
	classguid["keyboard"]    = "{4d36e96b-e325-11ce-bfc1-08002be10318}"
	classguid["mouse"]       = "{4d36e96f-e325-11ce-bfc1-08002be10318}"
	split("copyfiles addreg delreg include needs characteristics bustype *iftype *mediatype " \
	      "*physicalmediatype *ifconnectorpresent *connectiontype *directiontype *accesstype " \
	      "*hardwareloopback addproperty delproperty featurescore renfiles delfiles " \
	      "addservice delservice addinterface", a, " ")
	for (i in a) install_dir[a[i]] = 1
	split("displayname description servicetype starttype errorcontrol servicebinary " \
	      "loadordergroup addreg delreg dependencies startname security addtrigger", a, " ")
	for (i in a) service_dir[a[i]] = 1
	split("version manufacturer strings sourcedisksnames sourcedisksfiles destinationdirs", a, " ")
	for (i in a) toplevel[a[i]] = 1
	# Sections whose keys must be unique.
	split("version strings destinationdirs sourcedisksnames sourcedisksfiles manufacturer", a, " ")
	for (i in a) uniq_keys[a[i]] = 1
	sec = ""
}
{
	sub(/\r$/, "")
	quote_err = 0
	line = trim(strip_comment($0))
	if (quote_err) err(FNR, "unbalanced double quote")
	if (line == "") next
	if (line ~ /^\[/) {
		if (line !~ /^\[[^\]]+\]$/) { err(FNR, "malformed section header: " line); sec = "#bad"; next }
		name = trim(substr(line, 2, length(line) - 2))
		sec = tolower(name)
		if (sec in secline) err(FNR, "duplicate section [" name "] (first at line " secline[sec] ")")
		else { secline[sec] = FNR; secname[sec] = name }
		next
	}
	if (sec == "") { err(FNR, "line outside any section: " line); next }
	if (sec == "#bad") next
	nl[sec]++
	p = eq_pos(line)
	key = p ? tolower(trim(substr(line, 1, p - 1))) : ""
	val = p ? trim(substr(line, p + 1)) : line
	lines[sec, nl[sec]] = line; lineno[sec, nl[sec]] = FNR
	keys[sec, nl[sec]] = key; vals[sec, nl[sec]] = val
	if (p && (sec in uniq_keys)) {
		if ((sec, key) in keyline) err(FNR, "duplicate key \"" trim(substr(line, 1, p - 1)) "\" in [" secname[sec] "] (first at line " keyline[sec, key] ")")
		else keyline[sec, key] = FNR
	}
	if (p && sec == "strings") strval[key] = val
	# Every %token% must be a [Strings] key; %% is a literal percent and
	# %<number>% is a DIRID.
	rest = line
	while ((i = index(rest, "%")) > 0) {
		rest = substr(rest, i + 1)
		j = index(rest, "%")
		if (j == 0) { err(FNR, "unmatched %"); break }
		tok = substr(rest, 1, j - 1)
		rest = substr(rest, j + 1)
		if (tok == "" || tok ~ /^[0-9]+$/) continue
		used_str[tolower(tok)] = FNR
	}
}
function section_lines(s) { return (s in nl) ? nl[s] : 0 }
function check_addreg(s,    k, n, f, root, flags) {
	for (k = 1; k <= section_lines(s); k++) {
		n = split_fields(lines[s, k], f)
		root = toupper(f[1])
		if (root !~ /^(HKR|HKLM|HKCU|HKCR|HKU)$/) { err(lineno[s, k], "AddReg: bad registry root \"" f[1] "\""); continue }
		if (n < 2) { err(lineno[s, k], "AddReg: expected root, subkey[, value name, flags, value]"); continue }
		flags = (n >= 4) ? f[4] : ""
		if (flags != "" && flags !~ /^(0x[0-9A-Fa-f]+|[0-9]+)$/) err(lineno[s, k], "AddReg: bad flags \"" flags "\"")
		id = tolower(f[1] "," f[2] "," unquote(f[3]))
		if (n >= 3 && (s, id) in regline) err(lineno[s, k], "AddReg: value set twice (first at line " regline[s, id] ")")
		else regline[s, id] = lineno[s, k]
	}
}
function check_refs(dirv, s, line,    n, f, i) {
	n = split_fields(dirv, f)
	for (i = 1; i <= n; i++) {
		if (f[i] == "" ) continue
		ref(f[i], line, "referenced")
	}
}
function check_install(s,    k, d) {
	for (k = 1; k <= section_lines(s); k++) {
		d = keys[s, k]
		if (d == "") { err(lineno[s, k], "[" secname[s] "]: expected directive = value"); continue }
		if (!(d in install_dir)) err(lineno[s, k], "[" secname[s] "]: unknown directive \"" d "\"")
		if (d == "copyfiles") {
			n = split_fields(vals[s, k], f)
			for (i = 1; i <= n; i++) {
				if (substr(f[i], 1, 1) == "@") copied[tolower(substr(f[i], 2))] = lineno[s, k]
				else { ref(f[i], lineno[s, k], "CopyFiles"); copysec[tolower(f[i])] = 1 }
			}
		} else if (d == "addreg" || d == "delreg") {
			n = split_fields(vals[s, k], f)
			for (i = 1; i <= n; i++) { ref(f[i], lineno[s, k], d); if (d == "addreg") regsec[tolower(f[i])] = 1 }
		} else if (d == "addservice") {
			n = split_fields(vals[s, k], f)
			if (n < 3) { err(lineno[s, k], "AddService needs name, flags, service-install-section"); continue }
			if (f[2] !~ /^(0x[0-9A-Fa-f]+|[0-9]+)$/) err(lineno[s, k], "AddService: bad flags \"" f[2] "\"")
			ref(f[3], lineno[s, k], "AddService"); svcsec[tolower(f[3])] = 1
			if (n >= 4 && f[4] != "") { ref(f[4], lineno[s, k], "AddService event log"); evtsec[tolower(f[4])] = 1 }
		}
	}
}
END {
	if (!("version" in secline)) err(1, "missing [Version] section")
	else {
		sig = (("version", "signature") in keyline) ? "" : "missing"
		for (k = 1; k <= section_lines("version"); k++) {
			v[keys["version", k]] = unquote(vals["version", k]); vl[keys["version", k]] = lineno["version", k]
		}
		split("signature class classguid provider driverver catalogfile pnplockdown", req, " ")
		for (i = 1; i <= 7; i++) if (!(req[i] in v)) err(secline["version"], "[Version] lacks " req[i])
		if (("signature" in v) && tolower(v["signature"]) != "$windows nt$") err(vl["signature"], "Signature must be \"$WINDOWS NT$\"")
		if ("class" in v) {
			c = tolower(v["class"])
			if (!(c in classguid)) err(vl["class"], "unknown setup class \"" v["class"] "\"")
			else if (("classguid" in v) && tolower(v["classguid"]) != classguid[c])
				err(vl["classguid"], "ClassGuid " v["classguid"] " does not belong to class " v["class"])
		}
		if (("driverver" in v) && v["driverver"] !~ /^(0[1-9]|1[0-2])\/(0[1-9]|[12][0-9]|3[01])\/(19|20)[0-9][0-9],[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/)
			err(vl["driverver"], "DriverVer \"" v["driverver"] "\" is not mm/dd/yyyy,w.x.y.z")
		if (("driverver" in v)) { split(v["driverver"], dv, ","); n = split(dv[2], vp, "."); for (i = 1; i <= n; i++) if (vp[i] + 0 > 65535) err(vl["driverver"], "DriverVer version part " vp[i] " > 65535") }
		if (("pnplockdown" in v) && v["pnplockdown"] != "1") err(vl["pnplockdown"], "PnpLockdown must be 1")
		if ("catalogfile" in v) {
			cat = tolower(v["catalogfile"])
			if (cat !~ /^[a-z0-9_.-]+\.cat$/) err(vl["catalogfile"], "CatalogFile \"" v["catalogfile"] "\" is not a plain .cat name")
			pkgfile[cat] = vl["catalogfile"]
		}
	}
	if (!("strings" in secline)) err(1, "missing [Strings] section")
	for (s in used_str) if (!(s in strval)) err(used_str[s], "undefined string %" s "%")
	for (s in strval) {
		if (!(s in used_str)) err(keyline["strings", s], "string " s " is defined but never used")
		if (strval[s] !~ /^"[^"]*"$/) err(keyline["strings", s], "string " s " should be one double-quoted value")
	}
	# Manufacturer -> models -> install sections.
	if (!("manufacturer" in secline)) err(1, "missing [Manufacturer] section")
	for (k = 1; k <= section_lines("manufacturer"); k++) {
		n = split_fields(vals["manufacturer", k], f)
		if (keys["manufacturer", k] == "" || f[1] == "") { err(lineno["manufacturer", k], "manufacturer line needs name = models-section[, decorations]"); continue }
		if (n == 1) { ref(f[1], lineno["manufacturer", k], "Manufacturer"); modsec[tolower(f[1])] = 1 }
		for (i = 2; i <= n; i++) {
			if (f[i] !~ /^NT(amd64|x86|arm64|ia64)(\.[0-9.]+)?$/) err(lineno["manufacturer", k], "unknown target decoration \"" f[i] "\"")
			ref(f[1] "." f[i], lineno["manufacturer", k], "Manufacturer"); modsec[tolower(f[1] "." f[i])] = 1
		}
	}
	for (m in modsec) {
		nmodels = 0
		for (k = 1; k <= section_lines(m); k++) {
			n = split_fields(vals[m, k], f)
			if (keys[m, k] == "" || n < 2 || f[1] == "" || f[2] == "") { err(lineno[m, k], "model line needs desc = install-section, hw-id"); continue }
			nmodels++
			inst = tolower(f[1])
			ref(f[1], lineno[m, k], "models"); instsec[inst] = 1
			hw = tolower(f[2])
			if (hw !~ /^[a-z0-9_]+\\[^ ,]+$/) err(lineno[m, k], "bad hardware ID \"" f[2] "\"")
			else if (hw ~ /^pci\\/ && hw !~ /^pci\\ven_[0-9a-f][0-9a-f][0-9a-f][0-9a-f]&dev_[0-9a-f][0-9a-f][0-9a-f][0-9a-f](&subsys_[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f])?(&rev_[0-9a-f][0-9a-f])?$/)
				err(lineno[m, k], "malformed PCI hardware ID \"" f[2] "\"")
			if ((m, hw) in hwline) err(lineno[m, k], "duplicate hardware ID " f[2] " (first at line " hwline[m, hw] ")")
			hwline[m, hw] = lineno[m, k]
			# DDInstall.HW/.Services are found by name.
			if ((inst ".services") in secline) ref(inst ".services", lineno[m, k], "")
			if ((inst ".hw") in secline) { ref(inst ".hw", lineno[m, k], ""); hwsec[inst ".hw"] = 1 }
		}
		if ((m in secline) && nmodels == 0) err(secline[m], "models section [" secname[m] "] lists no device")
	}
	# Missing sections are reported once, by the reference check below;
	# the guards also keep awk from creating secline[] entries by lookup.
	for (s in instsec) if (s in secline) check_install(s)
	for (s in hwsec) if (s in secline) check_install(s)
	for (s in instsec) {
		if (!(s in secline)) continue
		if (!((s ".services") in secline)) err(secline[s], "[" secname[s] "] has no .Services section")
		else check_install(s ".services")
	}
	for (s in svcsec) {
		if (!(s in secline)) continue
		for (k = 1; k <= section_lines(s); k++) {
			d = keys[s, k]
			if (!(d in service_dir)) err(lineno[s, k], "[" secname[s] "]: unknown service directive \"" d "\"")
			sv[s, d] = vals[s, k]
			if (d == "addreg" || d == "delreg") { n = split_fields(vals[s, k], f); for (i = 1; i <= n; i++) { ref(f[i], lineno[s, k], d); if (d == "addreg") regsec[tolower(f[i])] = 1 } }
		}
		split("servicetype starttype errorcontrol servicebinary", req, " ")
		for (i = 1; i <= 4; i++) if (!((s, req[i]) in sv)) err(secline[s], "[" secname[s] "] lacks " req[i])
		if (((s, "starttype") in sv) && sv[s, "starttype"] !~ /^[0-4]$/) err(secline[s], "StartType must be 0..4")
		if (((s, "servicetype") in sv) && sv[s, "servicetype"] !~ /^(0x0*)?[12]$/) err(secline[s], "ServiceType of a driver must be 1 (kernel) or 2 (file system)")
		if ((s, "servicebinary") in sv) {
			if (sv[s, "servicebinary"] !~ /^%1[23]%\\[^\\]+$/)
				err(secline[s], "ServiceBinary should be %12%\\file or %13%\\file")
			b = tolower(sv[s, "servicebinary"])
			sub(/.*\\/, "", b)
			if (!(b in copied)) missing_bin[b] = secline[s]
		}
	}
	for (s in evtsec) if (s in secline) for (k = 1; k <= section_lines(s); k++) {
		if (keys[s, k] != "addreg") err(lineno[s, k], "[" secname[s] "]: unknown event log directive \"" keys[s, k] "\"")
		else { n = split_fields(vals[s, k], f); for (i = 1; i <= n; i++) { ref(f[i], lineno[s, k], "addreg"); regsec[tolower(f[i])] = 1 } }
	}
	for (s in regsec) if (s in secline) check_addreg(s)
	# Files: CopyFiles sections list files that must be in SourceDisksFiles.
	for (k = 1; k <= section_lines("sourcedisksfiles"); k++) {
		f1 = keys["sourcedisksfiles", k]
		srcfile[f1] = lineno["sourcedisksfiles", k]
		pkgfile[f1] = lineno["sourcedisksfiles", k]
		n = split_fields(vals["sourcedisksfiles", k], f)
		disk = f[1]
		found = 0
		for (j = 1; j <= section_lines("sourcedisksnames"); j++) if (keys["sourcedisksnames", j] == disk) found = 1
		if (!found) err(lineno["sourcedisksfiles", k], "disk " disk " is not in [SourceDisksNames]")
	}
	for (s in copysec) {
		if (!(s in secline)) continue
		for (k = 1; k <= section_lines(s); k++) {
			n = split_fields(lines[s, k], f)
			fn = tolower(f[1])
			copied[fn] = lineno[s, k]
			if (!(fn in srcfile)) err(lineno[s, k], "file " f[1] " is copied but not in [SourceDisksFiles]")
		}
		if (!(("destinationdirs", s) in keyline) && !(("destinationdirs", "defaultdestdir") in keyline))
			err(secline[s], "no DestinationDirs entry for [" secname[s] "]")
	}
	for (b in missing_bin) if (!(b in copied)) err(missing_bin[b], "ServiceBinary " b " is not copied by any CopyFiles section")
	for (k = 1; k <= section_lines("destinationdirs"); k++) {
		d = keys["destinationdirs", k]
		if (d != "defaultdestdir" && !(d in copysec)) err(lineno["destinationdirs", k], "DestinationDirs names [" d "], which no CopyFiles uses")
		if (vals["destinationdirs", k] !~ /^[0-9]+(,.*)?$/) err(lineno["destinationdirs", k], "DestinationDirs needs a DIRID")
	}
	for (f1 in srcfile) if (!(f1 in copied)) err(srcfile[f1], "file " f1 " is in [SourceDisksFiles] but never copied")
	if (pkgdir != "") for (f1 in pkgfile) {
		if ((getline tmp < (pkgdir "/" f1)) < 0) err(pkgfile[f1], "file " f1 " is not in the package " pkgdir)
		else close(pkgdir "/" f1)
	}
	for (s in refd) if (!(s in secline)) err(refline[s], refwhy[s] " section [" s "] does not exist")
	for (s in secline) if (!(s in toplevel) && !(s in refd) && s !~ /^strings\./) err(secline[s], "section [" secname[s] "] is never used")
	exit nerr ? 1 : 0
}
