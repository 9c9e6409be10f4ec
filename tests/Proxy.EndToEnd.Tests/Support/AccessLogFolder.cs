using System.Text.Json;
using Xunit;

namespace Proxy.EndToEnd.Tests.Support;

/// <summary>
/// A temporary folder holding a proxy's JSON access log (<see cref="Path"/> goes in the config's
/// <c>access_log</c>), read back once the writer has flushed; deleted with the test class.
/// </summary>
public sealed class AccessLogFolder : IDisposable
{
    private readonly string _folder;

    public AccessLogFolder(string prefix)
    {
        _folder = Directory.CreateTempSubdirectory(prefix).FullName;
        Path = System.IO.Path.Combine(_folder, "access.log");
    }

    /// <summary>The access-log file.</summary>
    public string Path { get; }

    /// <summary>The first <paramref name="count"/> lines, parsed, once written; fails when fewer appear in 15 s.</summary>
    public async Task<List<JsonElement>> ReadAsync(int count, bool exactly = true)
    {
        string[] lines = [];
        Assert.True(await TcpClientHelpers.EventuallyAsync(async () =>
        {
            lines = File.Exists(Path) ? await File.ReadAllLinesAsync(Path) : [];
            return lines.Length >= count;
        }, TimeSpan.FromSeconds(15)), "access log lines missing");
        if (exactly)
        {
            Assert.Equal(count, lines.Length);
        }

        return lines.Take(count).Select(line => JsonDocument.Parse(line).RootElement.Clone()).ToList();
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // a temp folder left behind is harmless
        }
    }
}
