using Orleans.TestingHost;

namespace ExactlyOnce.Tests.Infrastructure;

/// <summary>Base of pipeline scenarios: a fresh database and an in-process cluster per test.</summary>
public abstract class PipelineClusterTest(string databasePrefix, int silos = 1) : IAsyncLifetime
{
    protected TestDatabase Db { get; private set; } = null!;

    protected TestCluster Cluster { get; private set; } = null!;

    protected PipelineDriver Driver { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Db = await TestDatabase.CreateAsync(databasePrefix);
        Cluster = await OrleansTestCluster.DeployAsync(Db.ConnectionString, silos);
        Driver = new PipelineDriver(Cluster.Client, Db);
    }

    public async Task DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
        await Db.DisposeAsync();
    }
}
