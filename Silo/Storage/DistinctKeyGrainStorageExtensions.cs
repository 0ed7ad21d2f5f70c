using ExactlyOnce.Silo.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Runtime.Hosting;
using Orleans.Serialization;
using Orleans.Storage;

// In the namespace of SiloConfiguration, its only caller, like Orleans' own hosting extensions.
namespace ExactlyOnce.Silo;

/// <summary>Registration of <see cref="DistinctKeyGrainStorage"/> over ADO.NET grain storage.</summary>
public static class DistinctKeyGrainStorageExtensions
{
    /// <summary>The name the ADO.NET storage behind the storage named <paramref name="name"/> is registered under.</summary>
    public static string InnerName(string name) => $"{name}-adonet";

    /// <summary>
    /// ADO.NET grain storage under <see cref="InnerName"/> (a keyed <see cref="IGrainStorage"/>
    /// and a silo lifecycle participant, which loads its queries), and under
    /// <paramref name="name"/> the <see cref="DistinctKeyGrainStorage"/> over it, which is what
    /// <c>[PersistentState(state, name)]</c> resolves. The provider name is not part of a stored
    /// state's identity, so rows written before the decorator existed are found by the inner storage.
    /// </summary>
    public static ISiloBuilder AddDistinctKeyAdoNetGrainStorage(
        this ISiloBuilder silo, string name, Action<AdoNetGrainStorageOptions> configureOptions, StateFormat stateFormat = StateFormat.Binary)
    {
        var innerName = InnerName(name);
        silo.AddAdoNetGrainStorage(innerName, configureOptions);
        // The provider takes a serializer keyed by its name before the silo's default (JSON), which
        // stays the reader of states written as JSON.
        silo.Services.AddKeyedSingleton<IGrainStorageSerializer>(innerName, (sp, _) => new StateSerializer(
            sp.GetRequiredService<Orleans.Serialization.Serializer>(), sp.GetRequiredService<IGrainStorageSerializer>(), stateFormat));
        silo.Services.AddGrainStorage(name, (services, _) => new DistinctKeyGrainStorage(services.GetRequiredKeyedService<IGrainStorage>(innerName)));
        // JSON states written before the core moved into its own assembly name its types the old way.
        silo.Services.AddSingleton<IPostConfigureOptions<OrleansJsonSerializerOptions>, LegacyTypeNameBinder.Installer>();
        return silo;
    }
}
