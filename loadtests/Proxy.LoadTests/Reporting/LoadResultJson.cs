using System.Text.Json;
using Proxy.LoadTests.Load;

namespace Proxy.LoadTests.Reporting;

/// <summary>
/// Writes a <see cref="LoadResult"/> as JSON by hand (no reflection). The first ten fields are the
/// contract run-bench.sh reads; the rest are extra and may grow.
/// </summary>
public static class LoadResultJson
{
    /// <summary>Writes the result's fields into the current JSON object.</summary>
    public static void WriteFields(Utf8JsonWriter json, LoadResult load)
    {
        json.WriteNumber("p50_ms", Math.Round(load.P50Ms, 3));
        json.WriteNumber("p90_ms", Math.Round(load.P90Ms, 3));
        json.WriteNumber("p99_ms", Math.Round(load.P99Ms, 3));
        json.WriteNumber("p999_ms", Math.Round(load.P999Ms, 3));
        json.WriteNumber("max_ms", Math.Round(load.MaxMs, 3));
        json.WriteNumber("sent", load.Sent);
        json.WriteNumber("ok", load.Ok);
        json.WriteNumber("errors", load.Errors);
        json.WriteNumber("lost", load.Lost);
        json.WriteNumber("achieved_rps", Math.Round(load.AchievedRps, 1));
        json.WriteNumber("scheduled", load.Scheduled);
        json.WriteNumber("elapsed_s", Math.Round(load.Elapsed.TotalSeconds, 3));
        json.WriteStartObject("errors_by_kind");
        foreach (var (kind, count) in load.ErrorsByKind)
        {
            json.WriteNumber(kind, count);
        }

        json.WriteEndObject();
        json.WriteString("target", load.Target);
        json.WriteString("simulation", load.Simulation);
    }

    /// <summary>Writes the result as one JSON object to <paramref name="path"/>.</summary>
    public static void WriteFile(string path, LoadResult load)
    {
        if (Path.GetDirectoryName(Path.GetFullPath(path)) is { } dir)
        {
            Directory.CreateDirectory(dir);
        }

        using var stream = File.Create(path);
        using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        WriteFields(json, load);
        json.WriteEndObject();
    }
}
