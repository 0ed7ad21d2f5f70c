[assembly: CollectionBehavior(CollectionBehavior.CollectionPerAssembly, MaxParallelThreads = 2)]

namespace ExactlyOnce.Tests.Infrastructure;

/// <summary>
/// The suite runs as one collection, one test at a time, except the classes put in
/// <see cref="MostlyWaiting"/>: those spend minutes waiting out a fault on the default settings
/// (a three-minute outage, a policy's delayed retries, the leases of a message that kills its silo) with almost no CPU, each on its own database
/// and silo with free ports, so they run beside the rest instead of adding their waits to the
/// suite's wall time.
/// </summary>
public static class TestCollections
{
    public const string MostlyWaiting = "Mostly waiting";
}

[CollectionDefinition(TestCollections.MostlyWaiting)]
public sealed class MostlyWaitingCollection;
