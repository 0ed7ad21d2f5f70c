namespace ExactlyOnce.Tests.Client;

/// <summary>One silo process on the default stream and messaging settings, and a fresh database: what a user ships.</summary>
public sealed class SequencedCluster : IAsyncLifetime
{
    public TestDatabase Db { get; private set; } = null!;

    public SiloProcess Silo { get; private set; } = null!;

    public string ClusterId { get; } = $"seq-{Guid.NewGuid():N}"[..12];

    public ClientProcess Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Db = await TestDatabase.CreateAsync("sequenced");
        Silo = SiloProcess.Start(Db.ConnectionString, ClusterId);
        await Silo.WaitStartedAsync(TimeSpan.FromSeconds(60));
        Client = new ClientProcess(Db.ConnectionString, ClusterId);
    }

    public async Task DisposeAsync()
    {
        await Silo.DisposeAsync();
        await Db.DisposeAsync();
    }
}
