[assembly: CollectionBehavior(CollectionBehavior.CollectionPerAssembly, MaxParallelThreads = 2)]

namespace ExactlyOnce.Tests.Infrastructure;

/// <summary>
/// The suite runs as one collection, one test at a time, except the classes put in
/// <see cref="MostlyWaiting"/> (and <see cref="RestartsPostgres"/>, which runs alone at the end):
/// those spend minutes waiting out a fault on the default settings
/// (a three-minute outage, a policy's delayed retries, the leases of a message that kills its silo) with almost no CPU, each on its own database
/// and silo with free ports, so they run beside the rest instead of adding their waits to the
/// suite's wall time.
/// </summary>
public static class TestCollections
{
    public const string MostlyWaiting = "Mostly waiting";

    /// <summary>
    /// Classes that restart the PostgreSQL server every test shares: they run alone, after
    /// everything else, since a restart cuts the connections of whatever runs beside them (seen in
    /// CI: the chaos run's restart failed the billing outage and killer tests running in parallel).
    /// </summary>
    public const string RestartsPostgres = "Restarts PostgreSQL";
}

[CollectionDefinition(TestCollections.MostlyWaiting)]
public sealed class MostlyWaitingCollection;

[CollectionDefinition(TestCollections.RestartsPostgres, DisableParallelization = true)]
public sealed class RestartsPostgresCollection;
