namespace ExactlyOnce.PostgreSql;

/// <summary>Options of the PostgreSQL stores on a silo (<see cref="ExactlyOncePostgreSqlExtensions.AddExactlyOncePostgreSql"/>).</summary>
public sealed class PostgresMessagingOptions
{
    /// <summary>The PostgreSQL connection string (required). The schema must be applied first: <see cref="SchemaMigrator"/>.</summary>
    public string ConnectionString { get; set; } = "";

    /// <summary>How often each silo publishes client messages that were recorded but not confirmed as published (default 10 s).</summary>
    public TimeSpan ClientOutboxSweepPeriod { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How old an unconfirmed client message must be before a silo publishes it for its client (default 30 s).</summary>
    public TimeSpan ClientOutboxSweepAge { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The first problem with these options, as one line naming the option; null when they are valid.</summary>
    public string? Validate()
    {
        if (string.IsNullOrWhiteSpace(ConnectionString))
        {
            return $"{nameof(ConnectionString)} is required";
        }

        if (ClientOutboxSweepPeriod < TimeSpan.FromSeconds(1) || ClientOutboxSweepAge < TimeSpan.FromSeconds(1))
        {
            return $"{nameof(ClientOutboxSweepPeriod)} and {nameof(ClientOutboxSweepAge)} must be at least 1 second";
        }

        return null;
    }
}

/// <summary>Options of a client that sends with <see cref="ExactlyOnceSender"/> (<see cref="ExactlyOncePostgreSqlExtensions.AddExactlyOnceProducers"/>).</summary>
public sealed class ProducerOptions
{
    /// <summary>The PostgreSQL connection string of the cluster's database (required).</summary>
    public string ConnectionString { get; set; } = "";

    /// <summary>The name of the durable stream provider the components consume (default <c>durable</c>, as <c>MessagingOptions.StreamProvider</c>).</summary>
    public string StreamProvider { get; set; } = ExactlyOnceNames.StreamProvider;

    /// <summary>The first problem with these options, as one line naming the option; null when they are valid.</summary>
    public string? Validate() =>
        string.IsNullOrWhiteSpace(ConnectionString) ? $"{nameof(ConnectionString)} is required"
        : string.IsNullOrWhiteSpace(StreamProvider) ? $"{nameof(StreamProvider)} is required"
        : null;
}
