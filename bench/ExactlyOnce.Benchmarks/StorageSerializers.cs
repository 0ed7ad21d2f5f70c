using ExactlyOnce.Grains.Messages;
using ExactlyOnce.Messaging;
using ExactlyOnce.PostgreSql;
using ExactlyOnce.Silo.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Serialization;
using Orleans.Storage;

namespace ExactlyOnce.Benchmarks;

/// <summary>
/// The two serializers the silo's grain storage writes with (see DistinctKeyGrainStorageExtensions):
/// Orleans' binary <see cref="Serializer"/> and the silo's default <see cref="IGrainStorageSerializer"/>
/// (Orleans' Newtonsoft JSON with type names), both taken from a silo host that is built but never
/// started, so the JSON settings are the ones a silo really uses.
/// </summary>
internal sealed class StorageSerializers : IDisposable
{
    private readonly IHost _host;

    public StorageSerializers()
    {
        _host = new HostBuilder()
            .UseOrleans(silo =>
            {
                silo.UseLocalhostClustering();
                silo.Services.AddSerializer(b => b.AddAssembly(typeof(ComponentState<>).Assembly).AddAssembly(typeof(IMessage).Assembly));
            })
            .Build();
        Binary = _host.Services.GetRequiredService<Serializer>();
        Json = _host.Services.GetRequiredService<IGrainStorageSerializer>();
    }

    public Serializer Binary { get; }

    /// <summary>The silo's default grain storage serializer (checked to be Orleans' JSON one).</summary>
    public IGrainStorageSerializer Json { get; }

    /// <summary>The serializer grain storage is given for <paramref name="format"/>: it writes that format and reads both.</summary>
    public StateSerializer For(StateFormat format) => new(Binary, Json, format);

    public void Dispose() => _host.Dispose();
}
