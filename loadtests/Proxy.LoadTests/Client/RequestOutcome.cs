namespace Proxy.LoadTests.Client;

/// <summary>How one request ended, as the client saw it.</summary>
public enum RequestOutcome
{
    /// <summary>A complete 1xx-3xx response arrived.</summary>
    Ok,

    /// <summary>A complete 4xx response arrived.</summary>
    Status4xx,

    /// <summary>A complete 5xx response arrived (for a proxy: usually its own 502/503/504).</summary>
    Status5xx,

    /// <summary>The TCP connection could not be established.</summary>
    ConnectFailed,

    /// <summary>The peer reset the connection before the response was complete.</summary>
    ConnectionReset,

    /// <summary>The peer closed the connection cleanly before the response was complete.</summary>
    ConnectionClosed,

    /// <summary>The response bytes were not valid HTTP/1.1 (or too large to buffer).</summary>
    ProtocolError,

    /// <summary>The request was sent but nothing (neither a response nor an error) came back in time: "lost".</summary>
    Timeout,

    /// <summary>The request was scheduled but no connection was free before the run's drain deadline.</summary>
    Unsent,
}
