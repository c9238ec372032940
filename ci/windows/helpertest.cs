using System;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Threading;

// Exercises vdptest.ps1's C# helper (the parts that do not call kernel32)
// against in-process peers that behave like the host's guestfwd commands.
public static class HelperTest
{
    static string Hex(byte[] h) { return BitConverter.ToString(h).Replace("-", "").ToLowerInvariant(); }

    public static int Main()
    {
        int failed = 0;
        // Sink: reads to EOF, answers "<sha256>  -\n" like sha256sum.
        TcpListener sink = new TcpListener(IPAddress.Loopback, 0);
        sink.Start();
        int sinkPort = ((IPEndPoint)sink.LocalEndpoint).Port;
        Thread ts = new Thread(() => {
            using (TcpClient c = sink.AcceptTcpClient())
            using (SHA256 sha = SHA256.Create()) {
                NetworkStream s = c.GetStream();
                byte[] buf = new byte[7000];
                int n;
                while ((n = s.Read(buf, 0, buf.Length)) > 0) sha.TransformBlock(buf, 0, n, null, 0);
                sha.TransformFinalBlock(buf, 0, 0);
                byte[] reply = Encoding.ASCII.GetBytes(Hex(sha.Hash) + "  -\n");
                s.Write(reply, 0, reply.Length);
            }
        });
        ts.Start();
        string[] up = VdpIo.Upload("127.0.0.1", sinkPort, 3 * 1048576 + 123, 10000);
        ts.Join();
        string remote = up[1].Trim().Split(' ')[0];
        Console.WriteLine((remote == up[0] ? "ok" : "not ok") + " - upload: peer hash " + remote + " = local " + up[0]);
        if (remote != up[0]) failed++;

        // Source: sends known bytes and closes.
        byte[] data = new byte[2 * 1048576 + 77];
        new Random(1).NextBytes(data);
        string want;
        using (SHA256 sha = SHA256.Create()) want = Hex(sha.ComputeHash(data));
        TcpListener src = new TcpListener(IPAddress.Loopback, 0);
        src.Start();
        int srcPort = ((IPEndPoint)src.LocalEndpoint).Port;
        Thread td = new Thread(() => {
            using (TcpClient c = src.AcceptTcpClient()) c.GetStream().Write(data, 0, data.Length);
        });
        td.Start();
        string[] down = VdpIo.Download("127.0.0.1", srcPort, data.Length, 10000);
        td.Join();
        bool ok = down[0] == data.Length.ToString() && down[1] == want;
        Console.WriteLine((ok ? "ok" : "not ok") + " - download: " + down[0] + " bytes, hash " + down[1]);
        if (!ok) failed++;

        byte[] a = { 1, 2, 3, 4 }, b = { 2, 3, 9 };
        ok = VdpIo.FirstDifference(a, 1, b, 2) == -1 && VdpIo.FirstDifference(a, 1, b, 3) == 2;
        Console.WriteLine((ok ? "ok" : "not ok") + " - FirstDifference");
        if (!ok) failed++;
        return failed;
    }
}
