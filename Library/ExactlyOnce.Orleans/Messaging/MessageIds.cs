using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace ExactlyOnce.Messaging;

/// <summary>
/// Deterministic ids of outgoing messages: a function of (incoming id, component, index), so that
/// handling the same incoming message again, or re-sending it, gives the same ids.
/// </summary>
public static class MessageIds
{
    /// <summary>The id of the <paramref name="index"/>-th message that <paramref name="component"/> sends while handling <paramref name="incoming"/>.</summary>
    public static Guid Derive(Guid incoming, string component, int index)
    {
        ArgumentException.ThrowIfNullOrEmpty(component);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        var componentBytes = Encoding.UTF8.GetBytes(component);
        var input = new byte[16 + componentBytes.Length + 4];
        incoming.TryWriteBytes(input);
        componentBytes.CopyTo(input, 16);
        BinaryPrimitives.WriteInt32LittleEndian(input.AsSpan(16 + componentBytes.Length), index);
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(input, hash);
        var bytes = hash[..16].ToArray();
        // RFC 9562 layout: version 8 (custom, name-based), variant 10.
        bytes[7] = (byte)((bytes[7] & 0x0F) | 0x80);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes);
    }
}
