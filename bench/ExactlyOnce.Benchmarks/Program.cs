using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;
using ExactlyOnce.Benchmarks;
using ExactlyOnce.PostgreSql;
using ExactlyOnce.Silo.Storage;

// `sizes`: the stored size of each sample state in each format (what the serialization benchmarks write).
if (args is ["sizes"])
{
    using var serializers = new StorageSerializers();
    Console.WriteLine($"json serializer: {serializers.Json.GetType().FullName}");
    foreach (var format in new[] { StateFormat.Binary, StateFormat.Json })
    {
        var serializer = serializers.For(format);
        Console.WriteLine($"{format,-6}  order-100 {serializer.Serialize(SampleStates.Order(100)).ToMemory().Length,7} B"
            + $"  bill-100 {serializer.Serialize(SampleStates.Bill(100)).ToMemory().Length,7} B"
            + $"  bill-1000 {serializer.Serialize(SampleStates.Bill(1_000)).ToMemory().Length,7} B");
    }

    return 0;
}

// `check`: every benchmark's setup and its checks, once per parameter combination, without measuring.
if (args is ["check"])
{
    return SetupCheck.Run();
}

// The benchmarks run in a project BenchmarkDotNet generates and builds; on a busy 2-core machine
// that build takes longer than its default timeout of 2 minutes.
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, ManualConfig.Create(DefaultConfig.Instance).WithBuildTimeout(TimeSpan.FromMinutes(15)));
return 0;
