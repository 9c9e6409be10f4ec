using System.Net;
using Envoy.Config.Rbac.V3;
using Envoy.Type.Matcher.V3;
using Proxy.Filters.Rbac;

namespace Proxy.Xds.Translation;

/// <summary>
/// Envoy's <c>config.rbac.v3.RBAC</c> (the rules of the HTTP and network rbac filters) compiled into an
/// <see cref="RbacEngine"/>. Every rule the engine cannot evaluate exactly is a rejection naming its field: an
/// authorization filter never fails open. LOG yields no engine (it only marks requests for access logs in Envoy;
/// the proxy lets every request through, as Envoy does).
/// </summary>
internal static class RbacTranslator
{
    /// <summary>Where the rules are judged: what facts a rule may read there.</summary>
    public enum Scope
    {
        /// <summary>The HTTP filter: the request and its connection.</summary>
        Http,

        /// <summary>The network filter on a chain that terminates TLS: the connection, its SNI included.</summary>
        ConnectionWithTls,

        /// <summary>The network filter on a plain-text (or passed-through) chain: the connection without an SNI the proxy could read.</summary>
        Connection,
    }

    /// <returns>The engine, or null when the rules let everything through (LOG).</returns>
    public static RbacEngine? Translate(RBAC rules, string name, Scope scope, string where)
    {
        where += ".rules";
        if (rules.Action == RBAC.Types.Action.Log)
        {
            return null;
        }

        if (rules.Action is not (RBAC.Types.Action.Allow or RBAC.Types.Action.Deny))
        {
            throw new XdsRejectedException($"{where}.action: {rules.Action} is not an action the proxy knows; send ALLOW, DENY or LOG");
        }

        var policies = new List<RbacPolicy>();
        foreach (var (policyName, policy) in rules.Policies)
        {
            var at = $"{where}.policies['{policyName}']";
            if (policy.Condition is not null || policy.CheckedCondition is not null)
            {
                throw new XdsRejectedException($"{at}.{(policy.Condition is not null ? "condition" : "checked_condition")}: CEL conditions are not supported; the policy cannot be judged, so it is refused");
            }

            if (policy.Permissions.Count == 0 || policy.Principals.Count == 0)
            {
                throw new XdsRejectedException($"{at}: a policy needs at least one permission and one principal");
            }

            var permissions = Each(policy.Permissions, Permission, scope, at, "permissions", "");
            var principals = Each(policy.Principals, Principal, scope, at, "principals", "");

            policies.Add(new RbacPolicy(policyName, Or(permissions), Or(principals)));
        }

        return new RbacEngine(name, rules.Action == RBAC.Types.Action.Allow ? RbacAction.Allow : RbacAction.Deny, policies, source: Google.Protobuf.MessageExtensions.ToByteString(rules).ToBase64());
    }

    private static RbacMatcher Or(RbacMatcher[] rules) => rules.Length == 1 ? rules[0] : new RbacOrMatcher(rules);

    private static RbacMatcher Permission(Permission permission, Scope scope, string where)
    {
        switch (permission.RuleCase)
        {
            case Envoy.Config.Rbac.V3.Permission.RuleOneofCase.AndRules:
                return new RbacAndMatcher(Each(permission.AndRules.Rules, Permission, scope, where + ".and_rules", "rules", "a set needs at least one rule"));
            case Envoy.Config.Rbac.V3.Permission.RuleOneofCase.OrRules:
                return new RbacOrMatcher(Each(permission.OrRules.Rules, Permission, scope, where + ".or_rules", "rules", "a set needs at least one rule"));
            case Envoy.Config.Rbac.V3.Permission.RuleOneofCase.Any:
                return RbacAnyMatcher.Instance;
            case Envoy.Config.Rbac.V3.Permission.RuleOneofCase.NotRule:
                return new RbacNotMatcher(Permission(permission.NotRule, scope, where + ".not_rule"));
            case Envoy.Config.Rbac.V3.Permission.RuleOneofCase.Header:
                return Header(permission.Header, scope, where + ".header");
            case Envoy.Config.Rbac.V3.Permission.RuleOneofCase.UrlPath:
                return UrlPath(permission.UrlPath, scope, where + ".url_path");
            case Envoy.Config.Rbac.V3.Permission.RuleOneofCase.DestinationIp:
                return Cidr(permission.DestinationIp, RbacAddressSource.Destination, where + ".destination_ip");
            case Envoy.Config.Rbac.V3.Permission.RuleOneofCase.DestinationPort:
                return permission.DestinationPort <= 65535
                    ? new RbacPortMatcher((int)permission.DestinationPort, (int)permission.DestinationPort + 1)
                    : throw new XdsRejectedException($"{where}.destination_port: {permission.DestinationPort} is not a port");
            case Envoy.Config.Rbac.V3.Permission.RuleOneofCase.DestinationPortRange:
                var range = permission.DestinationPortRange;
                return range.Start >= 0 && range.End <= 65536 && range.Start < range.End
                    ? new RbacPortMatcher(range.Start, range.End)
                    : throw new XdsRejectedException($"{where}.destination_port_range: [{range.Start}, {range.End}) is not a range of ports");
            case Envoy.Config.Rbac.V3.Permission.RuleOneofCase.RequestedServerName:
                return scope == Scope.Connection
                    ? throw new XdsRejectedException($"{where}.requested_server_name: the proxy reads the server name only on a chain that terminates TLS (a transport_socket); this chain does not, so the rule cannot be judged")
                    : new RbacServerNameMatcher(String(permission.RequestedServerName, where + ".requested_server_name"));
            case Envoy.Config.Rbac.V3.Permission.RuleOneofCase.None:
                throw new XdsRejectedException($"{where}: the permission has no rule; send any: true to match everything");
            default:
                throw new XdsRejectedException($"{where}.{RouteMatchTranslator.Snake(permission.RuleCase.ToString())}: this permission is not supported; the policy cannot be judged, so it is refused");
        }
    }

    /// <summary>Each rule of a list, translated with its index in the place named (an empty list refused with <paramref name="whenEmpty"/>).</summary>
    private static RbacMatcher[] Each<T>(IReadOnlyList<T> rules, Func<T, Scope, string, RbacMatcher> translate, Scope scope, string where, string field, string whenEmpty)
    {
        if (rules.Count == 0)
        {
            throw new XdsRejectedException($"{where}.{field}: {whenEmpty}");
        }

        var set = new RbacMatcher[rules.Count];
        for (var i = 0; i < set.Length; i++)
        {
            set[i] = translate(rules[i], scope, $"{where}.{field}[{i}]");
        }

        return set;
    }

    private static RbacMatcher Principal(Principal principal, Scope scope, string where)
    {
        switch (principal.IdentifierCase)
        {
            case Envoy.Config.Rbac.V3.Principal.IdentifierOneofCase.AndIds:
                return new RbacAndMatcher(Each(principal.AndIds.Ids, Principal, scope, where + ".and_ids", "ids", "a set needs at least one identifier"));
            case Envoy.Config.Rbac.V3.Principal.IdentifierOneofCase.OrIds:
                return new RbacOrMatcher(Each(principal.OrIds.Ids, Principal, scope, where + ".or_ids", "ids", "a set needs at least one identifier"));
            case Envoy.Config.Rbac.V3.Principal.IdentifierOneofCase.Any:
                return RbacAnyMatcher.Instance;
            case Envoy.Config.Rbac.V3.Principal.IdentifierOneofCase.NotId:
                return new RbacNotMatcher(Principal(principal.NotId, scope, where + ".not_id"));
            case Envoy.Config.Rbac.V3.Principal.IdentifierOneofCase.Authenticated:
                return new RbacAuthenticatedMatcher(principal.Authenticated.PrincipalName is { } name ? String(name, where + ".authenticated.principal_name") : null);
#pragma warning disable CS0612 // source_ip is deprecated, and still what older control planes send
            case Envoy.Config.Rbac.V3.Principal.IdentifierOneofCase.SourceIp:
                return Cidr(principal.SourceIp, RbacAddressSource.Remote, where + ".source_ip");
#pragma warning restore CS0612
            case Envoy.Config.Rbac.V3.Principal.IdentifierOneofCase.DirectRemoteIp:
                return Cidr(principal.DirectRemoteIp, RbacAddressSource.Remote, where + ".direct_remote_ip");
            case Envoy.Config.Rbac.V3.Principal.IdentifierOneofCase.RemoteIp:
                // Envoy's remote_ip is the client's address after x-forwarded-for / PROXY protocol; the proxy takes
                // neither as an address, so it is the connection's peer, as direct_remote_ip (Istio's default setting).
                return Cidr(principal.RemoteIp, RbacAddressSource.Remote, where + ".remote_ip");
            case Envoy.Config.Rbac.V3.Principal.IdentifierOneofCase.Header:
                return Header(principal.Header, scope, where + ".header");
            case Envoy.Config.Rbac.V3.Principal.IdentifierOneofCase.UrlPath:
                return UrlPath(principal.UrlPath, scope, where + ".url_path");
            case Envoy.Config.Rbac.V3.Principal.IdentifierOneofCase.None:
                throw new XdsRejectedException($"{where}: the principal has no identifier; send any: true to match everyone");
            default:
                throw new XdsRejectedException($"{where}.{RouteMatchTranslator.Snake(principal.IdentifierCase.ToString())}: this principal is not supported (request authentication metadata and filter state are not kept); the policy cannot be judged, so it is refused");
        }
    }

    private static RbacMatcher Header(Envoy.Config.Route.V3.HeaderMatcher header, Scope scope, string where)
    {
        if (scope != Scope.Http)
        {
            throw new XdsRejectedException($"{where}: a network rbac filter sees no HTTP request, so a header rule cannot be judged; use the HTTP rbac filter");
        }

        var name = header.Name.ToLowerInvariant();
        if (!XdsText.IsToken(name.TrimStart(':')))
        {
            throw new XdsRejectedException($"{where}.name: '{header.Name}' is not a header name");
        }

        if (!RbacHeaderMatcher.IsSupportedName(name))
        {
            throw new XdsRejectedException($"{where}.name: the pseudo-header '{header.Name}' is not supported; use :method, :authority or :path");
        }

#pragma warning disable CS0612 // exact_match and the others are deprecated, and still what older servers send
        RbacStringMatcher? value = header.HeaderMatchSpecifierCase switch
        {
            Envoy.Config.Route.V3.HeaderMatcher.HeaderMatchSpecifierOneofCase.None or Envoy.Config.Route.V3.HeaderMatcher.HeaderMatchSpecifierOneofCase.PresentMatch => null,
            Envoy.Config.Route.V3.HeaderMatcher.HeaderMatchSpecifierOneofCase.ExactMatch => RbacStringMatcher.Create(RbacStringMatchKind.Exact, header.ExactMatch),
            Envoy.Config.Route.V3.HeaderMatcher.HeaderMatchSpecifierOneofCase.PrefixMatch => RbacStringMatcher.Create(RbacStringMatchKind.Prefix, header.PrefixMatch),
            Envoy.Config.Route.V3.HeaderMatcher.HeaderMatchSpecifierOneofCase.SuffixMatch => RbacStringMatcher.Create(RbacStringMatchKind.Suffix, header.SuffixMatch),
            Envoy.Config.Route.V3.HeaderMatcher.HeaderMatchSpecifierOneofCase.ContainsMatch => RbacStringMatcher.Create(RbacStringMatchKind.Contains, header.ContainsMatch),
            Envoy.Config.Route.V3.HeaderMatcher.HeaderMatchSpecifierOneofCase.SafeRegexMatch => Regex(header.SafeRegexMatch.Regex, false, where + ".safe_regex_match"),
            Envoy.Config.Route.V3.HeaderMatcher.HeaderMatchSpecifierOneofCase.StringMatch => String(header.StringMatch, where + ".string_match"),
            _ => throw new XdsRejectedException($"{where}.range_match: range matches on header values are not supported; the policy cannot be judged, so it is refused"),
        };
        var present = header.HeaderMatchSpecifierCase != Envoy.Config.Route.V3.HeaderMatcher.HeaderMatchSpecifierOneofCase.PresentMatch || header.PresentMatch;
#pragma warning restore CS0612
        return new RbacHeaderMatcher(name, value, present, header.InvertMatch, header.TreatMissingHeaderAsEmpty);
    }

    private static RbacMatcher UrlPath(PathMatcher path, Scope scope, string where)
    {
        if (scope != Scope.Http)
        {
            throw new XdsRejectedException($"{where}: a network rbac filter sees no HTTP request, so a path rule cannot be judged; use the HTTP rbac filter");
        }

        return path.RuleCase == PathMatcher.RuleOneofCase.Path
            ? new RbacPathMatcher(String(path.Path, where + ".path"))
            : throw new XdsRejectedException($"{where}: a path matcher needs path");
    }

    private static RbacMatcher Cidr(Envoy.Config.Core.V3.CidrRange range, RbacAddressSource source, string where)
    {
        if (!IPAddress.TryParse(range.AddressPrefix, out var address))
        {
            throw new XdsRejectedException($"{where}.address_prefix: '{range.AddressPrefix}' is not an IP address");
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        var bits = address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128;
        var length = range.PrefixLen ?? (uint)bits;
        if (length > bits)
        {
            throw new XdsRejectedException($"{where}.prefix_len: {length} is longer than the address ({bits} bits)");
        }

        // Envoy masks the host bits of the prefix; IPNetwork refuses them, so they are cleared first.
        var bytes = address.GetAddressBytes();
        for (var i = 0; i < bytes.Length; i++)
        {
            var keep = Math.Clamp((int)length - (i * 8), 0, 8);
            bytes[i] &= (byte)(0xFF << (8 - keep));
        }

        return new RbacCidrMatcher(source, new IPNetwork(new IPAddress(bytes), (int)length));
    }

    /// <summary>Envoy's <c>StringMatcher</c>.</summary>
    internal static RbacStringMatcher String(StringMatcher matcher, string where) => matcher.MatchPatternCase switch
    {
        StringMatcher.MatchPatternOneofCase.Exact => RbacStringMatcher.Create(RbacStringMatchKind.Exact, matcher.Exact, matcher.IgnoreCase),
        StringMatcher.MatchPatternOneofCase.Prefix => RbacStringMatcher.Create(RbacStringMatchKind.Prefix, matcher.Prefix, matcher.IgnoreCase),
        StringMatcher.MatchPatternOneofCase.Suffix => RbacStringMatcher.Create(RbacStringMatchKind.Suffix, matcher.Suffix, matcher.IgnoreCase),
        StringMatcher.MatchPatternOneofCase.Contains => RbacStringMatcher.Create(RbacStringMatchKind.Contains, matcher.Contains, matcher.IgnoreCase),
        StringMatcher.MatchPatternOneofCase.SafeRegex => Regex(matcher.SafeRegex.Regex, matcher.IgnoreCase, where + ".safe_regex"),
        _ => throw new XdsRejectedException($"{where}: this string matcher is not supported; use exact, prefix, suffix, contains or safe_regex"),
    };

    private static RbacStringMatcher Regex(string pattern, bool ignoreCase, string where) =>
        RbacStringMatcher.Create(RbacStringMatchKind.Regex, XdsText.Regex(pattern, where, "regex"), ignoreCase);
}
