namespace Proxy.LoadTests.Client;

/// <summary>Creates the client connections of a load run (one per pool slot or per closed-model worker).</summary>
public interface ILoadConnectionFactory
{
    /// <summary>A short description for reports, e.g. "http/1.1 GET http://127.0.0.1:8080/".</summary>
    string Description { get; }

    /// <summary>A new, not yet connected, connection.</summary>
    ILoadConnection Create();
}
