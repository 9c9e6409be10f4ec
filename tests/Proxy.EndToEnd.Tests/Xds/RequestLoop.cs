namespace Proxy.EndToEnd.Tests.Xds;

/// <summary>
/// Requests sent one after another to a URL until disposed, as a client keeps using a service while the management
/// server changes things under it: counts the answers and keeps the first one that was not a 200.
/// </summary>
public sealed class RequestLoop : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _run;
    private int _count;
    private string? _firstFailure;

    public RequestLoop(string url)
    {
        _run = Task.Run(async () =>
        {
            using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            while (!_stop.IsCancellationRequested)
            {
                string? failure = null;
                try
                {
                    using var response = await client.GetAsync(url);
                    if ((int)response.StatusCode != 200)
                    {
                        failure = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
                    }
                }
                catch (HttpRequestException ex)
                {
                    failure = ex.Message;
                }

                Interlocked.Increment(ref _count);
                if (failure is not null)
                {
                    Interlocked.CompareExchange(ref _firstFailure, failure, null);
                }
            }
        });
    }

    /// <summary>How many requests got an answer (or failed) so far.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>The first answer that was not a 200, or null.</summary>
    public string? FirstFailure => Volatile.Read(ref _firstFailure);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _run;
        _stop.Dispose();
    }
}
