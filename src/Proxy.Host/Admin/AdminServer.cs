using System.Net;
using System.Net.Sockets;
using System.Text;
using Proxy.Observability;

namespace Proxy.Host.Admin;

/// <summary>
/// The admin endpoint (loopback by default; see <see cref="AdminRoutes"/>) and the stats-only
/// listener (<see cref="StatsRoutes"/>): a deliberately small HTTP/1.1 server, one request per
/// connection, off the proxy's hot path: scrapes and probes are rare, and it must keep answering
/// while the proxy drains. What each path answers is the handler's business.
/// </summary>
public sealed class AdminServer : IAsyncDisposable
{
    private const int MaxHeadBytes = 16 * 1024;
    private readonly Socket _socket;
    private readonly Func<AdminRequest, Task<AdminResponse>> _handle;
    private readonly Logger _log;
    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;

    public AdminServer(IPEndPoint address, Func<AdminRequest, Task<AdminResponse>> handle, Logger log)
    {
        _handle = handle;
        _log = log;
        _socket = Transport.ListenSocket.Open(address, 64);
        LocalEndPoint = (IPEndPoint)_socket.LocalEndPoint!;
    }

    public IPEndPoint LocalEndPoint { get; }

    public void Start() => _loop = Task.Run(AcceptLoopAsync);

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _socket.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
            {
                break;
            }
            catch (SocketException ex)
            {
                _log.Warn("admin accept failed", ("error", ex.SocketErrorCode));
                await Task.Delay(10).ConfigureAwait(false);
                continue;
            }

            _ = ServeAsync(client);
        }
    }

    private async Task ServeAsync(Socket client)
    {
        using var _ = client;
        using var stream = new NetworkStream(client, ownsSocket: false);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        try
        {
            var head = await ReadHeadAsync(stream, timeout.Token).ConfigureAwait(false);
            AdminResponse response;
            if (head is null)
            {
                response = AdminResponse.Text(400, "bad request\n");
            }
            else
            {
                var firstLine = head[..head.IndexOf("\r\n", StringComparison.Ordinal)];
                var parts = firstLine.Split(' ');
                response = parts.Length == 3
                    ? await _handle(AdminRequest.From(parts[0], parts[1], (client.RemoteEndPoint as IPEndPoint)?.Address)).ConfigureAwait(false)
                    : AdminResponse.Text(400, "bad request line\n");
            }

            await WriteAsync(stream, response, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException)
        {
            // The client hung up or was too slow; nothing to answer.
        }
    }

    private static async Task<string?> ReadHeadAsync(NetworkStream stream, CancellationToken cancel)
    {
        var buffer = new byte[MaxHeadBytes];
        var filled = 0;
        while (filled < buffer.Length)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(filled), cancel).ConfigureAwait(false);
            if (read == 0)
            {
                return null;
            }

            filled += read;
            var end = buffer.AsSpan(0, filled).IndexOf("\r\n\r\n"u8);
            if (end >= 0)
            {
                return Encoding.ASCII.GetString(buffer, 0, end + 2);
            }
        }

        return null;
    }

    private static async Task WriteAsync(NetworkStream stream, AdminResponse response, CancellationToken cancel)
    {
        var body = Encoding.UTF8.GetBytes(response.Body);
        var head = $"HTTP/1.1 {response.Status} {Reason(response.Status)}\r\ncontent-type: {response.ContentType}\r\ncontent-length: {body.Length}\r\nconnection: close\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head), cancel).ConfigureAwait(false);
        await stream.WriteAsync(body, cancel).ConfigureAwait(false);
    }

    private static string Reason(int status) => status switch
    {
        200 => "OK",
        202 => "Accepted",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        503 => "Service Unavailable",
        _ => "Status",
    };

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _socket.Dispose();
        await _loop.ConfigureAwait(false);
    }
}
