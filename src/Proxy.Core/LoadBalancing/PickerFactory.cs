using Proxy.Upstream;

namespace Proxy.LoadBalancing;

/// <summary>An <see cref="IEndpointPickerFactory"/> that pairs a policy name with its picker's constructor.</summary>
public sealed class PickerFactory : IEndpointPickerFactory
{
    private readonly Func<Endpoint[], PickerOptions, IEndpointPicker> _create;

    /// <summary>Registers <paramref name="create"/> under <paramref name="name"/>.</summary>
    public PickerFactory(string name, Func<Endpoint[], PickerOptions, IEndpointPicker> create)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(create);
        Name = name;
        _create = create;
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public IEndpointPicker Create(Endpoint[] endpoints, PickerOptions options)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(options);
        return _create(endpoints, options);
    }
}
