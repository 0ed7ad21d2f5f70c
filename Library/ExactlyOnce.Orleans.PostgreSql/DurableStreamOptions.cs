namespace ExactlyOnce.PostgreSql;

/// <summary>
/// Options of the durable stream provider on PostgreSQL that components consume and publish on
/// (<see cref="ExactlyOncePostgreSqlExtensions.AddExactlyOnceStreams(ISiloBuilder, string, Action{DurableStreamOptions}?)"/>).
/// </summary>
public sealed class DurableStreamOptions
{
    /// <summary>The provider's name (default <c>durable</c>; the same as <c>MessagingOptions.StreamProvider</c>).</summary>
    public string Name { get; set; } = ExactlyOnceNames.StreamProvider;

    /// <summary>Queues (table partitions) per stream provider; the same on every silo and client. Default 8.</summary>
    public int QueueCount { get; set; } = 8;

    /// <summary>A message not delivered within this time is moved to the provider's dead letters. Default 7 days.</summary>
    public TimeSpan ExpiryTimeout { get; set; } = TimeSpan.FromDays(7);

    /// <summary>How long a delivery is hidden from other silos before it is redelivered (renewed while its silo lives). Default 60 s.</summary>
    public TimeSpan VisibilityTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How often each queue is read when it was empty. Default 100 ms.</summary>
    public TimeSpan PollingPeriod { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>How long one delivery to a grain may take before the agent gives up on it (it is redelivered). Default 10 s.</summary>
    public TimeSpan MaxEventDeliveryTime { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long the provider's dead letters are kept. Default 30 days.</summary>
    public TimeSpan DeadLetterRetention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>The first problem with these options, as one line naming the option; null when they are valid.</summary>
    public string? Validate() =>
        string.IsNullOrWhiteSpace(Name) ? $"{nameof(Name)} is required"
        : QueueCount is < 1 or > 1024 ? $"{nameof(QueueCount)} must be between 1 and 1024"
        : ExpiryTimeout < TimeSpan.FromMinutes(1) ? $"{nameof(ExpiryTimeout)} must be at least 1 minute"
        : PollingPeriod < TimeSpan.FromMilliseconds(10) || PollingPeriod > TimeSpan.FromMinutes(1) ? $"{nameof(PollingPeriod)} must be between 10 ms and 1 minute"
        : MaxEventDeliveryTime <= TimeSpan.Zero ? $"{nameof(MaxEventDeliveryTime)} must be positive"
        : VisibilityTimeout < 2 * MaxEventDeliveryTime ? $"{nameof(VisibilityTimeout)} must be at least twice {nameof(MaxEventDeliveryTime)} ({MaxEventDeliveryTime}), or messages are delivered several times"
        : DeadLetterRetention <= TimeSpan.Zero ? $"{nameof(DeadLetterRetention)} must be positive"
        : null;
}
