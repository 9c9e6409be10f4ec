using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Google.Protobuf;
using Proxy.EndToEnd.Tests.Support;

namespace Proxy.EndToEnd.Tests.Xds;

/// <summary>
/// The second, independent management server: tests/node/ads-server.js, written with grpc-node (@grpc/grpc-js,
/// @grpc/proto-loader) over the same Envoy protos, run as a child process and scripted through its stdin and stdout
/// (one JSON object a line). It speaks both variants; the test sends the resources, serialized here, and reads the
/// proxy's requests as the server decoded them. It can be killed and started again on the same port.
/// </summary>
public sealed class NodeAdsServer : IAsyncDisposable
{
    private readonly string _script;
    private readonly string _protos;
    private Process? _process;
    private Channel<JsonObject> _streams = Channel.CreateUnbounded<JsonObject>();
    private Channel<JsonObject> _requests = Channel.CreateUnbounded<JsonObject>();
    private Channel<JsonObject> _sent = Channel.CreateUnbounded<JsonObject>();

    private NodeAdsServer(string script, string protos, int port)
    {
        _script = script;
        _protos = protos;
        Port = port;
    }

    public int Port { get; }

    public string Address => $"127.0.0.1:{Port}";

    /// <summary>Why the server cannot run here (node, tests/node's packages or the protos missing), or null.</summary>
    public static string? Missing(out string script, out string protos)
    {
        script = protos = "";
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Proxy.sln")))
            {
                script = Path.Combine(directory.FullName, "tests", "node", "ads-server.js");
                protos = Path.Combine(directory.FullName, "build", "xds-protos", "node_modules", "@grpc", "grpc-js-xds", "deps");
                if (!Directory.Exists(Path.Combine(directory.FullName, "tests", "node", "node_modules", "@grpc", "proto-loader")))
                {
                    return "tests/node has no @grpc/proto-loader: run scripts/setup.sh";
                }

                return Directory.Exists(protos) ? null : $"{protos} is missing: run scripts/setup.sh";
            }
        }

        return "the repository root (the folder with Proxy.sln) is not above the test binaries";
    }

    public static async Task<NodeAdsServer> StartAsync()
    {
        if (Missing(out var script, out var protos) is { } missing)
        {
            throw new InvalidOperationException(missing);
        }

        var server = new NodeAdsServer(script, protos, TcpClientHelpers.UnusedPort());
        await server.RestartAsync();
        return server;
    }

    /// <summary>Starts the process (again) on <see cref="Port"/>; returns once it listens.</summary>
    public async Task RestartAsync()
    {
        _streams = Channel.CreateUnbounded<JsonObject>();
        _requests = Channel.CreateUnbounded<JsonObject>();
        _sent = Channel.CreateUnbounded<JsonObject>();
        var listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var start = new ProcessStartInfo("node", [_script, $"--port={Port}", $"--protos={_protos}"])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var process = Process.Start(start)!;
        _process = process;
        var (streams, requests, sent) = (_streams, _requests, _sent);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { Length: > 0 } line)
            {
                listening.TrySetException(new InvalidOperationException("ads-server.js: " + line));
            }
        };
        process.BeginErrorReadLine();
        _ = Task.Run(async () =>
        {
            while (await process.StandardOutput.ReadLineAsync() is { } line)
            {
                var message = JsonNode.Parse(line)!.AsObject();
                switch ((string?)message["event"])
                {
                    case "listening": listening.TrySetResult(); break;
                    case "stream": streams.Writer.TryWrite(message); break;
                    case "request": requests.Writer.TryWrite(message); break;
                    case "sent": sent.Writer.TryWrite(message); break;
                    case "error": listening.TrySetException(new InvalidOperationException("ads-server.js: " + message["message"])); break;
                }
            }

            requests.Writer.TryComplete();
        });
        await listening.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    /// <summary>Kills the process: its streams die with its sockets, as a crashed control plane's do.</summary>
    public async Task KillAsync()
    {
        if (_process is { } process)
        {
            _process = null;
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            process.Dispose();
        }
    }

    /// <summary>The variant (<c>sotw</c> or <c>delta</c>) of the next stream the proxy opens.</summary>
    public async Task<string> NextStreamAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(15));
        return (string)(await _streams.Reader.ReadAsync(cts.Token))["variant"]!;
    }

    /// <summary>The next request of <paramref name="typeUrl"/> as the server decoded it (proto field names), skipping others.</summary>
    public async Task<JsonObject> NextRequestAsync(string typeUrl, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(15));
        while (true)
        {
            var request = (await _requests.Reader.ReadAsync(cts.Token))["request"]!.AsObject();
            if ((string?)request["type_url"] == typeUrl)
            {
                return request;
            }
        }
    }

    /// <summary>Sends a response on the newest stream, of its variant; returns its nonce.</summary>
    public async Task<string> SendAsync(string typeUrl, string version, IEnumerable<(string Name, string Version, IMessage Resource)> resources, params string[] removed)
    {
        var command = new JsonObject
        {
            ["op"] = "send",
            ["type_url"] = typeUrl,
            ["version"] = version,
            ["resources"] = new JsonArray([.. resources.Select(r => (JsonNode)new JsonObject
            {
                ["name"] = r.Name,
                ["version"] = r.Version,
                ["value"] = Convert.ToBase64String(r.Resource.ToByteArray()),
            })]),
            ["removed"] = new JsonArray([.. removed.Select(static n => (JsonNode)n)]),
        };
        await _process!.StandardInput.WriteLineAsync(command.ToJsonString());
        await _process.StandardInput.FlushAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        return (string)(await _sent.Reader.ReadAsync(cts.Token))["nonce"]!;
    }

    public async ValueTask DisposeAsync() => await KillAsync();
}
