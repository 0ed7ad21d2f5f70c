namespace ExactlyOnce.PostgreSql;

/// <summary>
/// Maps a grain's key to the key its state is stored under, so that distinct keys get distinct
/// rows in the ADO.NET grain storage.
/// </summary>
/// <remarks>
/// <para>
/// Why it is needed: the ADO.NET provider stores a state under (N0, N1, extension), computed from
/// the key text. It tries the text as a GUID key first (32 hex digits, optionally "+extension"),
/// then as an integer key (hex digits before the first "+"), and only otherwise as a string key.
/// So "1", "01" and "0000000000000000000000000000000001" all become the integer 1 (Orleans
/// issue 9706). It also does not store which kind the key was, so three more collisions exist:
/// "0+xyz" (integer 0 + "xyz") and "xyz" (string) are both (0, 0, "xyz"); "0" and the
/// all-zero GUID are both (0, 0, NULL); and "1" and the GUID text
/// "00000000000000000100000000000000" are both (0, 1, NULL).
/// </para>
/// <para>
/// The rule. A key is <b>kept</b> unchanged when it does not start with <c>~</c> and it either
/// (a) parses as neither a GUID nor an integer key, or
/// (b) parses as a GUID key, is exactly the text Orleans formats for that GUID and extension
/// (lower-case hex) and the GUID's first 8 bytes (N0) are not all zero, or
/// (c) parses as an integer key (and not as a GUID key), is exactly the text Orleans formats for
/// that value and extension (upper-case hex, no leading zeros) and it is not 0 with an extension.
/// Every other key is <b>escaped</b>: stored as "~" + key.
/// Kept keys are the keys Orleans itself creates, so their existing rows keep loading.
/// </para>
/// <para>
/// Proof of injectivity (distinct keys, distinct rows). An escaped key "~k" parses as neither
/// GUID nor integer ("~" is not a hex digit), so it is stored as (0, 0, "~k"); k ↦ "~k" is
/// injective. The identities of the four kinds are disjoint: (b) has N0 ≠ 0; (c) has N0 = 0 and
/// either N1 ≠ 0 or a NULL extension; (a) and escaped keys have (0, 0, text), the text of (a)
/// not starting with "~" and that of escaped keys starting with it. Inside (b) and (c) the key
/// is a function of its parsed value (it equals Orleans' formatting of it) and the identity
/// determines the parsed value, so equal identities mean equal keys; inside (a) the identity
/// contains the key itself.
/// </para>
/// <para>
/// Found with Microsoft.Orleans 10.4.2: integer keys are formatted with upper-case hex and no
/// leading zeros (10 is "A", so "a", "0A" and "010" fold and are escaped); the parser accepts
/// either case and any number of leading zeros. GUID keys are formatted lower-case without
/// dashes ("N"); an upper-case GUID text also parses and is escaped.
/// </para>
/// </remarks>
internal static class StorageKeys
{
    /// <summary>The prefix of an escaped key. It is not a hex digit, so an escaped key is always a string key.</summary>
    public const char Escape = '~';

    /// <summary>Any grain type: the provider's key identity ignores it.</summary>
    private static readonly GrainType AnyType = GrainType.Create("storage-key");

    /// <summary>The grain id whose key the state of <paramref name="grainId"/> is stored under.</summary>
    public static GrainId ToStorageId(GrainId grainId)
    {
        if (IsKept(grainId))
        {
            return grainId;
        }

        var key = grainId.Key.AsSpan();
        var escaped = new byte[key.Length + 1];
        escaped[0] = (byte)Escape;
        key.CopyTo(escaped.AsSpan(1));
        return GrainId.Create(grainId.Type, new IdSpan(escaped));
    }

    /// <summary>The key the state of a grain with key text <paramref name="key"/> is stored under.</summary>
    public static string ToStorageKey(string key) => ToStorageId(GrainId.Create(AnyType, IdSpan.Create(key))).Key.ToString();

    /// <summary>True when the key is stored as it is (see the rule above).</summary>
    public static bool IsKept(GrainId grainId)
    {
        var key = grainId.Key;
        if (key.AsSpan() is [(byte)Escape, ..])
        {
            return false;
        }

        // The provider's own order: GUID first, then integer, else string.
        if (grainId.TryGetGuidKey(out var guid, out var extension))
        {
            return GrainIdKeyExtensions.CreateGuidKey(guid, extension).Equals(key) && FirstHalfIsNotZero(guid);
        }

        if (grainId.TryGetIntegerKey(out var value, out extension))
        {
            return GrainIdKeyExtensions.CreateIntegerKey(value, extension).Equals(key) && (value != 0 || extension is null);
        }

        return true;
    }

    /// <summary>N0 of the provider: the first 8 bytes of <see cref="Guid.ToByteArray()"/>.</summary>
    private static bool FirstHalfIsNotZero(Guid guid)
    {
        Span<byte> bytes = stackalloc byte[16];
        guid.TryWriteBytes(bytes);
        return bytes[..8].ContainsAnyExcept((byte)0);
    }
}
