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
    public IFaultInjector Faults { get; } = faults;

    public TimeProvider Clock { get; } = clock;

    public MessagingOptions Options { get; } = options.Value;

    public IDeadLetterSink DeadLetters { get; } = deadLetters;

    public ISentMessageLog SentLog { get; } = sentLog;

    public IProducerIncarnations Incarnations { get; } = incarnations;

    public IParkingLot Parking { get; } = parking;

    /// <summary>The serializer grain storage uses by default: to report stored sizes.</summary>
    public IGrainStorageSerializer StorageSerializer { get; } = storageSerializer;

    public ILoggerFactory Loggers { get; } = loggers;
}
