namespace Proxy.Configuration;

/// <summary>
/// Turns the exception of a failed file read into a sentence that names the file and says what to do. The binary
/// is published with <c>UseSystemResourceKeys</c>, so the runtime's own messages are resource keys
/// (<c>IO_FileNotFound_FileName</c>): never show those, say it here instead.
/// </summary>
public static class FileReadError
{
    /// <summary>
    /// The sentence for <paramref name="ex"/>, thrown while reading <paramref name="path"/>, which is the
    /// <paramref name="role"/> ("the configuration file", "the certificate file", ...).
    /// </summary>
    /// <param name="relativeTo">What a relative path is resolved against, for the hint of a missing file.</param>
    public static string Describe(string role, string path, Exception ex, string relativeTo = "the directory of the configuration file") => ex switch
    {
        FileNotFoundException => $"{role} {path} does not exist; check the path (a relative path is resolved against {relativeTo})",
        DirectoryNotFoundException => $"{role} {path} does not exist: its directory {Path.GetDirectoryName(path)} is missing; check the path",
        UnauthorizedAccessException when Directory.Exists(path) => $"{role} {path} is a directory; name the file inside it",
        UnauthorizedAccessException => $"{role} {path} cannot be read: permission denied; make it readable by the user the proxy runs as ({Environment.UserName})",
        PathTooLongException => $"{role} {path} has a path too long for the system; shorten it",
        _ => $"{role} {path} cannot be read (I/O error {ex.HResult & 0xFFFF}); check that the file and its disk are accessible",
    };

    /// <summary>Reads all of <paramref name="path"/>; on failure, throws <see cref="UnusableFileException"/> with the sentence of <see cref="Describe"/>.</summary>
    public static byte[] ReadAllBytes(string role, string path)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new UnusableFileException(Describe(role, path, ex), ex);
        }
    }
}
