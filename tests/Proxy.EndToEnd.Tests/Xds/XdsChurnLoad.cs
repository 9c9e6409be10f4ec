using System.Diagnostics;

namespace Proxy.EndToEnd.Tests.Xds;

/// <summary>
/// An open-model HTTP client: requests start on a fixed schedule (<c>rate</c> a second), whether or not earlier ones
/// have answered, for a fixed time, over keep-alive connections. Bounded: at most <see cref="MaxInFlight"/> requests
/// at once (a request the schedule would start beyond that counts as failed, so a stalled proxy fails the test rather
/// than piling up work), each with a 10 s timeout. Every response is kept (start and end time, path, status and
/// body) for the test to check after the run.
/// </summary>
public sealed class XdsChurnLoad : IDisposable
{
    public const int MaxInFlight = 2000;
    private readonly HttpClient _client;
    private readonly string _baseUrl;
    private readonly int _rate;
    private readonly Func<long, string> _path;
    private readonly List<Sample> _samples = [];
    private readonly List<Task> _pending = [];
    private int _inFlight;

    /// <param name="path">The path of request number i.</param>
    public XdsChurnLoad(string baseUrl, int rate, Func<long, string> path)
    {
        _baseUrl = baseUrl;
        _rate = rate;
        _path = path;
        _client = new HttpClient(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = 256,
            ConnectTimeout = TimeSpan.FromSeconds(5),
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
        })
        { Timeout = TimeSpan.FromSeconds(10) };
    }

    /// <summary>One request: when it started and ended (Stopwatch timestamps), and what came back.</summary>
    public sealed record Sample(long Start, long End, string Path, int Status, string Body, string? Failure);

    /// <summary>Every request of the run, in the order they ended.</summary>
    public IReadOnlyList<Sample> Samples => _samples;

    /// <summary>Runs the schedule for <paramref name="duration"/>, then waits (at most 15 s) for the requests still in flight.</summary>
    public async Task RunAsync(TimeSpan duration, CancellationToken cancel)
    {
        var clock = Stopwatch.StartNew();
        long next = 0;
        while (clock.Elapsed < duration && !cancel.IsCancellationRequested)
        {
            var due = next * 1000 / _rate;
            var wait = due - clock.ElapsedMilliseconds;
            if (wait > 0)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(wait), CancellationToken.None);
            }

            // Every request whose time has come starts now (a late timer starts several at once, as an open model must).
            for (; next * 1000 / _rate <= clock.ElapsedMilliseconds; next++)
            {
                var path = _path(next);
                if (Interlocked.Increment(ref _inFlight) > MaxInFlight)
                {
                    Interlocked.Decrement(ref _inFlight);
                    var now = Stopwatch.GetTimestamp();
                    Add(new Sample(now, now, path, 0, "", $"not sent: {MaxInFlight} requests were already in flight"));
                    continue;
                }

                var task = SendAsync(path);
                lock (_pending)
                {
                    _pending.Add(task);
                }
            }
        }

        Task[] pending;
        lock (_pending)
        {
            pending = [.. _pending];
        }

        await Task.WhenAll(pending).WaitAsync(TimeSpan.FromSeconds(15), CancellationToken.None);
    }

    private async Task SendAsync(string path)
    {
        var start = Stopwatch.GetTimestamp();
        try
        {
            using var response = await _client.GetAsync(_baseUrl + path);
            var body = await response.Content.ReadAsStringAsync();
            Add(new Sample(start, Stopwatch.GetTimestamp(), path, (int)response.StatusCode, body,
                response.IsSuccessStatusCode ? null : $"{(int)response.StatusCode} {string.Join(",", response.Headers.TryGetValues("x-proxy-error", out var e) ? e : [])} {body}"));
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException)
        {
            Add(new Sample(start, Stopwatch.GetTimestamp(), path, 0, "", ex.GetType().Name + ": " + ex.Message));
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private void Add(Sample sample)
    {
        lock (_samples)
        {
            _samples.Add(sample);
        }
    }

    public void Dispose() => _client.Dispose();
}
