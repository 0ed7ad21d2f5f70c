using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using Newtonsoft.Json.Serialization;
using Orleans.Serialization;

namespace ExactlyOnce.Silo.Storage;

/// <summary>
/// Reads JSON states that name the core's types where they used to live. States written as JSON
/// (version 1's only format, and <see cref="StateFormat.Json"/>) carry assembly-qualified type
/// names; the core moved from <c>ExactlyOnce.Grains.Messaging</c> in assembly
/// <c>ExactlyOnce.Grains</c> to <c>ExactlyOnce.Messaging</c> in <c>ExactlyOnce.Orleans</c>. The
/// binary format names types by their stable aliases and needs no mapping. New states are written
/// with the new names.
/// </summary>
public sealed partial class LegacyTypeNameBinder(ISerializationBinder inner) : ISerializationBinder
{
    private const string OldNamespace = "ExactlyOnce.Grains.Messaging.";
    private const string OldAssembly = "ExactlyOnce.Grains";
    private const string NewNamespace = "ExactlyOnce.Messaging.";
    private const string NewAssembly = "ExactlyOnce.Orleans";

    public Type BindToType(string? assemblyName, string typeName)
    {
        if (typeName.Contains(OldNamespace, StringComparison.Ordinal))
        {
            // Generic arguments: [[ExactlyOnce.Grains.Messaging.X, ExactlyOnce.Grains]].
            typeName = NestedOldName().Replace(typeName, m => $"{NewNamespace}{m.Groups[1].Value}, {NewAssembly}");
            if (typeName.StartsWith(OldNamespace, StringComparison.Ordinal) && assemblyName == OldAssembly)
            {
                typeName = NewNamespace + typeName[OldNamespace.Length..];
                assemblyName = NewAssembly;
            }
        }

        return inner.BindToType(assemblyName, typeName);
    }

    public void BindToName(Type serializedType, out string? assemblyName, out string? typeName) =>
        inner.BindToName(serializedType, out assemblyName, out typeName);

    [GeneratedRegex(@"ExactlyOnce\.Grains\.Messaging\.([A-Za-z0-9_`]+), ExactlyOnce\.Grains(?=\])")]
    private static partial Regex NestedOldName();

    /// <summary>Wraps the binder Orleans configured (registered after Orleans' own post-configuration, so it runs after it).</summary>
    public sealed class Installer : IPostConfigureOptions<OrleansJsonSerializerOptions>
    {
        public void PostConfigure(string? name, OrleansJsonSerializerOptions options)
        {
            var settings = options.JsonSerializerSettings;
            if (settings.SerializationBinder is not LegacyTypeNameBinder)
            {
                settings.SerializationBinder = new LegacyTypeNameBinder(settings.SerializationBinder ?? new DefaultSerializationBinder());
            }
        }
    }
}
