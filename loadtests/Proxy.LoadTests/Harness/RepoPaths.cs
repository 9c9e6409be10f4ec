namespace Proxy.LoadTests.Harness;

/// <summary>Locates the repository root and the published proxy binary.</summary>
public static class RepoPaths
{
    /// <summary>The directory holding Proxy.sln, searched upwards from the working and the app directories.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>PROXY_BINARY if set, else artifacts/publish/proxy under the root (made by scripts/publish.sh).</summary>
    public static string ProxyBinary =>
        Environment.GetEnvironmentVariable("PROXY_BINARY") is { Length: > 0 } path
            ? path
            : Path.Combine(Root, "artifacts", "publish", "proxy");

    private static string FindRoot()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Proxy.sln")))
                {
                    return dir.FullName;
                }
            }
        }

        return Directory.GetCurrentDirectory();
    }
}
