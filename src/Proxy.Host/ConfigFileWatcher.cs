namespace Proxy.Host;

/// <summary>
/// Calls back when the configuration file may have changed: an edit in place, an editor's rename
/// over it, or a Kubernetes ConfigMap update. The kubelet never writes the mounted file: it is a
/// symlink <c>config.yaml -> ..data/config.yaml</c>, and an update writes a new timestamped
/// directory and atomically renames a new <c>..data</c> symlink over the old one, so no event ever
/// names <c>config.yaml</c>. The whole directory is therefore watched, not the file's name; the
/// callback (a reload that compares the file's content) decides whether anything changed.
/// </summary>
public sealed class ConfigFileWatcher : IDisposable
{
    /// <summary>Quiet time after the last event before the callback: saves and swaps fire several events.</summary>
    public static readonly TimeSpan Debounce = TimeSpan.FromMilliseconds(200);

    private readonly FileSystemWatcher _watcher;
    private readonly Timer _debounce;

    public ConfigFileWatcher(string configPath, Action changed)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(configPath))!;
        _debounce = new Timer(_ => changed());
        _watcher = new FileSystemWatcher(directory)
        {
            NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.Size | NotifyFilters.CreationTime,
        };
        FileSystemEventHandler onEvent = (_, _) => _debounce.Change(Debounce, Timeout.InfiniteTimeSpan);
        _watcher.Changed += onEvent;
        _watcher.Created += onEvent;
        _watcher.Deleted += onEvent;
        _watcher.Renamed += (_, _) => _debounce.Change(Debounce, Timeout.InfiniteTimeSpan);
        _watcher.EnableRaisingEvents = true;
    }

    public void Dispose()
    {
        _watcher.Dispose();
        _debounce.Dispose();
    }
}
