namespace Proxy.Routing;

/// <summary>Thrown by <see cref="RouteTable.Build(IReadOnlyList{RouteDefinition})"/> when definitions are invalid; carries every error, not just the first.</summary>
public sealed class RouteTableBuildException : Exception
{
    /// <summary>Creates the exception from the collected errors.</summary>
    public RouteTableBuildException(IReadOnlyList<RouteDefinitionError> errors)
        : base(FormatMessage(errors))
    {
        Errors = errors;
    }

    /// <summary>All errors found, in route order.</summary>
    public IReadOnlyList<RouteDefinitionError> Errors { get; }

    private static string FormatMessage(IReadOnlyList<RouteDefinitionError> errors)
    {
        var builder = new System.Text.StringBuilder("Invalid route definitions:");
        foreach (RouteDefinitionError error in errors)
        {
            builder.Append("\n  ").Append(error.ToString());
        }

        return builder.ToString();
    }
}
