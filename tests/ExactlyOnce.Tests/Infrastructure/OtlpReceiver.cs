using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ExactlyOnce.Tests.Infrastructure;

/// <summary>
/// A stand-in OpenTelemetry collector in the test process: Kestrel on a free loopback port,
/// HTTP/2 without TLS (what the OTLP exporter's default protocol, gRPC, speaks to an http:// endpoint),
/// answering the metrics and trace Export calls as a gRPC server does (200, <c>application/grpc</c>,
/// an empty response message, trailer <c>grpc-status: 0</c>). It keeps every request's body.
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    public const string MetricsPath = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";
    public const string TracesPath = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

    private readonly WebApplication _app;
    private readonly ConcurrentQueue<OtlpRequest> _requests = new();

    private OtlpReceiver(WebApplication app) => _app = app;

    /// <summary>http://127.0.0.1:port, for <c>Telemetry:OtlpEndpoint</c>.</summary>
    public Uri Endpoint { get; private set; } = null!;

    /// <summary>The requests received so far.</summary>
    public IReadOnlyList<OtlpRequest> Requests => [.. _requests];

    public static async Task<OtlpReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2));
        var receiver = new OtlpReceiver(builder.Build());
        receiver._app.MapPost(MetricsPath, (RequestDelegate)receiver.ExportAsync);
        receiver._app.MapPost(TracesPath, (RequestDelegate)receiver.ExportAsync);
        await receiver._app.StartAsync();
        var address = receiver._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        receiver.Endpoint = new Uri($"http://127.0.0.1:{new Uri(address).Port}");
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task ExportAsync(HttpContext context)
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body, context.RequestAborted);
        _requests.Enqueue(new OtlpRequest(context.Request.Path, context.Request.Protocol, context.Request.ContentType, body.ToArray()));

        context.Response.ContentType = "application/grpc";
        context.Response.AppendTrailer("grpc-status", "0");
        // An empty Export*ServiceResponse in one gRPC frame: not compressed (0), length 0 (4 bytes).
        await context.Response.Body.WriteAsync(new byte[5], context.RequestAborted);
    }
}

/// <summary>One export request as received: path, HTTP protocol, content type and the raw body (a gRPC frame around protobuf).</summary>
public sealed record OtlpRequest(string Path, string Protocol, string? ContentType, byte[] Body)
{
    /// <summary>Whether the body holds <paramref name="text"/>: protobuf carries strings (names, attributes) as raw UTF-8.</summary>
    public bool Contains(string text) => Body.AsSpan().IndexOf(Encoding.UTF8.GetBytes(text)) >= 0;

    public override string ToString() => $"{Protocol} {Path} {ContentType} {Body.Length} bytes";
}
