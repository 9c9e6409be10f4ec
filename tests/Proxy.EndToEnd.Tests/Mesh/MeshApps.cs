using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Proxy.EndToEnd.Tests.Mesh;

/// <summary>What the namespace tests do to their apps and sidecars: run as the app's uid, read metrics, wait for ports.</summary>
internal static class MeshApps
{
    // The system interpreter: a per-user shim (pyenv) is not readable by the app's uid.
    public static readonly string Python = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

    /// <summary>Runs a command in <paramref name="ns"/> as the app (uid 65534), which the sidecar's rules intercept.</summary>
    public static (int Code, string Output) AsApp(string ns, params string[] command) =>
        NetnsTopology.Exec(ns, ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", .. command]);

    /// <summary>The sidecar's /metrics in <paramref name="ns"/>.</summary>
    public static string Metrics(string ns) => NetnsTopology.Exec(ns, "curl", "-s", "http://127.0.0.1:15000/metrics").Output;

    /// <summary>The sum of the samples of <paramref name="family"/> whose labels contain every one of <paramref name="labels"/>.</summary>
    public static double Sum(string metrics, string family, params string[] labels)
    {
        double sum = 0;
        foreach (Match m in Regex.Matches(metrics, "^" + Regex.Escape(family) + @"\{([^}]*)\} (\S+)$", RegexOptions.Multiline))
        {
            if (labels.All(l => m.Groups[1].Value.Contains(l, StringComparison.Ordinal)))
            {
                sum += double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
            }
        }

        return sum;
    }

    public static void WaitForPort(string ns, int port)
    {
        var script = $"import socket; socket.create_connection(('127.0.0.1', {port}), timeout=1)";
        var watch = Stopwatch.StartNew();
        while (NetnsTopology.Exec(ns, Python, "-c", script).Code != 0)
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(15), $"app port {port} never opened");
            Thread.Sleep(200);
        }
    }

    public static void Must((int Code, string Output) result) =>
        Assert.True(result.Code == 0, $"command failed ({result.Code}): {result.Output}");

    /// <summary>An nginx (one process, as root, files under <paramref name="dir"/>) with the given server blocks.</summary>
    public static string NginxConfig(string dir, string servers) => $$"""
        daemon off;
        master_process off;
        pid {{dir}}/nginx.pid;
        error_log {{dir}}/nginx-error.log warn;
        events { worker_connections 64; }
        http {
            access_log off;
            client_body_temp_path {{dir}}/nginx-body;
            proxy_temp_path {{dir}}/nginx-proxy;
            fastcgi_temp_path {{dir}}/nginx-fastcgi;
            uwsgi_temp_path {{dir}}/nginx-uwsgi;
            scgi_temp_path {{dir}}/nginx-scgi;
        {{servers}}
        }
        """;

    /// <summary>
    /// A raw capture of <paramref name="device"/> for <paramref name="seconds"/>: every frame's bytes to
    /// <paramref name="path"/>, and the number of TCP connection openings seen (SYN without ACK, IPv4) to
    /// <paramref name="path"/>.syns.
    /// </summary>
    public static string CaptureScript(string device, string path, int seconds) => $$"""
        import socket, time
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
        s.bind(('{{device}}', 0)); s.settimeout(0.2)
        end = time.time() + {{seconds}}
        syns = 0
        with open('{{path}}', 'wb') as out:
            while time.time() < end:
                try: frame = s.recv(65535)
                except socket.timeout: continue
                out.write(frame)
                if len(frame) > 34 and frame[12:14] == b'\x08\x00' and frame[23] == 6:
                    tcp = 14 + (frame[14] & 0x0f) * 4
                    if len(frame) > tcp + 13 and frame[tcp + 13] & 0x12 == 0x02: syns += 1
        open('{{path}}.syns', 'w').write(str(syns))
        """;
}
