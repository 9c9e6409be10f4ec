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
    private readonly string _path;
    private readonly string _name;

    public ConfigFileWatcher(string configPath, Action changed)
    {
        _path = Path.GetFullPath(configPath);
        _name = Path.GetFileName(_path);
        var directory = Path.GetDirectoryName(_path)!;
        _debounce = new Timer(_ => changed());
        _watcher = new FileSystemWatcher(directory)
        {
            NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.Size | NotifyFilters.CreationTime,
        };
        FileSystemEventHandler onEvent = (_, e) => Touched(e.Name);
        _watcher.Changed += onEvent;
        _watcher.Created += onEvent;
        _watcher.Deleted += onEvent;
        _watcher.Renamed += (_, e) =>
        {
            Touched(e.Name);
            Touched(e.OldName);
        };
        _watcher.EnableRaisingEvents = true;
    }

    private void Touched(string? name)
    {
        if (name is not null && IsRelevant(name))
        {
            _debounce.Change(Debounce, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>
    /// Whether a change to <paramref name="name"/> in the directory can change what the file reads:
    /// the file itself, the kubelet's <c>..data</c> links and timestamped directories, or the first
    /// step of the file's own symlink target. Anything else (an access log written beside the file,
    /// say) is ignored: it would keep pushing the debounce back.
    /// </summary>
    private bool IsRelevant(string name)
    {
        if (name == _name || name.StartsWith("..", StringComparison.Ordinal))
        {
            return true;
        }

        try
        {
            if (new FileInfo(_path).LinkTarget is { } target && !Path.IsPathRooted(target))
            {
                int slash = target.IndexOf('/');
                return name == (slash < 0 ? target : target[..slash]);
            }
        }
        catch (IOException)
        {
            // The link is being replaced; the events that follow name it.
        }

        return false;
    }

    public void Dispose()
    {
        _watcher.Dispose();
        _debounce.Dispose();
    }
}
