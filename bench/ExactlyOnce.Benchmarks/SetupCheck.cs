using System.Reflection;
using BenchmarkDotNet.Attributes;

namespace ExactlyOnce.Benchmarks;

/// <summary>
/// Runs every benchmark class's global setup (with its own checks) for every combination of its
/// parameters, then its cleanup, in seconds and without BenchmarkDotNet: a benchmark whose setup
/// took a path other than its name says fails here instead of being measured.
/// </summary>
public static class SetupCheck
{
    public static int Run()
    {
        var classes = typeof(SetupCheck).Assembly.GetTypes()
            .Where(t => t.GetMethods().Any(m => m.GetCustomAttribute<BenchmarkAttribute>() is not null))
            .OrderBy(t => t.Name);
        var cases = 0;
        foreach (var type in classes)
        {
            foreach (var combination in Combinations(type))
            {
                var instance = Activator.CreateInstance(type)!;
                foreach (var (property, value) in combination)
                {
                    property.SetValue(instance, value);
                }

                Invoke<GlobalSetupAttribute>(instance);
                Invoke<GlobalCleanupAttribute>(instance);
                Console.WriteLine($"ok  {type.Name} [{string.Join(", ", combination.Select(c => $"{c.Property.Name}={c.Value}"))}]");
                cases++;
            }
        }

        Console.WriteLine($"{cases} setups checked");
        return 0;
    }

    private static IEnumerable<List<(PropertyInfo Property, object? Value)>> Combinations(Type type)
    {
        IEnumerable<List<(PropertyInfo, object?)>> combinations = [[]];
        foreach (var property in type.GetProperties())
        {
            if (property.GetCustomAttribute<ParamsAttribute>() is { } values)
            {
                combinations = [.. combinations.SelectMany(c => values.Values.Select(v => new List<(PropertyInfo, object?)>(c) { (property, v) }))];
            }
        }

        return combinations;
    }

    private static void Invoke<TAttribute>(object instance) where TAttribute : Attribute
    {
        foreach (var method in instance.GetType().GetMethods().Where(m => m.GetCustomAttribute<TAttribute>() is not null))
        {
            method.Invoke(instance, null);
        }
    }
}
