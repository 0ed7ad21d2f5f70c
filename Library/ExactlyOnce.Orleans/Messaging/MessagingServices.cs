using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Storage;

namespace ExactlyOnce.Messaging;

/// <summary>The silo-wide services a messaging component needs, injected into grains as one bundle.</summary>
public sealed class MessagingServices(
    IFaultInjector faults,
    TimeProvider clock,
    IOptions<MessagingOptions> options,
    IDeadLetterSink deadLetters,
    ISentMessageLog sentLog,
    IProducerIncarnations incarnations,
    IParkingLot parking,
    IGrainStorageSerializer storageSerializer,
    ILoggerFactory loggers)
{
    /// <summary>Where fault points fire (a no-op unless fault injection is on).</summary>
    public IFaultInjector Faults { get; } = faults;

    /// <summary>The clock retries and retention are measured with.</summary>
    public TimeProvider Clock { get; } = clock;

    /// <summary>The core's options.</summary>
    public MessagingOptions Options { get; } = options.Value;

    /// <summary>Where rejected and dead-lettered messages are stored.</summary>
    public IDeadLetterSink DeadLetters { get; } = deadLetters;

    /// <summary>The send audit.</summary>
    public ISentMessageLog SentLog { get; } = sentLog;

    /// <summary>Source of producer incarnations.</summary>
    public IProducerIncarnations Incarnations { get; } = incarnations;

    /// <summary>The parking table for early arrivals beyond the hold-back buffer.</summary>
    public IParkingLot Parking { get; } = parking;

    /// <summary>The serializer grain storage uses by default: to report stored sizes.</summary>
    public IGrainStorageSerializer StorageSerializer { get; } = storageSerializer;

    /// <summary>Loggers of the components.</summary>
    public ILoggerFactory Loggers { get; } = loggers;
}
