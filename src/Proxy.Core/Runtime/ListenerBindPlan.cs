using System.Net;
using System.Net.Sockets;
using Proxy.Configuration;
using Proxy.Transport;

namespace Proxy.Runtime;

/// <summary>
/// The sockets a new configuration's listeners need, bound beside the running ones. Listening sockets own their
/// address alone (no SO_REUSEPORT, see <see cref="ListenSocket"/>), so an address a running listener holds is never
/// bound a second time: a listener keeping its name and address keeps its socket (the caller skips it); one that
/// takes over the exact address of a running listener that gives it up (a rename) adopts that socket; one whose
/// address overlaps a running listener that gives it up (<c>0.0.0.0:8080</c> running, <c>127.0.0.1:8080</c> wanted,
/// or the reverse) first stops that listener, then binds. When any bind fails, what was bound is closed and what
/// was stopped is bound again: the running configuration is left as it was.
/// </summary>
internal sealed class ListenerBindPlan
{
    private readonly Dictionary<string, Listener> _running;
    private readonly Func<string, IPEndPoint, Listener> _open;
    private readonly Func<string, IPEndPoint, Listener> _reopen;

    private ListenerBindPlan(Dictionary<string, Listener> running, Func<string, IPEndPoint, Listener> open, Func<string, IPEndPoint, Listener> reopen)
    {
        _running = running;
        _open = open;
        _reopen = reopen;
    }

    /// <summary>Fresh sockets by listener name, not started.</summary>
    public Dictionary<string, Listener> Bound { get; } = new(StringComparer.Ordinal);

    /// <summary>Running listeners that serve on under a new name, by that name (not yet retargeted).</summary>
    public Dictionary<string, Listener> Adopted { get; } = new(StringComparer.Ordinal);

    /// <summary>Running listeners stopped so that an overlapping address could be bound; they are retired with the old configuration.</summary>
    public List<Listener> Released { get; } = [];

    /// <summary>
    /// Binds what <paramref name="wanted"/> needs. <paramref name="running"/> is the runtime's table (locked on
    /// itself for writes); <paramref name="open"/> binds a new listener, <paramref name="reopen"/> binds a released
    /// one again under the running configuration. Throws <see cref="ListenerBindException"/> naming every listener
    /// and address that could not be bound, after undoing the rest.
    /// </summary>
    public static async Task<ListenerBindPlan> BindAsync(
        IReadOnlyList<ListenerConfig> wanted,
        Dictionary<string, Listener> running,
        Func<string, IPEndPoint, Listener> open,
        Func<string, IPEndPoint, Listener> reopen)
    {
        var plan = new ListenerBindPlan(running, open, reopen);
        var failures = new List<string>();
        var blocked = new List<(ListenerConfig Config, IPEndPoint Address)>();
        foreach (var listener in wanted)
        {
            var address = AddressResolver.ForBind(listener.Address);
            if (running.TryGetValue(listener.Name, out var existing) && Keeps(existing, address, listener.Address.Port))
            {
                continue;
            }

            if (listener.Address.Port != 0 && plan.GivenUp(wanted, candidate => candidate.LocalEndPoint.Equals(address)).FirstOrDefault() is { } holder)
            {
                plan.Adopted[listener.Name] = holder;
                continue;
            }

            try
            {
                plan.Bound[listener.Name] = open(listener.Name, address);
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressAlreadyInUse && listener.Address.Port != 0 && plan.Overlapping(wanted, address).Count > 0)
            {
                blocked.Add((listener, address));
            }
            catch (SocketException ex)
            {
                failures.Add(Failure(listener, ex));
            }
        }

        if (blocked.Count > 0)
        {
            await plan.BindOverlappingAsync(wanted, blocked, failures).ConfigureAwait(false);
        }

        if (failures.Count > 0)
        {
            await plan.AbandonAsync().ConfigureAwait(false);
            throw new ListenerBindException(failures);
        }

        return plan;
    }

    /// <summary>Closes what was bound and binds again what was released (the reload did not happen).</summary>
    public async Task AbandonAsync()
    {
        foreach (var fresh in Bound.Values)
        {
            await fresh.StopAsync().ConfigureAwait(false);
        }

        foreach (var old in Released)
        {
            var again = _reopen(old.Name, old.LocalEndPoint);
            lock (_running)
            {
                _running[old.Name] = again;
            }

            again.Start();
        }

        Bound.Clear();
        Released.Clear();
    }

    private async Task BindOverlappingAsync(IReadOnlyList<ListenerConfig> wanted, List<(ListenerConfig Config, IPEndPoint Address)> blocked, List<string> failures)
    {
        if (failures.Count > 0)
        {
            // The reload fails anyway: leave the running listeners alone.
            foreach (var (config, address) in blocked)
            {
                failures.Add($"listener {config.Name} cannot listen on {config.Address}: listener {Overlapping(wanted, address)[0].Name} holds that address until this configuration applies; move one of them to another port");
            }

            return;
        }

        foreach (var (_, address) in blocked)
        {
            foreach (var old in Overlapping(wanted, address))
            {
                if (!Released.Contains(old))
                {
                    await old.StopAsync().ConfigureAwait(false);
                    Released.Add(old);
                }
            }
        }

        foreach (var (config, address) in blocked)
        {
            try
            {
                Bound[config.Name] = _open(config.Name, address);
            }
            catch (SocketException ex)
            {
                failures.Add(Failure(config, ex));
            }
        }
    }

    private static bool Keeps(Listener existing, IPEndPoint wanted, int configuredPort) =>
        existing.LocalEndPoint.Address.Equals(wanted.Address) && (configuredPort == 0 || existing.LocalEndPoint.Port == wanted.Port);

    /// <summary>Running listeners matching <paramref name="match"/> that the new configuration does not keep at their address, and nobody adopted yet.</summary>
    private IEnumerable<Listener> GivenUp(IReadOnlyList<ListenerConfig> wanted, Func<Listener, bool> match)
    {
        foreach (var running in _running.Values)
        {
            if (match(running) && !Adopted.ContainsValue(running) && !IsKept(running, wanted))
            {
                yield return running;
            }
        }
    }

    private List<Listener> Overlapping(IReadOnlyList<ListenerConfig> wanted, IPEndPoint address) =>
        GivenUp(wanted, running =>
        {
            var held = running.LocalEndPoint;
            return held.Port == address.Port && (held.Address.Equals(address.Address) || IsWildcard(held.Address) || IsWildcard(address.Address));
        }).ToList();

    private static bool IsKept(Listener running, IReadOnlyList<ListenerConfig> wanted)
    {
        foreach (var listener in wanted)
        {
            if (listener.Name == running.Name)
            {
                return Keeps(running, AddressResolver.ForBind(listener.Address), listener.Address.Port);
            }
        }

        return false;
    }

    private static bool IsWildcard(IPAddress address) => address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any);

    private static string Failure(ListenerConfig listener, SocketException ex) =>
        BindFailure.Describe($"listener {listener.Name}", listener.Address.ToString(), ex);
}
