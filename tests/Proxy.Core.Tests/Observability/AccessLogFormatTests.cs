using System.Buffers;
using System.Text;
using Proxy.Observability.AccessLog;

namespace Proxy.Tests.Observability;

public class AccessLogFormatTests
{
    private const string EnvoyLike =
        "[%START_TIME%] \"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%\" %RESPONSE_CODE% %RESPONSE_FLAGS% " +
        "%BYTES_RECEIVED% %BYTES_SENT% %DURATION% \"%REQ(X-REQUEST-ID)%\" \"%REQ(:AUTHORITY)%\" \"%UPSTREAM_HOST%\" %UPSTREAM_CLUSTER% %ROUTE_NAME% " +
        "%UPSTREAM_REQUEST_ATTEMPT_COUNT% %DOWNSTREAM_PEER_URI_SAN% %TRACE_ID%";

    private static AccessLogEntry Entry()
    {
        var entry = new AccessLogEntry
        {
            StartTime = new DateTime(2025, 1, 2, 3, 4, 5, 678, DateTimeKind.Utc),
            DurationMs = 12.7,
            Protocol = "HTTP/1.1",
            Status = 502,
            BytesReceived = 10,
            BytesSent = 135,
            UpstreamEndpoint = "10.0.0.5:9000",
            ResponseFlags = "UF",
            Attempts = 1,
            Cluster = "api",
            TraceIdHigh = 0x0af7651916cd43dd,
            TraceIdLow = 0x8448eb211c80319c,
        };
        entry.SetMethod("GET"u8);
        entry.SetAuthority("api.local"u8);
        entry.SetPath("/items/1?q=2"u8);
        entry.SetRequestId("req-1"u8);
        return entry;
    }

    private static string Write(AccessLogFormat format, AccessLogEntry entry)
    {
        var buffer = new ArrayBufferWriter<byte>();
        format.Write(buffer, entry);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    [Fact]
    public void Write_EnvoyStyleFormat_EveryOperatorFilledAbsentOnesDash()
    {
        Assert.True(AccessLogFormat.TryCompile(EnvoyLike, out var format, out var error), error);

        Assert.Equal(
            "[2025-01-02T03:04:05.678Z] \"GET /items/1?q=2 HTTP/1.1\" 502 UF 10 135 12 \"req-1\" \"api.local\" \"10.0.0.5:9000\" api - 1 - 0af7651916cd43dd8448eb211c80319c\n",
            Write(format!, Entry()));
    }

    [Fact]
    public void Write_PeerUriSans_EachSideItsOwn()
    {
        // A server sidecar's line names the caller (downstream), a client sidecar's the callee (upstream).
        Assert.True(AccessLogFormat.TryCompile("%DOWNSTREAM_PEER_URI_SAN% %UPSTREAM_PEER_URI_SAN%", out var format, out var error), error);
        var entry = Entry();
        entry.UpstreamPeerIdentity = "spiffe://mesh.test/ns/default/sa/orders";

        Assert.Equal("- spiffe://mesh.test/ns/default/sa/orders\n", Write(format!, entry));
    }

    [Fact]
    public void Write_RequestHeaderWithLengthLimit_Truncated()
    {
        Assert.True(AccessLogFormat.TryCompile("%REQ(:PATH):6%", out var format, out _));

        Assert.Equal("/items\n", Write(format!, Entry()));
    }

    [Theory]
    [InlineData("%BOGUS%", "%BOGUS% is not a command operator the proxy supports")]
    [InlineData("%REQ(USER-AGENT)%", "does not record the request header USER-AGENT")]
    [InlineData("%START_TIME(%s)%", "custom START_TIME format is not supported")]
    [InlineData("%START_TIME", "never closed")]
    [InlineData("%REQ(:PATH):x%", "not a valid request header operator")]
    public void TryCompile_UnsupportedFormat_RejectedWithASentence(string text, string expected)
    {
        Assert.False(AccessLogFormat.TryCompile(text, out var format, out var error));
        Assert.Null(format);
        Assert.Contains(expected, error);
    }

    [Fact]
    public void Write_SteadyState_AllocatesNothing()
    {
        Assert.True(AccessLogFormat.TryCompile(EnvoyLike, out var format, out _));
        var entry = Entry();
        var buffer = new ArrayBufferWriter<byte>(4096);
        format!.Write(buffer, entry);
        buffer.ResetWrittenCount();

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            format.Write(buffer, entry);
            buffer.ResetWrittenCount();
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public async Task Writer_WithFormat_WritesTextLines()
    {
        Assert.True(AccessLogFormat.TryCompile("%RESPONSE_CODE% %UPSTREAM_HOST%", out var format, out _));
        var path = Path.Combine(Directory.CreateTempSubdirectory("proxy-alf-").FullName, "access.log");
        var writer = AccessLogWriter.Open(path, format: format);
        var entry = writer.TryRent()!;
        entry.Status = 404;
        writer.Publish(entry);
        await writer.DisposeAsync();

        Assert.Equal("404 -\n", await File.ReadAllTextAsync(path));
    }

    [Fact]
    public async Task Writer_FileMovedAway_ReopensAtThePath()
    {
        var dir = Directory.CreateTempSubdirectory("proxy-alr-").FullName;
        var path = Path.Combine(dir, "access.log");
        var writer = new AccessLogWriter(path, flushInterval: TimeSpan.FromMilliseconds(10));
        await PublishAsync(writer, path, 200);

        File.Move(path, path + ".1"); // logrotate without copytruncate
        Assert.True(await EventuallyAsync(async () =>
        {
            await PublishAsync(writer, null, 201);
            return File.Exists(path) && (await File.ReadAllTextAsync(path)).Contains("201");
        }), "no new file at the path");

        await writer.DisposeAsync();
        Assert.Contains("200", await File.ReadAllTextAsync(path + ".1"));
        Assert.Equal(1, writer.Reopens);
    }

    [Fact]
    public async Task Writer_ReopenRequested_NextLineGoesToTheFileNowAtThePath()
    {
        var dir = Directory.CreateTempSubdirectory("proxy-alr-").FullName;
        var path = Path.Combine(dir, "access.log");
        var writer = new AccessLogWriter(path, flushInterval: TimeSpan.FromMilliseconds(10));
        await PublishAsync(writer, path, 200);
        File.Move(path, path + ".1");
        await File.WriteAllTextAsync(path, ""); // logrotate's create

        writer.RequestReopen();
        await PublishAsync(writer, path, 201);

        await writer.DisposeAsync();
        Assert.DoesNotContain("201", await File.ReadAllTextAsync(path + ".1"));
    }

    /// <summary>Publishes one entry with <paramref name="status"/>; when <paramref name="path"/> is given, waits until that file shows it.</summary>
    private static async Task PublishAsync(AccessLogWriter writer, string? path, int status)
    {
        var entry = writer.TryRent()!;
        entry.Status = status;
        writer.Publish(entry);
        if (path is not null)
        {
            Assert.True(await EventuallyAsync(async () => File.Exists(path) && (await File.ReadAllTextAsync(path)).Contains($"\"status\":{status}")), $"{status} never written to {path}");
        }
    }

    private static async Task<bool> EventuallyAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            if (await condition())
            {
                return true;
            }

            await Task.Delay(100);
        }

        return false;
    }
}
