using System.Security.Cryptography;
using System.Text;

namespace ExactlyOnce.Messaging;

/// <summary>
/// Fills a producer's sequence with nothing: sent by an operator (<c>dead-letters discard</c>) when
/// the message at that position is given up, so the producer's later messages can be applied. A
/// receiver applies it in order as a recorded no-op; if the real message arrives first, the
/// tombstone is the duplicate.
/// </summary>
[GenerateSerializer, Immutable, Alias("sequence-tombstone")]
public sealed record SequenceTombstone(
    [property: Id(0)] Guid MessageId,
    [property: Id(1)] string TombstoneProducerId,
    [property: Id(2)] long TombstoneSequence,
    [property: Id(3)] string Reason) : IMessage
{
    /// <inheritdoc/>
    public string? ProducerId => TombstoneProducerId;

    /// <inheritdoc/>
    public long Sequence => TombstoneSequence;

    /// <inheritdoc/>
    public IMessage WithSequence(string producerId, long sequence) => this with { TombstoneProducerId = producerId, TombstoneSequence = sequence };

    /// <summary>The tombstone of (producer, sequence): one id per position, so discarding twice sends the same message.</summary>
    public static SequenceTombstone For(string producerId, long sequence, string reason)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"tombstone\n{producerId}\n{sequence}"));
        var bytes = hash[..16];
        bytes[7] = (byte)((bytes[7] & 0x0F) | 0x80);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new SequenceTombstone(new Guid(bytes), producerId, sequence, reason);
    }
}
