using Grpc.Core;

namespace GrpcPeer;

/// <summary>
/// The one method of the benchmark service, as protoc would describe it: <c>bench.Echo/Ping</c>, unary, with the
/// messages carried as raw bytes (the benchmark measures transport, not protobuf).
/// </summary>
public static class EchoMethods
{
    private static readonly Marshaller<byte[]> Bytes = Marshallers.Create(static b => b, static b => b);

    /// <summary>The unary call h2load sends as <c>POST /bench.Echo/Ping</c>.</summary>
    public static readonly Method<byte[], byte[]> Ping = new(MethodType.Unary, "bench.Echo", "Ping", Bytes, Bytes);

    /// <summary>What protoc's generated binder does: tells ASP.NET Core which methods the service has.</summary>
    public static void BindService(ServiceBinderBase binder, EchoBase service)
    {
        // ASP.NET Core calls this with a null service and finds the handlers by name, as it does for generated code.
        binder.AddMethod(Ping, service is null ? null : service.Ping);
    }
}
