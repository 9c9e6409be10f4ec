namespace Proxy.Tls;

/// <summary>
/// Remembers the last-write time and length of a set of files, to tell when any of them changed.
/// Polling (rather than a file watcher) also sees Kubernetes-style symlink swaps of a whole directory.
/// </summary>
internal sealed class ReloadingFile(params string[] paths)
{
    private readonly (DateTime Written, long Length)[] _stamps = new (DateTime, long)[paths.Length];

    public IReadOnlyList<string> Paths => paths;

    /// <summary>Records the current state; returns true when it differs from the last recorded one.</summary>
    public bool Changed()
    {
        var changed = false;
        for (var i = 0; i < paths.Length; i++)
        {
            var info = new FileInfo(paths[i]);
            var stamp = info.Exists ? (info.LastWriteTimeUtc, info.Length) : (DateTime.MinValue, -1L);
            if (stamp != _stamps[i])
            {
                _stamps[i] = stamp;
                changed = true;
            }
        }

        return changed;
    }

    /// <summary>Forgets the recorded state, so the next <see cref="Changed"/> reports a change (retry after a failed load).</summary>
    public void Reset() => Array.Clear(_stamps);
}
