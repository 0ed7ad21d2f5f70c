using ExactlyOnce.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Storage;

namespace ExactlyOnce.Messaging;

/// <summary>
/// The silo-wide services a messaging component needs, injected into grains as one bundle (pass it
/// on to <see cref="ExactlyOnceGrain{TData, TMessage}"/>). Registered by
/// <see cref="ExactlyOnceSiloBuilderExtensions.AddExactlyOnceMessaging"/>; its stores come from a
/// store package such as ExactlyOnce.Orleans.PostgreSql.
/// </summary>
public sealed class MessagingServices
{
    internal MessagingServices(
        IFaultInjector faults,
        TimeProvider clock,
        IOptions<MessagingOptions> options,
        IDeadLetterSink deadLetters,
        ISentMessageLog sentLog,
        IProducerIncarnations incarnations,
        IParkingLot parking,
        IGrainStorageSerializer storageSerializer,
        ILoggerFactory loggers,
        MessagingMetrics metrics)
    {
        Metrics = metrics;
        Faults = faults;
        Clock = clock;
        Options = options.Value;
        DeadLetters = deadLetters;
        SentLog = sentLog;
        Incarnations = incarnations;
        Parking = parking;
        StorageSerializer = storageSerializer;
        Loggers = loggers;
    }

    /// <summary>Where fault points fire (a no-op unless fault injection is on).</summary>
    internal IFaultInjector Faults { get; }

    /// <summary>The clock retries and retention are measured with.</summary>
    internal TimeProvider Clock { get; }

    /// <summary>The core's options.</summary>
    public MessagingOptions Options { get; }

    /// <summary>Where rejected and dead-lettered messages are stored.</summary>
    internal IDeadLetterSink DeadLetters { get; }

    /// <summary>The send audit.</summary>
    internal ISentMessageLog SentLog { get; }

    /// <summary>Source of producer incarnations.</summary>
    internal IProducerIncarnations Incarnations { get; }

    /// <summary>The parking table for early arrivals beyond the hold-back buffer.</summary>
    internal IParkingLot Parking { get; }

    /// <summary>The serializer grain storage uses by default: to report stored sizes.</summary>
    internal IGrainStorageSerializer StorageSerializer { get; }

    /// <summary>The silo's instruments (meter <see cref="ExactlyOnceNames.Meter"/>).</summary>
    internal MessagingMetrics Metrics { get; }

    /// <summary>Loggers of the components.</summary>
    internal ILoggerFactory Loggers { get; }
}
