namespace Proxy.Observability.AccessLog;

/// <summary>
/// The access log's file and when to reopen it: on request (SIGUSR1), or when the file the proxy writes is no longer
/// the one at the configured path, which is what logrotate without <c>copytruncate</c> does (rename, then a new file
/// at the path). The check reads where the open descriptor points (<c>/proc/self/fd/N</c>: the new name after a
/// rename, "(deleted)" after an unlink) and whether the path exists, at most once a second, on the writer thread.
/// </summary>
internal sealed class AccessLogFile
{
    private const long CheckIntervalMs = 1000;

    private readonly string _path;
    private string? _openedAs;
    private long _nextCheck;
    private long _reopens;
    private volatile bool _reopenRequested;

    private AccessLogFile(string path) => _path = Path.GetFullPath(path);

    /// <summary>Reopens done so far.</summary>
    public long Reopens => Interlocked.Read(ref _reopens);

    /// <summary>Opens <paramref name="path"/> for appending.</summary>
    public static Stream Open(string path, out AccessLogFile file)
    {
        file = new AccessLogFile(path);
        return file.OpenStream();
    }

    public void RequestReopen() => _reopenRequested = true;

    /// <summary>A fresh stream when the current one must be replaced, else null. The caller disposes the old one.</summary>
    public Stream? TryReopen(Stream current)
    {
        var now = Environment.TickCount64;
        if (!_reopenRequested)
        {
            if (now < _nextCheck)
            {
                return null;
            }

            _nextCheck = now + CheckIntervalMs;
            if (!Moved(current))
            {
                return null;
            }
        }

        _reopenRequested = false;
        try
        {
            var next = OpenStream();
            Interlocked.Increment(ref _reopens);
            return next;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The directory went away or is not writable now: keep the old file, try again at the next check.
            return null;
        }
    }

    private FileStream OpenStream()
    {
        var stream = new FileStream(_path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.None);
        _openedAs = Target(stream);
        return stream;
    }

    private bool Moved(Stream current)
    {
        if (!File.Exists(_path))
        {
            return true;
        }

        return current is FileStream file && _openedAs is not null && Target(file) is { } now && now != _openedAs;
    }

    /// <summary>Where the descriptor of <paramref name="stream"/> points, or null where /proc cannot tell.</summary>
    private static string? Target(FileStream stream)
    {
        try
        {
            var fd = stream.SafeFileHandle.DangerousGetHandle();
            return new FileInfo($"/proc/self/fd/{fd}").LinkTarget;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            return null;
        }
    }
}
