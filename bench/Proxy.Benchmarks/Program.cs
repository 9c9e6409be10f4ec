public static class B { public static void Main(string[] a) => BenchmarkDotNet.Running.BenchmarkSwitcher.FromAssembly(typeof(B).Assembly).Run(a); }
