# OpenVDP guest side of ci/windows/run-windows-tests.sh (Windows PowerShell 5.1).
#
#   vdptest.ps1 -Mode Register   once per image, as an administrator (register.cmd):
#                                enables test signing, stops sleep and registers the
#                                start-up task "OpenVDP-Test" that runs launch.cmd.
#   vdptest.ps1 -Mode Test       at every boot, as SYSTEM (from launch.cmd): when
#                                the attached test CD holds a new test run, installs
#                                the drivers from the pack CD and runs the checks.
#
# Results go to COM1 as "VDPTAP: ok - NAME" / "VDPTAP: not ok - NAME" / "VDPTAP: # text"
# lines, and to C:\OpenVDP-Test\<run>.log. A run may span reboots (test signing,
# a driver that asks for one, a crash); its progress is kept in
# C:\OpenVDP-Test\phase-<run>.txt so every check is reported once.
# The file is ASCII only: Windows PowerShell reads BOM-less scripts as ANSI.

[CmdletBinding()]
param(
    [ValidateSet('Test', 'Register')]
    [string]$Mode = 'Test'
)

# Version 1 only flags unset variables: CIM objects differ between Windows
# versions, and a property missing on one must not abort the whole run.
Set-StrictMode -Version 1
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

$script:IsoDir = $PSScriptRoot
$script:StateDir = Join-Path $env:SystemDrive 'OpenVDP-Test'
$script:LogFile = $null
$script:Com = $null
$script:Passed = 0
$script:Failed = 0
$script:Config = @{}
$script:RunId = ''
$script:Repeat = $false

# ------------------------------------------------------------------ output

function Write-Raw([string]$Line) {
    if ($script:LogFile) {
        Add-Content -LiteralPath $script:LogFile -Value $Line -Encoding Ascii
    }
    Write-Host $Line
    if ($script:Com) {
        try { $script:Com.WriteLine($Line) } catch { $script:Com = $null }
    }
}

function Out-Tap([string]$Text) { Write-Raw ('VDPTAP: ' + $Text) }

function Report([bool]$Ok, [string]$Name) {
    # '#' would turn the rest of a TAP line into a directive.
    $Name = $Name.Replace('#', 'no.').Replace("`r", ' ').Replace("`n", ' ')
    if ($Ok) {
        $script:Passed++
        Out-Tap ('ok - ' + $Name)
    } else {
        $script:Failed++
        Out-Tap ('not ok - ' + $Name)
    }
}

# Set-up steps run again after a restart; their successes are reported once.
function Report-Setup([bool]$Ok, [string]$Name) {
    if ($Ok -and $script:Repeat) { Diag ('again: ' + $Name) } else { Report $Ok $Name }
}

function Diag([string]$Text) {
    if ($null -eq $Text) { return }
    foreach ($l in ($Text -split "`r?`n")) {
        if ($l.Trim() -ne '') { Out-Tap ('# ' + $l.TrimEnd()) }
    }
}

function Open-Com {
    try {
        $p = New-Object System.IO.Ports.SerialPort -ArgumentList @('COM1', 115200,
            [System.IO.Ports.Parity]::None, 8, [System.IO.Ports.StopBits]::One)
        $p.NewLine = "`r`n"
        $p.WriteTimeout = 10000
        $p.Open()
        $script:Com = $p
    } catch {
        $script:Com = $null
        Write-Raw ('# COM1 not available, results only in the log file: ' + $_.Exception.Message)
    }
}

function Close-Com {
    if ($script:Com) {
        try { $script:Com.BaseStream.Flush(); $script:Com.Close() } catch { }
        $script:Com = $null
    }
}

# ------------------------------------------------------------------ helpers

# Runs a console program; its output and exit code, never an exception
# (Windows PowerShell turns native stderr into terminating errors under Stop).
function Invoke-Native([string]$Exe, [string[]]$Arguments) {
    $old = $ErrorActionPreference
    $ErrorActionPreference = 'Continue'
    $code = -1
    $text = ''
    try {
        $out = & $Exe @Arguments 2>&1 | ForEach-Object { $_.ToString() }
        $code = $LASTEXITCODE
        $text = ($out -join "`n")
    } catch {
        $text = $_.Exception.Message
    } finally {
        $ErrorActionPreference = $old
    }
    return New-Object PSObject -Property @{ Code = $code; Output = $text }
}

function Read-Config([string]$Path) {
    $cfg = @{}
    foreach ($raw in (Get-Content -LiteralPath $Path)) {
        $line = $raw.Trim()
        if ($line -eq '' -or $line.StartsWith('#')) { continue }
        $eq = $line.IndexOf('=')
        if ($eq -lt 1) { throw ('config.txt: line without KEY=VALUE: ' + $line) }
        $cfg[$line.Substring(0, $eq)] = $line.Substring($eq + 1)
    }
    return $cfg
}

function Cfg([string]$Key) {
    if (-not $script:Config.ContainsKey($Key)) { throw ('config.txt: ' + $Key + ' is missing') }
    return [string]$script:Config[$Key]
}

function Cfg-Number([string]$Key) {
    $v = Cfg $Key
    $n = [long]0
    if (-not [long]::TryParse($v, [ref]$n) -or $n -lt 0) {
        throw ('config.txt: ' + $Key + ' is not a number: ' + $v)
    }
    return $n
}

function Get-Phase {
    $f = Join-Path $script:StateDir ('phase-' + $script:RunId + '.txt')
    if (-not (Test-Path -LiteralPath $f)) { return '' }
    $c = Get-Content -LiteralPath $f -TotalCount 1
    if ($null -eq $c) { return '' }
    return ([string]$c).Trim()
}

function Set-Phase([string]$Phase) {
    $f = Join-Path $script:StateDir ('phase-' + $script:RunId + '.txt')
    Set-Content -LiteralPath $f -Value $Phase -Encoding Ascii
}

function Test-Admin {
    $id = [Security.Principal.WindowsIdentity]::GetCurrent()
    $p = New-Object Security.Principal.WindowsPrincipal -ArgumentList $id
    return $p.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)
}

function Get-SecureBootState {
    try {
        if (Confirm-SecureBootUEFI) { return 'on' }
        return 'off'
    } catch {
        return 'unsupported (BIOS boot)'
    }
}

# Test signing of the running system, as the loader saw it at boot.
function Test-TestSigningActive {
    $o = (Get-ItemProperty -LiteralPath 'HKLM:\SYSTEM\CurrentControlSet\Control' -Name SystemStartOptions).SystemStartOptions
    return ([string]$o -match '\bTESTSIGNING\b')
}

function Enable-TestSigning {
    $r = Invoke-Native 'bcdedit.exe' @('/set', '{current}', 'testsigning', 'on')
    if ($r.Code -ne 0) {
        Diag ('bcdedit: ' + $r.Output)
        Diag ('Secure Boot: ' + (Get-SecureBootState) + '. Test-signed drivers need Secure Boot off (UEFI firmware without Secure Boot, or BIOS boot).')
        return $false
    }
    return $true
}

function Wait-Until([int]$Seconds, [scriptblock]$Condition) {
    $deadline = (Get-Date).AddSeconds($Seconds)
    while ($true) {
        $v = & $Condition
        if ($v) { return $v }
        if ((Get-Date) -gt $deadline) { return $null }
        Start-Sleep -Seconds 2
    }
}

function Restart-Guest([string]$Why) {
    Diag ('restarting: ' + $Why)
    Close-Com
    Restart-Computer -Force
    exit 0
}

$script:HelperSource = @'
using System;
using System.ComponentModel;
using System.IO;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Win32.SafeHandles;

// Raw disk and TCP helpers for vdptest.ps1 (C# 5: compiled by Add-Type on
// Windows PowerShell 5.1).
public static class VdpIo
{
    [DllImport("kernel32.dll", CharSet = CharSet.Unicode, SetLastError = true)]
    private static extern SafeFileHandle CreateFileW(string name, uint access, uint share,
        IntPtr security, uint disposition, uint flags, IntPtr template);
    [DllImport("kernel32.dll", SetLastError = true)]
    private static extern bool SetFilePointerEx(SafeFileHandle h, long distance, out long newPos, uint method);
    [DllImport("kernel32.dll", SetLastError = true)]
    private static extern bool ReadFile(SafeFileHandle h, byte[] buf, uint count, out uint done, IntPtr overlapped);
    [DllImport("kernel32.dll", SetLastError = true)]
    private static extern bool WriteFile(SafeFileHandle h, byte[] buf, uint count, out uint done, IntPtr overlapped);
    [DllImport("kernel32.dll", SetLastError = true)]
    private static extern bool FlushFileBuffers(SafeFileHandle h);

    private const uint GenericRead = 0x80000000, GenericWrite = 0x40000000;
    private const uint ShareReadWrite = 3, OpenExisting = 3, WriteThrough = 0x80000000;
    private const int Chunk = 1 << 20;

    private static IOException Fail(string what)
    {
        int e = Marshal.GetLastWin32Error();
        return new IOException(what + ": " + new Win32Exception(e).Message + " (error " + e + ")");
    }

    // No FILE_FLAG_NO_BUFFERING: a raw disk handle is not cached anyway, and
    // that flag would add buffer-alignment rules managed arrays cannot meet.
    public static SafeFileHandle OpenDisk(string path, bool write)
    {
        SafeFileHandle h = CreateFileW(path, write ? (GenericRead | GenericWrite) : GenericRead,
            ShareReadWrite, IntPtr.Zero, OpenExisting, write ? WriteThrough : 0, IntPtr.Zero);
        if (h.IsInvalid)
            throw Fail("open " + path);
        return h;
    }

    private static void Seek(SafeFileHandle h, long offset)
    {
        long pos;
        if (!SetFilePointerEx(h, offset, out pos, 0))
            throw Fail("seek to " + offset);
    }

    public static void WriteAt(SafeFileHandle h, long offset, byte[] data, int start, int count)
    {
        byte[] chunk = new byte[Chunk];
        int done = 0;
        while (done < count) {
            int n = Math.Min(Chunk, count - done);
            uint wrote;
            Buffer.BlockCopy(data, start + done, chunk, 0, n);
            Seek(h, offset + done);
            if (!WriteFile(h, chunk, (uint)n, out wrote, IntPtr.Zero))
                throw Fail("write of " + n + " bytes at " + (offset + done));
            if (wrote != (uint)n)
                throw new IOException("short write at " + (offset + done) + ": " + wrote + " of " + n);
            done += n;
        }
    }

    public static byte[] ReadAt(SafeFileHandle h, long offset, int count)
    {
        byte[] result = new byte[count];
        byte[] chunk = new byte[Chunk];
        int done = 0;
        while (done < count) {
            int n = Math.Min(Chunk, count - done);
            uint got;
            Seek(h, offset + done);
            if (!ReadFile(h, chunk, (uint)n, out got, IntPtr.Zero))
                throw Fail("read of " + n + " bytes at " + (offset + done));
            if (got != (uint)n)
                throw new IOException("short read at " + (offset + done) + ": " + got + " of " + n);
            Buffer.BlockCopy(chunk, 0, result, done, n);
            done += n;
        }
        return result;
    }

    public static void Flush(SafeFileHandle h)
    {
        if (!FlushFileBuffers(h))
            throw Fail("flush");
    }

    // Index of the first byte where a[aStart..] and b[0..] differ, or -1.
    public static long FirstDifference(byte[] a, int aStart, byte[] b, int count)
    {
        if (aStart < 0 || count < 0 || aStart + count > a.Length || count > b.Length)
            throw new ArgumentException("compare range outside the buffers");
        for (int i = 0; i < count; i++)
            if (a[aStart + i] != b[i])
                return i;
        return -1;
    }

    // A file of count copies of block, written through to the disk.
    public static void WriteBlocks(string path, byte[] block, int count)
    {
        using (FileStream fs = new FileStream(path, FileMode.Create, FileAccess.Write,
                FileShare.None, 1 << 16, FileOptions.WriteThrough)) {
            for (int i = 0; i < count; i++)
                fs.Write(block, 0, block.Length);
            fs.Flush(true);
        }
    }

    private static string Hex(byte[] hash)
    {
        return BitConverter.ToString(hash).Replace("-", "").ToLowerInvariant();
    }

    // Sends bytes of random data, half-closes, and returns
    // { sha256 of what was sent, what the peer answered }.
    public static string[] Upload(string host, int port, long bytes, int timeoutMs)
    {
        using (TcpClient c = new TcpClient())
        using (SHA256 sha = SHA256.Create())
        using (RandomNumberGenerator rng = RandomNumberGenerator.Create()) {
            c.SendTimeout = timeoutMs;
            c.ReceiveTimeout = timeoutMs;
            c.Connect(host, port);
            NetworkStream s = c.GetStream();
            byte[] buf = new byte[65536];
            long left = bytes;
            while (left > 0) {
                int n = (int)Math.Min((long)buf.Length, left);
                rng.GetBytes(buf);
                sha.TransformBlock(buf, 0, n, null, 0);
                s.Write(buf, 0, n);
                left -= n;
            }
            sha.TransformFinalBlock(buf, 0, 0);
            c.Client.Shutdown(SocketShutdown.Send);
            MemoryStream reply = new MemoryStream();
            int got;
            while ((got = s.Read(buf, 0, buf.Length)) > 0 && reply.Length < 4096)
                reply.Write(buf, 0, got);
            return new string[] { Hex(sha.Hash), Encoding.ASCII.GetString(reply.ToArray()) };
        }
    }

    // Reads until the peer closes (at most limit bytes); returns { count, sha256 }.
    public static string[] Download(string host, int port, long limit, int timeoutMs)
    {
        using (TcpClient c = new TcpClient())
        using (SHA256 sha = SHA256.Create()) {
            c.SendTimeout = timeoutMs;
            c.ReceiveTimeout = timeoutMs;
            c.Connect(host, port);
            NetworkStream s = c.GetStream();
            byte[] buf = new byte[65536];
            long total = 0;
            int got;
            while ((got = s.Read(buf, 0, buf.Length)) > 0) {
                sha.TransformBlock(buf, 0, got, null, 0);
                total += got;
                if (total > limit)
                    throw new IOException("peer sent more than " + limit + " bytes");
            }
            sha.TransformFinalBlock(buf, 0, 0);
            return new string[] { total.ToString(), Hex(sha.Hash) };
        }
    }
}
'@

# ------------------------------------------------------------------ the pack

function Find-Drive([string]$RelativePath, [int]$Seconds) {
    return Wait-Until $Seconds {
        foreach ($d in (Get-PSDrive -PSProvider FileSystem)) {
            $p = Join-Path $d.Root $RelativePath
            if (Test-Path -LiteralPath $p) { return $d.Root }
        }
        return $null
    }
}

# The pack's OS folder for this Windows: client 10/11 by build, servers by
# their release build (a newer build uses the newest folder not above it).
function Get-OsFolder {
    $os = Get-CimInstance -ClassName Win32_OperatingSystem
    $build = [int]$os.BuildNumber
    if ([int]$os.ProductType -eq 1) {
        if ($build -ge 22000) { return 'w11' }
        return 'w10'
    }
    $best = $null
    foreach ($pair in @(@(14393, '2k16'), @(17763, '2k19'), @(20348, '2k22'), @(26100, '2k25'))) {
        if ($build -ge $pair[0]) { $best = $pair[1] }
    }
    return $best
}

function Get-PackArch {
    if ([Environment]::Is64BitOperatingSystem) { return 'amd64' }
    return 'x86'
}

# One entry per driver of the pack: kind (blk/net/rng, from the hardware IDs
# its INF matches, so a rebranded pack works too), INF path and service name.
function Get-PackDrivers([string]$PackRoot, [string]$OsFolder, [string]$Arch) {
    $list = @()
    foreach ($dir in (Get-ChildItem -LiteralPath $PackRoot -Directory)) {
        if ($dir.Name -eq 'cert') { continue }
        $sub = Join-Path (Join-Path $dir.FullName $OsFolder) $Arch
        if (-not (Test-Path -LiteralPath $sub)) { continue }
        foreach ($inf in (Get-ChildItem -LiteralPath $sub -Filter '*.inf')) {
            $text = (Get-Content -LiteralPath $inf.FullName) -join "`n"
            $kind = $null
            if ($text -match 'VEN_1AF4&DEV_(1042|1001)') { $kind = 'blk' }
            elseif ($text -match 'VEN_1AF4&DEV_(1041|1000)') { $kind = 'net' }
            elseif ($text -match 'VEN_1AF4&DEV_(1044|1005)') { $kind = 'rng' }
            $service = $null
            if ($text -match '(?m)^\s*AddService\s*=\s*([^,\s]+)') { $service = $Matches[1] }
            $list += New-Object PSObject -Property @{
                Kind = $kind; Inf = $inf.FullName; Dir = $sub; Service = $service; Name = $dir.Name
            }
        }
    }
    return $list
}

# Root CA into Root and TrustedPublisher (as the pack README says), and each
# catalog's signing certificate into TrustedPublisher: PnP installs a
# driver silently only when its publisher itself is trusted.
function Import-PackCertificates([string]$PackRoot, $Drivers) {
    $cer = Get-ChildItem -LiteralPath (Join-Path $PackRoot 'cert') -Filter '*.cer' | Select-Object -First 1
    if (-not $cer) {
        Report-Setup $false 'setup: test certificate found in the pack (cert\*.cer)'
        return
    }
    $ok = $true
    foreach ($store in @('Root', 'TrustedPublisher')) {
        $r = Invoke-Native 'certutil.exe' @('-f', '-addstore', $store, $cer.FullName)
        if ($r.Code -ne 0) { $ok = $false; Diag ('certutil ' + $store + ': ' + $r.Output) }
    }
    Report-Setup $ok ('setup: test CA ' + $cer.Name + ' imported into Root and TrustedPublisher')

    $store = New-Object System.Security.Cryptography.X509Certificates.X509Store -ArgumentList @('TrustedPublisher', 'LocalMachine')
    $store.Open([System.Security.Cryptography.X509Certificates.OpenFlags]::ReadWrite)
    try {
        foreach ($d in $Drivers) {
            foreach ($file in (Get-ChildItem -LiteralPath $d.Dir | Where-Object { $_.Extension -eq '.cat' -or $_.Extension -eq '.sys' })) {
                $sig = Get-AuthenticodeSignature -FilePath $file.FullName
                $subject = ''
                if ($sig.SignerCertificate) {
                    $subject = $sig.SignerCertificate.Subject
                    if ($file.Extension -eq '.cat') { $store.Add($sig.SignerCertificate) }
                }
                Report-Setup ([string]$sig.Status -eq 'Valid') ('setup: signature of ' + $d.Name + '\' + $file.Name + ' is ' + $sig.Status + ' (' + $subject + ')')
                if ([string]$sig.Status -ne 'Valid') { Diag $sig.StatusMessage }
            }
        }
    } finally {
        $store.Close()
    }
}

# ------------------------------------------------------------------ devices

$script:ProblemHints = @{
    1 = 'not configured correctly'; 10 = 'cannot start (driver returned an error)';
    18 = 'needs reinstalling'; 28 = 'no driver installed'; 31 = 'driver failed to load';
    37 = 'DriverEntry failed'; 39 = 'driver missing or corrupt'; 43 = 'driver reported a failure';
    52 = 'signature could not be verified (test signing off, or certificate not trusted)'
}

function Get-VirtioDevice([string]$DeviceId) {
    return Get-PnpDevice -PresentOnly -ErrorAction SilentlyContinue |
        Where-Object { $_.InstanceId -like ('PCI\VEN_1AF4&DEV_' + $DeviceId + '*') } |
        Select-Object -First 1
}

function Get-DeviceId([string]$Kind, [string]$Variant) {
    $ids = @{ blk = @('1042', '1001'); net = @('1041', '1000'); rng = @('1044', '1005') }
    if ($Variant -eq 'modern') { return $ids[$Kind][0] }
    return $ids[$Kind][1]
}

# True when the device is started by the expected service; reports why not.
function Test-DeviceStarted([string]$Prefix, [string]$DeviceId, [string]$Service, [int]$Seconds) {
    $dev = Wait-Until $Seconds {
        $d = Get-VirtioDevice $DeviceId
        if ($d -and [string]$d.Status -eq 'OK') { return $d }
        return $null
    }
    if (-not $dev) {
        $dev = Get-VirtioDevice $DeviceId
        if (-not $dev) {
            Report $false ($Prefix + ': PCI device 1AF4:' + $DeviceId + ' present')
            return $false
        }
        $code = [int]$dev.ConfigManagerErrorCode
        $hint = $script:ProblemHints[$code]
        if (-not $hint) { $hint = 'see Device Manager' }
        Report $false ($Prefix + ': ' + $dev.FriendlyName + ' started (status ' + $dev.Status + ', problem code ' + $code + ': ' + $hint + ')')
        return $false
    }
    $ok = ([string]$dev.Service -eq $Service)
    Report $ok ($Prefix + ': ' + $dev.FriendlyName + ' started by service ' + $dev.Service + ' (expected ' + $Service + ')')
    return $ok
}

# ------------------------------------------------------------------ disk checks

function New-MarkerBlock([string]$Marker) {
    $b = New-Object byte[] 4096
    for ($i = 0; $i -lt 4096; $i++) { $b[$i] = 0x2E }
    $m = [Text.Encoding]::ASCII.GetBytes($Marker)
    [Array]::Copy($m, $b, $m.Length)
    # One marker per text "line": the host counts them with grep -c.
    $b[4095] = 0x0A
    return ,$b
}

function Test-Disk([string]$Variant, [long]$Size) {
    $p = 'blk-' + $Variant
    $disk = Wait-Until 60 { Get-Disk | Where-Object { [long]$_.Size -eq $Size } | Select-Object -First 1 }
    Report ($null -ne $disk) ($p + ': disk of ' + $Size + ' bytes present')
    if (-not $disk) {
        Diag ('disks seen: ' + ((Get-Disk | ForEach-Object { '' + $_.Number + '=' + $_.Size + ' ' + $_.FriendlyName }) -join '; '))
        return
    }
    $n = $disk.Number
    Diag ($p + ': disk ' + $n + ' "' + $disk.FriendlyName + '" bus ' + $disk.BusType + ', sectors ' + $disk.LogicalSectorSize + '/' + $disk.PhysicalSectorSize + ' bytes')
    # Server editions keep new disks offline (SAN policy).
    if ($disk.IsOffline) { Set-Disk -Number $n -IsOffline $false }
    if ($disk.IsReadOnly) { Set-Disk -Number $n -IsReadOnly $false }

    # Raw pattern: written through the driver, flushed, read back; the host
    # then finds the same bytes at the same offset of its image file.
    $off = Cfg-Number 'BLK_PATTERN_OFFSET'
    $len = [int](Cfg-Number 'BLK_PATTERN_BYTES')
    $pattern = [IO.File]::ReadAllBytes((Join-Path $script:IsoDir (Cfg 'BLK_PATTERN_FILE')))
    if ($pattern.Length -ne $len) { throw ('pattern file has ' + $pattern.Length + ' bytes, config says ' + $len) }
    $tail = 65536
    $tailOff = $Size - $tail
    $path = '\\.\PhysicalDrive' + $n
    try {
        $h = [VdpIo]::OpenDisk($path, $true)
        try {
            [VdpIo]::WriteAt($h, $off, $pattern, 0, $len)
            [VdpIo]::WriteAt($h, $tailOff, $pattern, 0, $tail)
            [VdpIo]::Flush($h)
        } finally { $h.Dispose() }
        Report $true ($p + ': wrote ' + $len + ' bytes at ' + $off + ' and the last ' + $tail + ' bytes of the disk, flushed')
        $h = [VdpIo]::OpenDisk($path, $false)
        try {
            $back = [VdpIo]::ReadAt($h, $off, $len)
            $backTail = [VdpIo]::ReadAt($h, $tailOff, $tail)
        } finally { $h.Dispose() }
        $d1 = [VdpIo]::FirstDifference($pattern, 0, $back, $len)
        $d2 = [VdpIo]::FirstDifference($pattern, 0, $backTail, $tail)
        Report ($d1 -lt 0) ($p + ': read back matches the pattern (first difference: ' + $d1 + ')')
        Report ($d2 -lt 0) ($p + ': last ' + $tail + ' bytes of the disk read back (first difference: ' + $d2 + ')')
    } catch {
        Report $false ($p + ': raw write/read of ' + $path + ' failed: ' + $_.Exception.Message)
    }

    # TRIM: NTFS volume, a file that stays and a file deleted before
    # Optimize-Volume -ReTrim; the host then expects the first in its image
    # file and not the second.
    try {
        $keepBlocks = [int](Cfg-Number 'TRIM_KEEP_BLOCKS')
        Initialize-Disk -Number $n -PartitionStyle MBR
        $part = New-Partition -DiskNumber $n -Offset (Cfg-Number 'TRIM_PART_OFFSET') -Size (Cfg-Number 'TRIM_PART_BYTES') -AssignDriveLetter
        Format-Volume -Partition $part -FileSystem NTFS -NewFileSystemLabel 'VDPTRIM' -Confirm:$false -Force | Out-Null
        $letter = (Get-Partition -DiskNumber $n -PartitionNumber $part.PartitionNumber).DriveLetter
        if (-not $letter -or [int][char]$letter -eq 0) { throw 'the new volume got no drive letter' }
        $root = '' + $letter + ':\'
        [VdpIo]::WriteBlocks($root + 'keep.bin', (New-MarkerBlock (Cfg 'TRIM_KEEP_MARKER')), $keepBlocks)
        [VdpIo]::WriteBlocks($root + 'gone.bin', (New-MarkerBlock (Cfg 'TRIM_GONE_MARKER')), 2 * $keepBlocks)
        Write-VolumeCache -DriveLetter $letter
        Report $true ($p + ': NTFS volume ' + $letter + ': formatted, files written and flushed')
        Remove-Item -LiteralPath ($root + 'gone.bin') -Force
        Write-VolumeCache -DriveLetter $letter
        $dn = Invoke-Native 'fsutil.exe' @('behavior', 'query', 'DisableDeleteNotify')
        Diag ($p + ': ' + $dn.Output)
        $verbose = Optimize-Volume -DriveLetter $letter -ReTrim -Verbose 4>&1 | ForEach-Object { $_.ToString() }
        Diag (($verbose | Select-Object -Last 4) -join "`n")
        Write-VolumeCache -DriveLetter $letter
        Report $true ($p + ': TRIM accepted (Optimize-Volume -ReTrim)')
    } catch {
        Report $false ($p + ': NTFS/TRIM step failed: ' + $_.Exception.Message)
    }
}

# ------------------------------------------------------------------ network checks

function Test-Network([string]$Service) {
    $mac = Cfg 'NET_MAC'
    $ad = Wait-Until 120 { Get-NetAdapter -ErrorAction SilentlyContinue | Where-Object { $_.MacAddress -eq $mac } | Select-Object -First 1 }
    Report ($null -ne $ad) ('net: adapter with MAC ' + $mac + ' present')
    if (-not $ad) {
        Diag ('adapters: ' + ((Get-NetAdapter -ErrorAction SilentlyContinue | ForEach-Object { $_.Name + ' ' + $_.MacAddress + ' ' + $_.InterfaceDescription }) -join '; '))
        return
    }
    $idx = $ad.ifIndex
    Diag ('net: "' + $ad.Name + '" ' + $ad.InterfaceDescription + ', driver ' + $ad.DriverFileName + ' ' + $ad.DriverVersionString)

    $up = Wait-Until 60 { $a = Get-NetAdapter -InterfaceIndex $idx; if ([string]$a.Status -eq 'Up') { $a } else { $null } }
    if ($up) {
        Report $true ('net: link up at ' + $up.LinkSpeed)
    } else {
        Report $false ('net: link up (status ' + (Get-NetAdapter -InterfaceIndex $idx).Status + ')')
        return
    }

    # Windows may sit on an APIPA address for a while; ask again once.
    $script:Renewed = $false
    $ip = Wait-Until 150 {
        $a = Get-NetIPAddress -InterfaceIndex $idx -AddressFamily IPv4 -ErrorAction SilentlyContinue |
            Where-Object { [string]$_.PrefixOrigin -eq 'Dhcp' } | Select-Object -First 1
        if (-not $a -and -not $script:Renewed) {
            $script:Renewed = $true
            Invoke-Native 'ipconfig.exe' @('/renew') | Out-Null
        }
        return $a
    }
    if ($ip) {
        Report ($ip.IPAddress -like '10.0.2.*') ('net: DHCP address ' + $ip.IPAddress + '/' + $ip.PrefixLength + ' from QEMU')
    } else {
        Report $false 'net: DHCP address from QEMU'
        Diag ((Invoke-Native 'ipconfig.exe' @('/all')).Output)
        return
    }

    $gw = Cfg 'NET_GATEWAY'
    $ping = New-Object System.Net.NetworkInformation.Ping
    $replies = 0
    for ($i = 0; $i -lt 5; $i++) {
        try {
            $r = $ping.Send($gw, 2000)
            if ([string]$r.Status -eq 'Success') { $replies++ }
        } catch { }
    }
    Report ($replies -gt 0) ('net: ping ' + $gw + ' (' + $replies + ' of 5 replies)')

    $peer = Cfg 'NET_PEER'
    $upBytes = Cfg-Number 'NET_UPLOAD_BYTES'
    try {
        $t = [Diagnostics.Stopwatch]::StartNew()
        $res = [VdpIo]::Upload($peer, [int](Cfg-Number 'NET_SINK_PORT'), $upBytes, 120000)
        $secs = [Math]::Max($t.Elapsed.TotalSeconds, 0.001)
        $remote = ($res[1].Trim() -split '\s+')[0]
        Report ($remote -eq $res[0]) ('net: TCP upload of ' + $upBytes + ' bytes, host SHA-256 matches (' + [Math]::Round($upBytes / 1048576 / $secs, 1) + ' MiB/s)')
        if ($remote -ne $res[0]) { Diag ('sent ' + $res[0] + ', host saw ' + $res[1]) }
    } catch {
        Report $false ('net: TCP upload to ' + $peer + ' failed: ' + $_.Exception.Message)
    }
    $downBytes = Cfg-Number 'NET_SOURCE_BYTES'
    try {
        $t = [Diagnostics.Stopwatch]::StartNew()
        $res = [VdpIo]::Download($peer, [int](Cfg-Number 'NET_SOURCE_PORT'), $downBytes, 120000)
        $secs = [Math]::Max($t.Elapsed.TotalSeconds, 0.001)
        $ok = ($res[0] -eq [string]$downBytes) -and ($res[1] -eq (Cfg 'NET_SOURCE_SHA256'))
        Report $ok ('net: TCP download of ' + $res[0] + ' bytes (expected ' + $downBytes + '), SHA-256 matches (' + [Math]::Round($downBytes / 1048576 / $secs, 1) + ' MiB/s)')
    } catch {
        Report $false ('net: TCP download from ' + $peer + ' failed: ' + $_.Exception.Message)
    }

    # Offloads: listed for the log; the check is that the driver answers the queries.
    foreach ($cmd in @('Get-NetAdapterChecksumOffload', 'Get-NetAdapterLso', 'Get-NetAdapterRss')) {
        try {
            Diag ((& $cmd -Name $ad.Name -ErrorAction Stop | Format-List | Out-String))
        } catch {
            Diag ($cmd + ': ' + $_.Exception.Message)
        }
    }
    try {
        $adv = @(Get-NetAdapterAdvancedProperty -Name $ad.Name -ErrorAction Stop)
        foreach ($a in $adv) { Diag ('net: ' + $a.DisplayName + ' = ' + $a.DisplayValue) }
        Report $true ('net: advanced properties and offloads listed (' + $adv.Count + ' properties)')
    } catch {
        Report $false ('net: advanced properties listed: ' + $_.Exception.Message)
    }
}

# ------------------------------------------------------------------ modes

function Get-CrashInfo {
    try {
        $e = Get-WinEvent -FilterHashtable @{ LogName = 'System'; Id = 1001 } -MaxEvents 3 -ErrorAction Stop |
            Where-Object { $_.Message -match 'bugcheck|0x[0-9a-f]{8}' } | Select-Object -First 1
        if ($e) { Diag ('last bugcheck event: ' + $e.TimeCreated + ': ' + $e.Message) }
    } catch { }
    foreach ($f in @((Join-Path $env:SystemRoot 'MEMORY.DMP'), (Join-Path $env:SystemRoot 'Minidump'))) {
        if (Test-Path -LiteralPath $f) { Diag ('crash dump: ' + $f) }
    }
}

function Finish-Run {
    Set-Phase 'done'
    Write-Raw ('VDPTAP-END run=' + $script:RunId + ' passed=' + $script:Passed + ' failed=' + $script:Failed)
    Close-Com
    if ((Cfg 'POWEROFF') -eq '1') { Stop-Computer -Force }
    exit 0
}

# Powers off when asked to, except after a failure in an interactive
# --prepare session, where the user should see the messages.
function Exit-Register {
    if ($script:Failed -eq 0) { Write-Raw ('VDPTAP-REGISTERED run=' + $script:RunId) }
    Close-Com
    if ((Cfg 'POWEROFF') -eq '1' -and ($script:Failed -eq 0 -or (Cfg 'MODE') -eq 'install')) {
        Stop-Computer -Force
    }
    exit $script:Failed
}

function Invoke-Register {
    Write-Raw ('VDPTAP-START register run=' + $script:RunId)
    if (-not (Test-Admin)) {
        Report $false 'register: running as administrator (run register.cmd from an elevated prompt)'
        Exit-Register
    }
    $launch = Join-Path $script:StateDir 'launch.cmd'
    Copy-Item -LiteralPath (Join-Path $script:IsoDir 'launch.cmd') -Destination $launch -Force
    $r = Invoke-Native 'schtasks.exe' @('/Create', '/F', '/TN', 'OpenVDP-Test', '/SC', 'ONSTART',
        '/RU', 'SYSTEM', '/RL', 'HIGHEST', '/DELAY', '0000:20', '/TR', $launch)
    Report ($r.Code -eq 0) 'register: start-up task OpenVDP-Test created'
    if ($r.Code -ne 0) { Diag $r.Output }

    Report (Enable-TestSigning) 'register: test signing enabled (bcdedit /set testsigning on)'
    # An idle guest must not sleep or hibernate in the middle of a run.
    $ok = $true
    foreach ($a in @(@('/change', 'standby-timeout-ac', '0'), @('/change', 'hibernate-timeout-ac', '0'),
                     @('/change', 'monitor-timeout-ac', '0'), @('/hibernate', 'off'))) {
        $r = Invoke-Native 'powercfg.exe' $a
        if ($r.Code -ne 0) { $ok = $false; Diag ('powercfg ' + ($a -join ' ') + ': ' + $r.Output) }
    }
    Report $ok 'register: sleep and hibernation off'
    Diag ('Secure Boot: ' + (Get-SecureBootState))
    Exit-Register
}

function Invoke-Test {
    $phase = Get-Phase
    if ($phase -eq 'done') { Close-Com; exit 0 }
    Write-Raw ('VDPTAP-START test run=' + $script:RunId + ' phase=' + $phase)
    if ($phase -eq 'tests') {
        Report $false 'guest restarted while the checks ran (crash or hang; see the bugcheck below)'
        Get-CrashInfo
        Finish-Run
    }

    $os = Get-CimInstance -ClassName Win32_OperatingSystem
    Diag ('Windows: ' + $os.Caption + ' ' + $os.Version + ' ' + $os.OSArchitecture + ', Secure Boot ' + (Get-SecureBootState))
    Report-Setup (Test-Admin) 'setup: running with administrator rights'

    $script:Repeat = ($phase -ne '')
    $packRoot = Find-Drive 'SHA256SUMS' 120
    if ($packRoot -and -not (Test-Path -LiteralPath (Join-Path $packRoot 'cert'))) { $packRoot = $null }
    Report-Setup ($null -ne $packRoot) 'setup: driver pack CD found'
    if (-not $packRoot) { Finish-Run }
    $osFolder = Cfg 'OS_FOLDER'
    if ($osFolder -eq '') { $osFolder = Get-OsFolder }
    $arch = Get-PackArch
    $drivers = @()
    if ($osFolder) { $drivers = @(Get-PackDrivers $packRoot $osFolder $arch) }
    Report-Setup ($drivers.Count -gt 0) ('setup: drivers for ' + $osFolder + '\' + $arch + ' in the pack (' + (($drivers | ForEach-Object { $_.Name }) -join ', ') + ')')
    if ($drivers.Count -eq 0) { Finish-Run }

    Import-PackCertificates $packRoot $drivers

    if (Test-TestSigningActive) {
        if ($phase -eq 'driver-reboot') { Diag 'again: setup: test signing is active' }
        else { Report $true 'setup: test signing is active' }
    } elseif ($phase -eq 'testsigning') {
        Report $false 'setup: test signing active after the restart'
        Diag ('Secure Boot: ' + (Get-SecureBootState) + '; bcdedit /enum {current}:')
        Diag ((Invoke-Native 'bcdedit.exe' @('/enum', '{current}')).Output)
        Finish-Run
    } elseif (Enable-TestSigning) {
        Report $true 'setup: test signing enabled, restarting to activate it'
        Set-Phase 'testsigning'
        Restart-Guest 'test signing'
    } else {
        Report $false 'setup: test signing could not be enabled'
        Finish-Run
    }

    $needReboot = $false
    if ($phase -ne 'driver-reboot') {
        # Only drivers for devices this run attached: pnputil /install fails
        # (259) for a driver without a device.
        $present = @{
            blk = ((Cfg 'BLK_DISKS') -ne ''); net = ((Cfg 'NET_VARIANT') -ne 'none'); rng = ((Cfg 'RNG') -eq '1')
        }
        foreach ($d in $drivers) {
            if (-not $d.Kind -or -not $present[$d.Kind]) {
                Diag ('not installing ' + $d.Name + ': no such device in this run')
                continue
            }
            $r = Invoke-Native 'pnputil.exe' @('/add-driver', $d.Inf, '/install')
            $what = 'setup: pnputil /add-driver ' + $d.Name + '\' + $osFolder + '\' + $arch + ' /install'
            if ($r.Code -eq 0 -or $r.Code -eq 3010) {
                Report $true ($what + ' (exit ' + $r.Code + ')')
                if ($r.Code -eq 3010) { $needReboot = $true }
            } else {
                $why = ''
                if ($r.Code -eq 259) { $why = ': no matching device, or a better driver is already installed' }
                Report $false ($what + ' failed with exit code ' + $r.Code + $why)
                Diag $r.Output
            }
        }
    }

    $blk = @($drivers | Where-Object { $_.Kind -eq 'blk' } | Select-Object -First 1)
    $net = @($drivers | Where-Object { $_.Kind -eq 'net' } | Select-Object -First 1)
    $rng = @($drivers | Where-Object { $_.Kind -eq 'rng' } | Select-Object -First 1)
    $disks = @()
    foreach ($item in ((Cfg 'BLK_DISKS') -split ',')) {
        if ($item -eq '') { continue }
        $v, $s = $item -split ':'
        $disks += New-Object PSObject -Property @{ Variant = $v; Size = [long]$s }
    }

    # A driver that asked for a restart gets exactly one.
    if ($needReboot -and $phase -ne 'driver-reboot') {
        Set-Phase 'driver-reboot'
        Restart-Guest 'pnputil asked for a restart (3010)'
    }

    Set-Phase 'tests'
    Add-Type -TypeDefinition $script:HelperSource -Language CSharp

    foreach ($d in $disks) {
        $p = 'blk-' + $d.Variant
        if ($blk.Count -eq 0) { Report $false ($p + ': no virtio-blk driver in the pack'); continue }
        if (Test-DeviceStarted $p (Get-DeviceId 'blk' $d.Variant) $blk[0].Service 120) {
            Test-Disk $d.Variant $d.Size
        }
    }
    if ((Cfg 'NET_VARIANT') -ne 'none') {
        if ($net.Count -eq 0) {
            Report $false 'net: no virtio-net driver in the pack'
        } elseif (Test-DeviceStarted 'net' (Get-DeviceId 'net' (Cfg 'NET_VARIANT')) $net[0].Service 120) {
            Test-Network $net[0].Service
        }
    }
    if ((Cfg 'RNG') -eq '1') {
        if ($rng.Count -eq 0) {
            Report $false 'rng: no virtio-rng driver in the pack'
        } else {
            Test-DeviceStarted 'rng' (Get-DeviceId 'rng' 'modern') $rng[0].Service 120 | Out-Null
        }
    }
    Finish-Run
}

# ------------------------------------------------------------------ main

try {
    New-Item -ItemType Directory -Force -Path $script:StateDir | Out-Null
    $script:Config = Read-Config (Join-Path $script:IsoDir 'config.txt')
    $script:RunId = Cfg 'RUN_ID'
    if ($script:RunId -notmatch '^[0-9A-Za-z-]+$') { throw ('config.txt: bad RUN_ID ' + $script:RunId) }
    # A test run needs a test CD; the CD of an install or prepare run that is
    # still attached at the next boot is not one.
    if ($Mode -eq 'Test' -and (Cfg 'MODE') -ne 'test') { exit 0 }
    $script:LogFile = Join-Path $script:StateDir ($Mode.ToLower() + '-' + $script:RunId + '.log')
    Open-Com
    if ($Mode -eq 'Register') { Invoke-Register } else { Invoke-Test }
} catch {
    $where = ''
    if ($_.InvocationInfo) { $where = ' (line ' + $_.InvocationInfo.ScriptLineNumber + ')' }
    if (-not $script:Com) { Open-Com }
    Report $false ('vdptest: unexpected error' + $where + ': ' + $_.Exception.Message)
    if ($script:RunId -ne '' -and $script:Config.ContainsKey('POWEROFF') -and $script:Config.ContainsKey('MODE')) {
        if ($Mode -eq 'Register') { Exit-Register }
        Finish-Run
    }
    exit 1
}
