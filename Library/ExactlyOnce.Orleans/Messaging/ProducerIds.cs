using System.Globalization;

namespace ExactlyOnce.Messaging;

/// <summary>
/// Producer identities: <c>kind/name/incarnation</c>. The kinds cannot collide (<c>grain/</c>,
/// <c>run/</c>, <c>client/</c>), and the incarnation comes from one PostgreSQL counter, taken when
/// the producer's state or record is first created. So a sender whose state was cleared, or a run
/// name used again, is a new producer: it never restarts at sequence 1 under an identity a
/// receiver already has a mark for.
/// </summary>
public static class ProducerIds
{
    /// <summary>Kind of a grain that sends from its outbox.</summary>
    public const string GrainKind = "grain";

    /// <summary>Kind of a finite client workload (a <c>load</c> run).</summary>
    public const string RunKind = "run";

    /// <summary>Kind of a named client sender that lives on (e.g. <c>cli</c> for <c>send</c>).</summary>
    public const string ClientKind = "client";

    /// <summary>The producer id of a grain: component, grain key, incarnation.</summary>
    public static string Grain(string component, string key, long incarnation) => Create(GrainKind, $"{component}/{key}", incarnation);

    /// <summary>The producer id of a load run.</summary>
    public static string Run(string name, long incarnation) => Create(RunKind, name, incarnation);

    /// <summary>The producer id of a named client sender.</summary>
    public static string Client(string name, long incarnation) => Create(ClientKind, name, incarnation);

    /// <summary>The kind of a producer id (the text before the first '/').</summary>
    public static string KindOf(string producerId) => producerId[..Math.Max(0, producerId.IndexOf('/'))];

    /// <summary>
    /// The incarnation of a producer id (the number after the last '/'), or null when it has none.
    /// A receiver's name for the producer on one of its other input streams (<c>…/7@input</c>) has the same incarnation.
    /// </summary>
    public static long? IncarnationOf(string producerId)
    {
        var slash = producerId.LastIndexOf('/');
        if (slash < 0)
        {
            return null;
        }

        var number = producerId.AsSpan(slash + 1);
        var input = number.IndexOf('@');
        return long.TryParse(input < 0 ? number : number[..input], NumberStyles.None, CultureInfo.InvariantCulture, out var incarnation) ? incarnation : null;
    }

    /// <summary>True for a run producer whose incarnation is at or below <paramref name="watermark"/>: retired everywhere.</summary>
    public static bool IsRetiredRun(string producerId, long watermark) =>
        watermark > 0 && KindOf(producerId) == RunKind && IncarnationOf(producerId) is { } incarnation && incarnation <= watermark;

    private static string Create(string kind, string name, long incarnation)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentOutOfRangeException.ThrowIfLessThan(incarnation, 1);
        return $"{kind}/{name}/{incarnation.ToString(CultureInfo.InvariantCulture)}";
    }
}
