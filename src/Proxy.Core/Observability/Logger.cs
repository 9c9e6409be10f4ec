using System.Text;
using System.Text.Json;
using System.Threading.Channels;

namespace Proxy.Observability;

/// <summary>
/// Process log: one line per event to stderr, as text (<c>ts level msg key=value ...</c>) or as JSON.
/// Lines are formatted on the caller and written by a background task through a bounded channel,
/// so a slow stderr never blocks a socket thread; when the channel is full the line is dropped and
/// counted.
/// </summary>
public sealed class Logger
{
    private readonly Channel<string> _lines = Channel.CreateBounded<string>(
        new BoundedChannelOptions(10_000) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
    private readonly TextWriter _sink;
    private readonly Task _writer;
    private long _dropped;

    public Logger(TextWriter sink, LogLevel level = LogLevel.Info, bool json = false)
    {
        _sink = sink;
        Level = level;
        Json = json;
        _writer = Task.Run(WriteLoopAsync);
    }

    /// <summary>A logger writing to the process's stderr.</summary>
    public static Logger StdErr(LogLevel level = LogLevel.Info, bool json = false) => new(Console.Error, level, json);

    /// <summary>Lowest level written; changes take effect at once (config reload).</summary>
    public LogLevel Level { get; set; }

    /// <summary>Whether lines are JSON objects.</summary>
    public bool Json { get; set; }

    /// <summary>Lines dropped because the writer fell behind.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    public bool IsEnabled(LogLevel level) => level >= Level;

    public void Debug(string message, params (string Key, object? Value)[] fields) => Write(LogLevel.Debug, message, fields);

    public void Info(string message, params (string Key, object? Value)[] fields) => Write(LogLevel.Info, message, fields);

    public void Warn(string message, params (string Key, object? Value)[] fields) => Write(LogLevel.Warn, message, fields);

    public void Error(string message, params (string Key, object? Value)[] fields) => Write(LogLevel.Error, message, fields);

    public void Write(LogLevel level, string message, (string Key, object? Value)[] fields)
    {
        if (level < Level)
        {
            return;
        }

        var line = Json ? FormatJson(level, message, fields) : FormatText(level, message, fields);
        if (!_lines.Writer.TryWrite(line))
        {
            Interlocked.Increment(ref _dropped);
        }
    }

    /// <summary>Waits (bounded) until queued lines are written; called before the process exits.</summary>
    public async Task FlushAsync(TimeSpan timeout)
    {
        _lines.Writer.TryComplete();
        await Task.WhenAny(_writer, Task.Delay(timeout)).ConfigureAwait(false);
    }

    private static string LevelName(LogLevel level) => level switch
    {
        LogLevel.Debug => "debug",
        LogLevel.Info => "info",
        LogLevel.Warn => "warn",
        _ => "error",
    };

    private static string FormatText(LogLevel level, string message, (string Key, object? Value)[] fields)
    {
        var sb = new StringBuilder(128);
        sb.Append(DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ")).Append(' ')
          .Append(LevelName(level)).Append(' ').Append(message);
        foreach (var (key, value) in fields)
        {
            var text = Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "";
            sb.Append(' ').Append(key).Append('=');
            if (text.Length == 0 || text.AsSpan().IndexOfAny(" \"=") >= 0)
            {
                sb.Append('"').Append(text.Replace("\"", "\\\"")).Append('"');
            }
            else
            {
                sb.Append(text);
            }
        }

        return sb.ToString();
    }

    private static string FormatJson(LogLevel level, string message, (string Key, object? Value)[] fields)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("ts", DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ"));
            json.WriteString("level", LevelName(level));
            json.WriteString("msg", message);
            foreach (var (key, value) in fields)
            {
                switch (value)
                {
                    case null: json.WriteNull(key); break;
                    case int i: json.WriteNumber(key, i); break;
                    case long l: json.WriteNumber(key, l); break;
                    case double d: json.WriteNumber(key, d); break;
                    case bool b: json.WriteBoolean(key, b); break;
                    default: json.WriteString(key, Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)); break;
                }
            }

            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private async Task WriteLoopAsync()
    {
        var reader = _lines.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (reader.TryRead(out var line))
            {
                try
                {
                    _sink.WriteLine(line);
                }
                catch (IOException)
                {
                    // stderr closed (the parent went away): keep serving, drop the line.
                    Interlocked.Increment(ref _dropped);
                }
            }

            try
            {
                _sink.Flush();
            }
            catch (IOException)
            {
                Interlocked.Increment(ref _dropped);
            }
        }
    }
}
