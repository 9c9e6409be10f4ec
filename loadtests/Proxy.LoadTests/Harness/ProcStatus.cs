namespace Proxy.LoadTests.Harness;

/// <summary>Reads fields of /proc/PID/status (Linux).</summary>
public static class ProcStatus
{
    /// <summary>The value in KiB of a field such as "VmRSS:", or -1 when missing.</summary>
    public static long ReadKib(int pid, string field)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith(field, StringComparison.Ordinal))
                {
                    var parts = line[field.Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    return long.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture);
                }
            }
        }
        catch (IOException)
        {
            // The process is gone.
        }

        return -1;
    }

    /// <summary>The number of open descriptors of a process (entries of /proc/PID/fd), or -1.</summary>
    public static int OpenFds(int pid)
    {
        try
        {
            return Directory.GetFileSystemEntries($"/proc/{pid}/fd").Length;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return -1;
        }
    }
}
