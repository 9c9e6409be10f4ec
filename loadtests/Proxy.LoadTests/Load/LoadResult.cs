using HdrHistogram;
using System.Diagnostics;
using Proxy.LoadTests.Client;

namespace Proxy.LoadTests.Load;

/// <summary>The summary of one load run: latency percentiles and request counts.</summary>
public sealed record LoadResult
{
    /// <summary>What was driven (target and protocol).</summary>
    public required string Target { get; init; }

    /// <summary>The simulation, e.g. "constant rate 1000/s for 10s on 16 connections".</summary>
    public required string Simulation { get; init; }

    /// <summary>Median latency in milliseconds.</summary>
    public double P50Ms { get; init; }

    /// <summary>90th percentile latency in milliseconds.</summary>
    public double P90Ms { get; init; }

    /// <summary>99th percentile latency in milliseconds.</summary>
    public double P99Ms { get; init; }

    /// <summary>99.9th percentile latency in milliseconds.</summary>
    public double P999Ms { get; init; }

    /// <summary>Largest latency in milliseconds.</summary>
    public double MaxMs { get; init; }

    /// <summary>Requests scheduled (open model) or started (closed model).</summary>
    public long Scheduled { get; init; }

    /// <summary>Requests whose bytes were written to a socket.</summary>
    public long Sent { get; init; }

    /// <summary>Requests answered with a 1xx-3xx status.</summary>
    public long Ok { get; init; }

    /// <summary>Requests that failed visibly: error statuses, connect failures, resets, early closes, bad responses, unsent.</summary>
    public long Errors { get; init; }

    /// <summary>Requests sent but never answered within the response timeout.</summary>
    public long Lost { get; init; }

    /// <summary>Error counts by kind (snake_case outcome names), zero counts omitted.</summary>
    public required IReadOnlyDictionary<string, long> ErrorsByKind { get; init; }

    /// <summary>Answered requests (any status) per second of wall time from start to last completion.</summary>
    public double AchievedRps { get; init; }

    /// <summary>Wall time from the run's start to its last completion.</summary>
    public TimeSpan Elapsed { get; init; }

    /// <summary>Errors (and lost requests) over scheduled requests.</summary>
    public double ErrorRate => Scheduled == 0 ? 0 : (double)(Errors + Lost) / Scheduled;

    /// <summary>Builds the summary from merged recorder data.</summary>
    public static LoadResult From(string target, string simulation, LatencyRecorder merged, long scheduled, long startTimestamp)
    {
        var h = merged.Histogram;
        bool any = h.TotalCount > 0;
        double Ms(double percentile) => any ? h.GetValueAtPercentile(percentile) / 1000.0 : 0;

        var byKind = new SortedDictionary<string, long>(StringComparer.Ordinal);
        long errors = 0;
        foreach (var outcome in Enum.GetValues<RequestOutcome>())
        {
            long n = merged.Count(outcome);
            if (outcome is RequestOutcome.Ok or RequestOutcome.Timeout || n == 0)
            {
                continue;
            }

            byKind[OutcomeName(outcome)] = n;
            errors += n;
        }

        long ok = merged.Count(RequestOutcome.Ok);
        long answered = ok + merged.Count(RequestOutcome.Status4xx) + merged.Count(RequestOutcome.Status5xx);
        long end = Math.Max(merged.LastCompletion, startTimestamp + 1);
        var elapsed = Stopwatch.GetElapsedTime(startTimestamp, end);
        return new LoadResult
        {
            Target = target,
            Simulation = simulation,
            P50Ms = Ms(50),
            P90Ms = Ms(90),
            P99Ms = Ms(99),
            P999Ms = Ms(99.9),
            MaxMs = any ? h.GetMaxValue() / 1000.0 : 0,
            Scheduled = scheduled,
            Sent = merged.Sent,
            Ok = ok,
            Errors = errors,
            Lost = merged.Count(RequestOutcome.Timeout),
            ErrorsByKind = byKind,
            AchievedRps = answered / Math.Max(elapsed.TotalSeconds, 1e-6),
            Elapsed = elapsed,
        };
    }

    /// <summary>The snake_case name of an outcome, as used in reports.</summary>
    public static string OutcomeName(RequestOutcome outcome) => outcome switch
    {
        RequestOutcome.Ok => "ok",
        RequestOutcome.Status4xx => "status_4xx",
        RequestOutcome.Status5xx => "status_5xx",
        RequestOutcome.ConnectFailed => "connect_failed",
        RequestOutcome.ConnectionReset => "connection_reset",
        RequestOutcome.ConnectionClosed => "connection_closed",
        RequestOutcome.ProtocolError => "protocol_error",
        RequestOutcome.Timeout => "lost",
        _ => "unsent",
    };

    /// <summary>The one-line summary the CLI prints.</summary>
    public string OneLine()
    {
        string kinds = ErrorsByKind.Count == 0 ? "" : " (" + string.Join(", ", ErrorsByKind.Select(kv => $"{kv.Key}={kv.Value}")) + ")";
        return $"{Simulation} -> {Target}: sent={Sent} ok={Ok} errors={Errors}{kinds} lost={Lost} achieved_rps={AchievedRps:F1} " +
               $"p50={P50Ms:F3}ms p90={P90Ms:F3}ms p99={P99Ms:F3}ms p99.9={P999Ms:F3}ms max={MaxMs:F3}ms";
    }
}
