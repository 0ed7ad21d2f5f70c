namespace ExactlyOnce;

/// <summary>The provider names the library uses unless configured otherwise.</summary>
public static class ExactlyOnceNames
{
    /// <summary>The durable stream provider components consume and publish on. Default of <see cref="Messaging.MessagingOptions.StreamProvider"/>.</summary>
    public const string StreamProvider = "durable";

    /// <summary>The grain storage of the library's own grains (the fault-injection control grain).</summary>
    public const string GrainStorage = "postgres";

    /// <summary>
    /// The meter of the library's instruments (<c>exactlyonce.*</c>: messages received, applied,
    /// retried, dead-lettered and discarded; outbox and hold-back depths; blocked producers; state
    /// write sizes). Add it to an OpenTelemetry meter provider with <c>AddMeter(ExactlyOnceNames.Meter)</c>.
    /// </summary>
    public const string Meter = "ExactlyOnce";

    /// <summary>
    /// The activity source of the library's spans: <c>send &lt;namespace&gt;</c> (a client send,
    /// kind producer) and <c>&lt;component&gt; process</c> (a delivery, kind consumer), each the
    /// child of the span that sent or committed the message. Add it with <c>AddSource(ExactlyOnceNames.ActivitySource)</c>.
    /// </summary>
    public const string ActivitySource = "ExactlyOnce";
}
