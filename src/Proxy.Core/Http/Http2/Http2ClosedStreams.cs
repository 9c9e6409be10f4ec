namespace Proxy.Http.Http2;

/// <summary>
/// What one connection remembers about streams it no longer holds, so that a late frame on one of them gets the
/// answer RFC 9113 5.1 asks for (see <see cref="Http2ClosedStreamKind"/>). Streams leave the table (and go back to
/// their pool) as soon as they close; only two small facts outlive them: the identifiers this side reset in the
/// last <see cref="ResetGraceMilliseconds"/>, and the ranges of identifiers the peer skipped. Everything else the
/// peer used is closed. Both lists are fixed-size rings, filled only on resets and skips (the arrays are made at
/// the first one), and read only for frames on streams that are not in the table. Guarded by the connection lock.
/// </summary>
internal sealed class Http2ClosedStreams
{
    /// <summary>Resets remembered at once; past that, <see cref="Http2ClosedStreamKind.Unknown"/> until the evicted ones would have expired.</summary>
    public const int RememberedResets = 64;

    /// <summary>How long frames on a stream this side reset are ignored; after that they are an error (5.1 allows the limit).</summary>
    public const long ResetGraceMilliseconds = 10_000;

    /// <summary>Ranges of skipped identifiers remembered; older ones count as closed (still a connection error, STREAM_CLOSED).</summary>
    public const int RememberedGaps = 4;

    private int[]? _resetIds;
    private long[]? _resetTimes;
    private int _resetNext;
    private long _uncertainUntil;
    private int[]? _gaps; // pairs: lowest, highest skipped identifier
    private int _gapNext;

    /// <summary>This side sent RST_STREAM on <paramref name="streamId"/> at <paramref name="now"/> (milliseconds, <see cref="Environment.TickCount64"/>).</summary>
    public void OnReset(int streamId, long now)
    {
        _resetIds ??= new int[RememberedResets];
        _resetTimes ??= new long[RememberedResets];
        int slot = _resetNext++ % RememberedResets;
        long evicted = _resetTimes[slot];
        if (_resetIds[slot] != 0 && now - evicted < ResetGraceMilliseconds)
        {
            // A reset still in its grace period is forgotten: until it would have expired, unknown streams are not errors.
            _uncertainUntil = Math.Max(_uncertainUntil, evicted + ResetGraceMilliseconds);
        }

        _resetIds[slot] = streamId;
        _resetTimes[slot] = now;
    }

    /// <summary>The peer opened a stream above <paramref name="lowest"/> - 1 without using <paramref name="lowest"/>..<paramref name="highest"/>.</summary>
    public void OnGap(int lowest, int highest)
    {
        _gaps ??= new int[RememberedGaps * 2];
        int slot = (_gapNext++ % RememberedGaps) * 2;
        _gaps[slot] = lowest;
        _gaps[slot + 1] = highest;
    }

    /// <summary>What <paramref name="streamId"/>, used before and no longer in the table, was (see <see cref="Http2ClosedStreamKind"/>).</summary>
    public Http2ClosedStreamKind Classify(int streamId, long now)
    {
        if (_gaps is not null)
        {
            for (int i = 0; i < _gaps.Length; i += 2)
            {
                if (streamId >= _gaps[i] && streamId <= _gaps[i + 1])
                {
                    return Http2ClosedStreamKind.NeverOpened;
                }
            }
        }

        if (_resetIds is not null)
        {
            for (int i = 0; i < _resetIds.Length; i++)
            {
                if (_resetIds[i] == streamId && now - _resetTimes![i] < ResetGraceMilliseconds)
                {
                    return Http2ClosedStreamKind.ResetHere;
                }
            }
        }

        return now < _uncertainUntil ? Http2ClosedStreamKind.Unknown : Http2ClosedStreamKind.Closed;
    }
}
