using ExactlyOnce.PostgreSql;
using ExactlyOnce.Silo.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Serialization;

// In the namespace of SiloConfiguration, its only caller, like Orleans' own hosting extensions.
namespace ExactlyOnce.Silo;

/// <summary>The sample's grain storage: the library's, plus the reader of JSON states written before the core moved.</summary>
public static class DistinctKeyGrainStorageExtensions
{
    /// <summary>The library's grain storage (distinct keys, binary or JSON states) under <paramref name="name"/>.</summary>
    public static ISiloBuilder AddDistinctKeyAdoNetGrainStorage(this ISiloBuilder silo, string name, string connectionString, StateFormat stateFormat = StateFormat.Binary)
    {
        silo.AddExactlyOnceGrainStorage(connectionString, name, stateFormat);
        // JSON states written before the core moved into its own assembly name its types the old way.
        silo.Services.AddSingleton<IPostConfigureOptions<OrleansJsonSerializerOptions>, LegacyTypeNameBinder.Installer>();
        return silo;
    }
}
