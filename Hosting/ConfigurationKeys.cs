using System.ComponentModel;
using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Configuration;

namespace ExactlyOnce.Hosting;

/// <summary>
/// One configuration section of ours and the settings type it binds to, for
/// <see cref="ConfigurationKeys"/>. <paramref name="notBound"/> names properties of the type that
/// are not read from the section (filled from elsewhere), so a key for them is unknown too.
/// </summary>
public sealed class SettingsSection(string name, Type settingsType, params string[] notBound)
{
    /// <summary>The section's name, e.g. <c>Streams</c>.</summary>
    public string Name { get; } = name;

    /// <summary>The type the section binds to: a settings class, or a list (<c>Faults:0</c>, <c>Faults:1</c>, ...).</summary>
    public Type SettingsType { get; } = settingsType;

    /// <summary>Properties of <see cref="SettingsType"/> that the section does not set.</summary>
    public IReadOnlyCollection<string> NotBound { get; } = notBound;
}

/// <summary>
/// Rejects configuration keys under our own sections that no settings type has, such as
/// <c>Streams:MaxAtempts</c>: the configuration binder ignores them silently, so a typo would leave
/// the default in force. Sections that are not ours (Logging, Orleans, ConnectionStrings) are never
/// looked at. The check follows the binder's rules: property names case-insensitively (or their
/// <see cref="ConfigurationKeyNameAttribute"/>), nested settings objects recursively, lists by
/// index (<c>Faults:0</c>), dictionaries by any key; a key below a single value is unknown.
/// </summary>
public static class ConfigurationKeys
{
    /// <summary>The first unknown key as one line naming it and the known keys around it; null when every key is known.</summary>
    public static string? FindUnknown(IConfiguration configuration, IEnumerable<SettingsSection> sections)
    {
        foreach (var section in sections)
        {
            var problem = Check(configuration.GetSection(section.Name), section.SettingsType, section.NotBound);
            if (problem is not null)
            {
                return problem;
            }
        }

        return null;
    }

    /// <summary>Throws <see cref="ConfigurationException"/> naming the first unknown key (see <see cref="FindUnknown"/>).</summary>
    public static void RequireKnown(IConfiguration configuration, IEnumerable<SettingsSection> sections)
    {
        if (FindUnknown(configuration, sections) is { } problem)
        {
            throw new ConfigurationException(problem);
        }
    }

    /// <summary>The keys a settings type takes (its bindable properties), in declaration order.</summary>
    public static IReadOnlyList<string> KnownKeys(Type settingsType, IReadOnlyCollection<string>? notBound = null) =>
        [.. BindableProperties(settingsType, notBound ?? []).Select(p => p.Key)];

    private static string? Check(IConfigurationSection node, Type type, IReadOnlyCollection<string> notBound)
    {
        var children = node.GetChildren().ToList();
        if (children.Count == 0)
        {
            return null;
        }

        type = Nullable.GetUnderlyingType(type) ?? type;
        if (IsSingleValue(type))
        {
            return $"unknown configuration key '{children[0].Path}': {node.Path} takes a single value.";
        }

        if (DictionaryValueType(type) is { } valueType)
        {
            return children.Select(c => Check(c, valueType, [])).FirstOrDefault(p => p is not null);
        }

        if (ElementType(type) is { } elementType)
        {
            foreach (var child in children)
            {
                if (!int.TryParse(child.Key, NumberStyles.None, CultureInfo.InvariantCulture, out _))
                {
                    return $"unknown configuration key '{child.Path}': {node.Path} is a list, its keys are 0, 1, 2, ...";
                }

                if (Check(child, elementType, []) is { } problem)
                {
                    return problem;
                }
            }

            return null;
        }

        var properties = BindableProperties(type, notBound);
        foreach (var child in children)
        {
            var property = properties.FirstOrDefault(p => string.Equals(p.Key, child.Key, StringComparison.OrdinalIgnoreCase));
            if (property.Key is null)
            {
                return $"unknown configuration key '{child.Path}'; known keys of {node.Path}: {string.Join(", ", properties.Select(p => p.Key))}.";
            }

            if (Check(child, property.Type, []) is { } problem)
            {
                return problem;
            }
        }

        return null;
    }

    /// <summary>Public instance properties the binder can fill: settable, or a non-null object or collection it binds into.</summary>
    private static List<(string Key, Type Type)> BindableProperties(Type type, IReadOnlyCollection<string> notBound) =>
        [.. type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetIndexParameters().Length == 0 && p.GetMethod is { IsPublic: true })
            .Where(p => p.SetMethod is { IsPublic: true } || !IsSingleValue(Nullable.GetUnderlyingType(p.PropertyType) ?? p.PropertyType))
            .Where(p => !notBound.Contains(p.Name, StringComparer.OrdinalIgnoreCase))
            .Select(p => (p.GetCustomAttribute<ConfigurationKeyNameAttribute>()?.Name ?? p.Name, p.PropertyType))];

    /// <summary>A type the binder reads from one string: primitives, enums, strings, TimeSpan, ..., anything with a string converter.</summary>
    private static bool IsSingleValue(Type type) =>
        type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(TimeSpan)
        || type == typeof(DateTime) || type == typeof(DateTimeOffset) || type == typeof(Guid) || type == typeof(Uri)
        || (ElementType(type) is null && DictionaryValueType(type) is null && TypeDescriptor.GetConverter(type).CanConvertFrom(typeof(string)));

    private static Type? DictionaryValueType(Type type) =>
        (GenericInterface(type, typeof(IDictionary<,>)) ?? GenericInterface(type, typeof(IReadOnlyDictionary<,>))) is { } dictionary
            ? dictionary.GetGenericArguments()[1]
            : null;

    private static Type? ElementType(Type type)
    {
        if (type == typeof(string))
        {
            return null;
        }

        if (type.IsArray)
        {
            return type.GetElementType();
        }

        return DictionaryValueType(type) is null && GenericInterface(type, typeof(IEnumerable<>)) is { } enumerable
            ? enumerable.GetGenericArguments()[0]
            : null;
    }

    private static Type? GenericInterface(Type type, Type definition) =>
        type.IsGenericType && type.GetGenericTypeDefinition() == definition
            ? type
            : type.GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == definition);
}
