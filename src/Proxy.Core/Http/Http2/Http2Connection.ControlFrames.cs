namespace Proxy.Http.Http2;

/// <summary>The control frames the read loop applies: RST_STREAM, SETTINGS, PING, GOAWAY, WINDOW_UPDATE (RFC 9113 6.4 to 6.9).</summary>
public abstract partial class Http2Connection
{
    private bool ProcessRstStream(in Http2Frame frame)
    {
        if (_isServer && _guard.OnPeerReset())
        {
            return Trip();
        }

        lock (_sync)
        {
            if (!_streams.TryGetValue(frame.StreamId, out Http2Stream? stream))
            {
                if (IsIdleLocked(frame.StreamId))
                {
                    FailLocked(Http2ErrorCode.ProtocolError, "RST_STREAM on an idle stream");
                    return false;
                }

                return true;
            }

            stream.ResetCode = frame.ErrorCode;
            stream.ResetByPeer = true;
            CloseStreamLocked(stream, frame.ErrorCode);
        }

        return true;
    }

    private bool ProcessSettings(in Http2Frame frame)
    {
        if (frame.IsAck)
        {
            return true;
        }

        if (_guard.OnSettings())
        {
            return Trip();
        }

        lock (_sync)
        {
            int oldWindow = _peer.InitialWindowSize;
            Http2ErrorCode error = _peer.Apply(frame.Payload);
            if (error != Http2ErrorCode.NoError)
            {
                FailLocked(error, "invalid SETTINGS");
                return false;
            }

            if (_peer.InitialWindowSize != oldWindow)
            {
                // 6.9.2: every stream's send window moves by the difference, possibly below zero.
                foreach (Http2Stream stream in _streams.Values)
                {
                    if (!stream.SendWindow.TryAdjust(_peer.InitialWindowSize))
                    {
                        _guard.OnWindowOverflow();
                        OnDefenceTripped(Http2Defence.WindowOverflow);
                        FailLocked(Http2ErrorCode.FlowControlError, "SETTINGS_INITIAL_WINDOW_SIZE overflows a window");
                        return false;
                    }

                    if (stream.SendWindow.Available > 0)
                    {
                        stream.WakeWindowWaiter();
                    }
                }
            }

            _encoder.SetMaxTableSize(_peer.HeaderTableSize);
            _peerSettingsReceived = true;
            if (!_closed)
            {
                Http2FrameWriter.WriteSettingsAck(_output);
            }

            OnPeerSettingsLocked();
        }

        return true;
    }

    /// <summary>The peer's SETTINGS were applied (capacity may have changed). Called under the connection lock.</summary>
    private protected virtual void OnPeerSettingsLocked()
    {
    }

    private bool ProcessPing(in Http2Frame frame)
    {
        if (frame.IsAck)
        {
            return true;
        }

        if (_guard.OnPing())
        {
            return Trip();
        }

        lock (_sync)
        {
            if (!_closed)
            {
                Http2FrameWriter.WritePing(_output, frame.PingData, ack: true);
            }
        }

        return true;
    }

    private bool ProcessGoAway(in Http2Frame frame)
    {
        Http2Stream[]? refused = null;
        lock (_sync)
        {
            _goAwayReceived = true;

            // 6.8: streams above the last id were not processed and may be retried elsewhere.
            foreach (Http2Stream stream in _streams.Values)
            {
                if (!IsPeerInitiated(stream.Id) && stream.Id > frame.LastStreamId)
                {
                    refused ??= new Http2Stream[_streams.Count];
                    refused[Array.IndexOf(refused, null)] = stream;
                }
            }

            if (refused is not null)
            {
                foreach (Http2Stream? stream in refused)
                {
                    if (stream is not null)
                    {
                        stream.ResetCode = Http2ErrorCode.RefusedStream;
                        stream.ResetByPeer = true;
                        CloseStreamLocked(stream, Http2ErrorCode.RefusedStream);
                    }
                }
            }

            OnPeerSettingsLocked();
            if (_streams.Count == 0)
            {
                _input.CancelPendingRead();
            }
        }

        return true;
    }

    private bool ProcessWindowUpdate(in Http2Frame frame)
    {
        if (_guard.OnWindowUpdate())
        {
            return Trip();
        }

        lock (_sync)
        {
            if (frame.StreamId == 0)
            {
                if (!_sendWindow.TryCredit(frame.WindowSizeIncrement))
                {
                    _guard.OnWindowOverflow();
                    OnDefenceTripped(Http2Defence.WindowOverflow);
                    FailLocked(Http2ErrorCode.FlowControlError, "connection window overflow");
                    return false;
                }

                foreach (Http2Stream blocked in _blocked)
                {
                    blocked.WakeWindowWaiter();
                }

                _blocked.Clear();
                return true;
            }

            if (!_streams.TryGetValue(frame.StreamId, out Http2Stream? stream))
            {
                if (IsIdleLocked(frame.StreamId))
                {
                    FailLocked(Http2ErrorCode.ProtocolError, "WINDOW_UPDATE on an idle stream");
                    return false;
                }

                return true;
            }

            if (!stream.SendWindow.TryCredit(frame.WindowSizeIncrement))
            {
                // 6.9.1: a stream window overflow is a stream error.
                _guard.OnWindowOverflow();
                ResetStreamLocked(stream, Http2ErrorCode.FlowControlError);
                return true;
            }

            stream.WakeWindowWaiter();
        }

        return true;
    }
}
