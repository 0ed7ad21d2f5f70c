using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Engines;
using Perfolizer.Horology;
using BenchmarkDotNet.Jobs;

namespace ExactlyOnce.Benchmarks;

/// <summary>
/// The job every benchmark class here runs: throughput, one launch, 3 warm-up and 10 measured
/// iterations of 250 ms, with allocations counted; short enough for the whole suite to take minutes
/// on a shared 2-core machine.
/// </summary>
public sealed class ShortThroughputConfig : ManualConfig
{
    public ShortThroughputConfig()
    {
        AddJob(Job.Default
            .WithStrategy(RunStrategy.Throughput)
            .WithLaunchCount(1)
            .WithWarmupCount(3)
            .WithIterationCount(10)
            .WithIterationTime(TimeInterval.FromMilliseconds(250)));
        AddDiagnoser(MemoryDiagnoser.Default);
    }
}
