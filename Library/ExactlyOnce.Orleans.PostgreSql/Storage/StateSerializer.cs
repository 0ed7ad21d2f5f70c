using ExactlyOnce.Diagnostics;
using System.Buffers;
using Orleans.Serialization;
using Orleans.Storage;

namespace ExactlyOnce.PostgreSql;

/// <summary>How <see cref="ExactlyOncePostgreSqlExtensions.AddExactlyOnceGrainStorage"/> writes grain state (it reads both).</summary>
public enum StateFormat
{
    /// <summary>Orleans' binary serializer behind a 4-byte marker: compact and cheap. The default.</summary>
    Binary,

    /// <summary>Orleans' default JSON (Newtonsoft, with type names): readable in the database, about 4 times larger and slower to write.</summary>
    Json,
}

/// <summary>
/// The grain storage serializer: writes <see cref="StateFormat.Binary"/> (a marker, then Orleans'
/// binary serializer) or <see cref="StateFormat.Json"/>, and reads both, whatever it writes, so a
/// database written by an earlier version (JSON only) or with the other setting keeps working; a
/// state is converted the next time it is written. JSON text never starts with the marker's
/// zero byte.
/// </summary>
internal sealed class StateSerializer(Serializer binary, IGrainStorageSerializer json, StateFormat write, MessagingMetrics? metrics = null) : IGrainStorageSerializer
{
    private static readonly byte[] Marker = [0x00, (byte)'E', (byte)'O', 0x01];

    public BinaryData Serialize<T>(T? input)
    {
        BinaryData written;
        if (write == StateFormat.Json)
        {
            written = json.Serialize(input);
        }
        else
        {
            var buffer = new ArrayBufferWriter<byte>();
            buffer.Write(Marker);
            binary.Serialize(input, buffer);
            written = new BinaryData(buffer.WrittenMemory);
        }

        metrics?.StateWritten(StateName<T>.Value, written.ToMemory().Length);
        return written;
    }

    /// <summary>A state type's name for the size histogram: <c>ComponentState&lt;OrderData&gt;</c>.</summary>
    private static class StateName<T>
    {
        public static readonly string Value = NameOf(typeof(T));

        private static string NameOf(Type type) => !type.IsGenericType ? type.Name
            : $"{type.Name[..type.Name.IndexOf('`')]}<{string.Join(",", type.GetGenericArguments().Select(NameOf))}>";
    }

    public T? Deserialize<T>(BinaryData input)
    {
        var bytes = input.ToMemory();
        return IsBinary(bytes.Span) ? binary.Deserialize<T>(bytes[Marker.Length..]) : json.Deserialize<T>(input);
    }

    /// <summary>True when the stored bytes are in the binary format.</summary>
    public static bool IsBinary(ReadOnlySpan<byte> stored) => stored.StartsWith(Marker);
}
