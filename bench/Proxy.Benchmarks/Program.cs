using BenchmarkDotNet.Running;

namespace Proxy.Benchmarks;

/// <summary>
/// Entry point: <c>dotnet run -c Release --project bench/Proxy.Benchmarks -- --filter '*Name*'</c>.
/// Add <c>--job short</c> for a quick run (CI uses it on a few benchmarks).
/// </summary>
public static class Program
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
