namespace ExactlyOnce.Tests.Client;

/// <summary>One silo process and a fresh database, shared by the client command tests.</summary>
public sealed class ClientCluster : IAsyncLifetime
{
    public TestDatabase Db { get; private set; } = null!;

    public SiloProcess Silo { get; private set; } = null!;

    public string ClusterId { get; } = $"cli-{Guid.NewGuid():N}"[..12];

    public ClientProcess Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Db = await TestDatabase.CreateAsync("client");
        // Few attempts and short delivery times, so that poison messages reach the dead letters quickly.
        Silo = SiloProcess.Start(Db.ConnectionString, ClusterId,
            "--Streams:MaxAttempts", "2", "--Streams:MaxEventDeliveryTime", "00:00:03", "--Streams:VisibilityTimeout", "00:00:10");
        await Silo.WaitStartedAsync(TimeSpan.FromSeconds(60));
        Client = new ClientProcess(Db.ConnectionString, ClusterId);
    }

    public async Task DisposeAsync()
    {
        await Silo.DisposeAsync();
        await Db.DisposeAsync();
    }
}
