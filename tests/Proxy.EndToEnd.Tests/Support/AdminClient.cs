using System.Net;

namespace Proxy.EndToEnd.Tests.Support;

/// <summary>Calls the proxy's admin endpoint over real HTTP.</summary>
public sealed class AdminClient(IPEndPoint admin) : IDisposable
{
    private readonly HttpClient _http = new() { BaseAddress = new Uri($"http://{admin}"), Timeout = TimeSpan.FromSeconds(10) };

    public async Task<(int Status, string Body)> GetAsync(string path)
    {
        using var response = await _http.GetAsync(path);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    public async Task<(int Status, string Body)> PostAsync(string path)
    {
        using var response = await _http.PostAsync(path, null);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    public async Task<Dictionary<string, double>> MetricsAsync()
    {
        var (status, body) = await GetAsync("/metrics");
        Assert.Equal(200, status);
        return PrometheusText.Parse(body);
    }

    public void Dispose() => _http.Dispose();
}
