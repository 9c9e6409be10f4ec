using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Proxy.Configuration.Syntax;

/// <summary>
/// YamlDotNet's event parser, with every failure reported as a <see cref="YamlException"/>. On some malformed text its
/// scanner and parser throw other exceptions, found by fuzzing: <see cref="InvalidOperationException"/> for ": {\n0" (a
/// flow mapping left open with a plain scalar at the end of the text), <see cref="ArgumentException"/> for a tag such
/// as "!!str]" that is not a valid URI. <c>proxy validate</c> and a reload must answer with a located syntax error, not
/// crash, whatever the library throws, so any such exception becomes a syntax error at the end of the last event read.
/// </summary>
internal sealed class GuardedParser : IParser
{
    private readonly Parser _inner;

    public GuardedParser(TextReader input) => _inner = new Parser(input);

    public ParsingEvent? Current => _inner.Current;

    public bool MoveNext()
    {
        Mark after = _inner.Current?.End ?? Mark.Empty;
        try
        {
            return _inner.MoveNext();
        }
        catch (Exception e) when (e is not YamlException)
        {
            throw new YamlException(after, after, "the YAML text cannot be read past this point", e);
        }
    }
}
