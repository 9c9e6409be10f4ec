using System.Globalization;
using System.Text;
using System.Text.Json;
using Proxy.LoadTests.Scenarios;

namespace Proxy.LoadTests.Reporting;

/// <summary>Writes the scenario suite's results as Markdown (for people) and JSON (for tools).</summary>
public static class SuiteReport
{
    /// <summary>Writes loadtests.md and loadtests.json into <paramref name="directory"/>; returns their paths.</summary>
    public static (string Markdown, string Json) Write(string directory, IReadOnlyList<ScenarioResult> results, IReadOnlyList<string> environment)
    {
        Directory.CreateDirectory(directory);
        string md = Path.Combine(directory, "loadtests.md");
        string json = Path.Combine(directory, "loadtests.json");
        File.WriteAllText(md, Markdown(results, environment));
        WriteJson(json, results, environment);
        return (md, json);
    }

    /// <summary>The Markdown report: a summary table, then each scenario's thresholds, measurements and notes.</summary>
    public static string Markdown(IReadOnlyList<ScenarioResult> results, IReadOnlyList<string> environment)
    {
        var md = new StringBuilder();
        md.Append("# Load test report\n\n");
        foreach (var line in environment)
        {
            md.Append("- ").Append(line).Append('\n');
        }

        md.Append("\n| Scenario | Result | p50 ms | p99 ms | p99.9 ms | sent | ok | errors | lost | rps | Reason |\n");
        md.Append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
        foreach (var r in results)
        {
            var l = r.Load;
            md.Append("| ").Append(r.Name).Append(" | **").Append(VerdictText(r.Verdict)).Append("** | ")
              .Append(l is null ? "" : F(l.P50Ms)).Append(" | ")
              .Append(l is null ? "" : F(l.P99Ms)).Append(" | ")
              .Append(l is null ? "" : F(l.P999Ms)).Append(" | ")
              .Append(l?.Sent.ToString(CultureInfo.InvariantCulture) ?? "").Append(" | ")
              .Append(l?.Ok.ToString(CultureInfo.InvariantCulture) ?? "").Append(" | ")
              .Append(l?.Errors.ToString(CultureInfo.InvariantCulture) ?? "").Append(" | ")
              .Append(l?.Lost.ToString(CultureInfo.InvariantCulture) ?? "").Append(" | ")
              .Append(l is null ? "" : l.AchievedRps.ToString("0", CultureInfo.InvariantCulture)).Append(" | ")
              .Append(Cell(r.Reason)).Append(" |\n");
        }

        foreach (var r in results)
        {
            md.Append("\n## ").Append(r.Name).Append(" — ").Append(VerdictText(r.Verdict)).Append("\n\n");
            md.Append(r.Description).Append(". ").Append(r.Reason).Append($" ({r.Elapsed.TotalSeconds:0.0}s)\n\n");
            if (r.Load is { } load)
            {
                md.Append("Load: ").Append(load.OneLine()).Append("\n\n");
            }

            if (r.Thresholds.Count > 0)
            {
                md.Append("| Threshold | Bound | Measured | Result |\n|---|---|---|---|\n");
                foreach (var t in r.Thresholds)
                {
                    md.Append("| ").Append(t.Name).Append(" | ").Append(Cell(t.Bound)).Append(" | ").Append(Cell(t.Measured)).Append(" | ")
                      .Append(VerdictText(t.Verdict)).Append(t.Note is null ? "" : ": " + Cell(t.Note)).Append(" |\n");
                }

                md.Append('\n');
            }

            foreach (var (name, value) in r.Measurements)
            {
                md.Append("- ").Append(name).Append(": ").Append(value).Append('\n');
            }

            foreach (var note in r.Notes)
            {
                md.Append("- note: ").Append(note).Append('\n');
            }
        }

        return md.ToString();
    }

    private static void WriteJson(string path, IReadOnlyList<ScenarioResult> results, IReadOnlyList<string> environment)
    {
        using var stream = File.Create(path);
        using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteStartArray("environment");
        foreach (var line in environment)
        {
            json.WriteStringValue(line);
        }

        json.WriteEndArray();
        json.WriteStartArray("scenarios");
        foreach (var r in results)
        {
            json.WriteStartObject();
            json.WriteString("name", r.Name);
            json.WriteString("result", VerdictText(r.Verdict));
            json.WriteString("reason", r.Reason);
            json.WriteString("description", r.Description);
            json.WriteNumber("elapsed_s", Math.Round(r.Elapsed.TotalSeconds, 1));
            json.WriteStartArray("thresholds");
            foreach (var t in r.Thresholds)
            {
                json.WriteStartObject();
                json.WriteString("name", t.Name);
                json.WriteString("bound", t.Bound);
                json.WriteString("measured", t.Measured);
                json.WriteString("result", VerdictText(t.Verdict));
                if (t.Note is not null)
                {
                    json.WriteString("note", t.Note);
                }

                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteStartObject("measurements");
            foreach (var (name, value) in r.Measurements)
            {
                json.WriteString(name, value);
            }

            json.WriteEndObject();
            json.WriteStartArray("notes");
            foreach (var note in r.Notes)
            {
                json.WriteStringValue(note);
            }

            json.WriteEndArray();
            if (r.Load is { } load)
            {
                json.WriteStartObject("load");
                LoadResultJson.WriteFields(json, load);
                json.WriteEndObject();
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    /// <summary>PASS, FAIL or SKIP.</summary>
    public static string VerdictText(Verdict verdict) => verdict switch
    {
        Verdict.Pass => "PASS",
        Verdict.Fail => "FAIL",
        _ => "SKIP",
    };

    private static string F(double ms) => ms.ToString("0.###", CultureInfo.InvariantCulture);

    private static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).Replace('\n', ' ');
}
