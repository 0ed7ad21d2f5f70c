using System.Reflection;
using CsCheck;
using ExactlyOnce.PostgreSql;
using ExactlyOnce.Silo.Storage;
using Orleans.Runtime;
using Orleans.Storage;

namespace ExactlyOnce.Tests.Storage;

/// <summary>
/// The key mapping in front of the ADO.NET grain storage. "Stored identity" below is what the
/// provider itself computes from a key, (N0, N1, extension): its private key function is called
/// by reflection, so these tests judge the mapping against the real 10.4.2 behaviour.
/// </summary>
[Trait("Kind", "Unit")]
public sealed class StorageKeysTests
{
    private static readonly GrainType Order = GrainType.Create("order");

    private static readonly MethodInfo ProviderKey =
        typeof(AdoNetGrainStorage).GetMethod("GrainIdAndExtensionAsString", BindingFlags.NonPublic | BindingFlags.Static)
        ?? throw new InvalidOperationException("AdoNetGrainStorage.GrainIdAndExtensionAsString is gone: re-check the provider's key identity (issue 9706).");

    /// <summary>The row identity the provider computes for a grain key.</summary>
    private static (long N0, long N1, string? Extension) StoredIdentity(string key)
    {
        var adoKey = ProviderKey.Invoke(null, [GrainId.Create(Order, IdSpan.Create(key))])!;
        object? Get(string property) => adoKey.GetType().GetProperty(property)!.GetValue(adoKey);
        return ((long)Get("N0Key")!, (long)Get("N1Key")!, (string?)Get("StringKey"));
    }

    private static (long, long, string?) StoredIdentityAfterMapping(string key) => StoredIdentity(StorageKeys.ToStorageKey(key));

    [Fact]
    public void Should_fold_distinct_keys_into_one_row_without_the_mapping()
    {
        // The problem being solved, as the provider behaves (if this fails, the provider changed).
        Assert.Equal(StoredIdentity("1"), StoredIdentity("01"));
        Assert.Equal(StoredIdentity("A"), StoredIdentity("0a"));
        Assert.Equal(StoredIdentity("ff+x"), StoredIdentity("FF+x"));
        Assert.Equal(StoredIdentity("xyz"), StoredIdentity("0+xyz"));
        Assert.Equal(StoredIdentity("0"), StoredIdentity(Guid.Empty.ToString("N")));
        Assert.Equal(StoredIdentity("1"), StoredIdentity("00000000000000000100000000000000"));
    }

    [Theory]
    [InlineData("1")]
    [InlineData("A")]
    [InlineData("2A")]
    [InlineData("10")]
    [InlineData("0")]
    [InlineData("FFFFFFFFFFFFFFFF")]
    [InlineData("A+ext")]
    [InlineData("1+~x")]
    [InlineData("xyz")]
    [InlineData("order-17")]
    [InlineData("dup-1")]
    [InlineData("")]
    [InlineData("+x")]
    [InlineData("0x1")]
    [InlineData("-1")]
    [InlineData("abcdef0123456789abcdef0123456789")]
    [InlineData("abcdef0123456789abcdef0123456789+ext")]
    public void Should_keep_keys_that_do_not_fold(string key)
    {
        Assert.Equal(key, StorageKeys.ToStorageKey(key));
    }

    [Fact]
    public void Should_keep_the_keys_Orleans_creates_for_integer_and_guid_grains()
    {
        // Integer- and Guid-keyed grains (and rows written before the mapping existed) keep their rows.
        // Documented exceptions: integer 0 with an extension, GUIDs whose first 8 bytes are zero.
        Gen.Long.Sample(value => Assert.True(StorageKeys.IsKept(GrainId.Create(Order, GrainIdKeyExtensions.CreateIntegerKey(value)))));
        Gen.Select(Gen.Long, Gen.String[Gen.Char["ab+~ "], 1, 6]).Where(t => t.Item1 != 0 && !string.IsNullOrWhiteSpace(t.Item2)).Sample((value, extension) =>
            Assert.True(StorageKeys.IsKept(GrainId.Create(Order, GrainIdKeyExtensions.CreateIntegerKey(value, extension)))));
        Gen.Guid.Sample(guid => Assert.True(StorageKeys.IsKept(GrainId.Create(Order, GrainIdKeyExtensions.CreateGuidKey(guid)))));
    }

    [Theory]
    [InlineData("1", "01")]
    [InlineData("10", "010")]
    [InlineData("a", "0a")]
    [InlineData("A", "0A")]
    [InlineData("A", "a")]
    [InlineData("ff+x", "FF+x")]
    [InlineData("1", "000000000000000000000000000000001")]
    [InlineData("xyz", "0+xyz")]
    [InlineData("0", "00000000000000000000000000000000")]
    [InlineData("1", "00000000000000000100000000000000")]
    [InlineData("01", "0+~01")]
    [InlineData("abcdef0123456789abcdef0123456789", "ABCDEF0123456789ABCDEF0123456789")]
    public void Should_store_keys_that_fold_together_under_distinct_rows(string key, string other)
    {
        Assert.NotEqual(StorageKeys.ToStorageKey(key), StorageKeys.ToStorageKey(other));
        Assert.NotEqual(StoredIdentityAfterMapping(key), StoredIdentityAfterMapping(other));
    }

    [Theory]
    [InlineData("01", "~01")]
    [InlineData("010", "~010")]
    [InlineData("0a", "~0a")]
    [InlineData("a", "~a")]
    [InlineData("0A", "~0A")]
    [InlineData("ff+x", "~ff+x")]
    [InlineData("1+", "~1+")]
    [InlineData("0+xyz", "~0+xyz")]
    [InlineData("ABCDEF0123456789ABCDEF0123456789", "~ABCDEF0123456789ABCDEF0123456789")]
    [InlineData("00000000000000000000000000000000", "~00000000000000000000000000000000")]
    public void Should_escape_keys_that_are_not_what_Orleans_formats(string key, string stored)
    {
        Assert.Equal(stored, StorageKeys.ToStorageKey(key));
    }

    [Theory]
    [InlineData("~")]
    [InlineData("~1")]
    [InlineData("~01")]
    [InlineData("~~a")]
    [InlineData("~order-1")]
    public void Should_escape_every_key_that_starts_with_the_escape_character(string key)
    {
        Assert.Equal("~" + key, StorageKeys.ToStorageKey(key));
        Assert.Equal((0L, 0L, "~" + key), StoredIdentityAfterMapping(key));
    }

    [Fact]
    public void Should_give_distinct_rows_to_every_short_key()
    {
        // Exhaustive over every key of up to 4 characters from an alphabet of hex digits in both
        // cases, the extension separator, the escape character and a non-hex letter, plus GUID texts.
        const string alphabet = "01aA+~x";
        var keys = new List<string> { "" };
        for (var length = 1; length <= 4; length++)
        {
            keys.AddRange(keys.Where(k => k.Length == length - 1).SelectMany(k => alphabet.Select(c => k + c)).ToList());
        }

        foreach (var guid in new[] { Guid.Empty, Guid.Parse("00000000-0000-0000-0100-000000000000"), Guid.Parse("0a000000-0000-0000-0000-000000000000") })
        {
            foreach (var suffix in new[] { "", "+", "+x", "+~" })
            {
                keys.Add(guid.ToString("N") + suffix);
                keys.Add(guid.ToString("N").ToUpperInvariant() + suffix);
                keys.Add("~" + guid.ToString("N") + suffix);
            }
        }

        AssertDistinctRows(keys);
    }

    [Fact]
    public void Should_give_distinct_rows_to_distinct_keys()
    {
        // Small alphabets on purpose, so that different kinds of key often meet on the same row.
        var hex = Gen.OneOf(Gen.String[Gen.Char["0aA1"], 0, 3], Gen.String[Gen.Char["0123456789abcdefABCDEF"], 0, 18]);
        var integerLike = Gen.Select(Gen.Int[0, 3], hex, (zeros, digits) => new string('0', zeros) + digits);
        var guidLike = Gen.Select(Gen.Guid, Gen.Bool, Gen.Bool, (guid, upper, zeroHalf) =>
        {
            var text = guid.ToString("N");
            text = zeroHalf ? new string('0', 16) + text[16..] : text;
            return upper ? text.ToUpperInvariant() : text;
        });
        var plain = Gen.String[Gen.Char["0aAx+~"], 0, 4];
        var extension = Gen.OneOf(Gen.Const(""), plain.Select(e => "+" + e));
        var key = Gen.Select(Gen.OneOf(integerLike, guidLike, plain), extension, Gen.Int[0, 2], (head, tail, escapes) => new string('~', escapes) + head + tail);

        key.List[2, 60].Sample(AssertDistinctRows, iter: 500);
    }

    private static void AssertDistinctRows(IEnumerable<string> keys)
    {
        var byRow = new Dictionary<(long, long, string?), string>();
        foreach (var key in keys.Distinct(StringComparer.Ordinal))
        {
            var row = StoredIdentityAfterMapping(key);
            if (!byRow.TryAdd(row, key))
            {
                Assert.Fail($"keys \"{byRow[row]}\" and \"{key}\" are stored under the same row {row}");
            }
        }
    }

    [Fact]
    public async Task Should_forward_every_call_to_the_inner_storage_with_the_storage_key()
    {
        var inner = new RecordingStorage();
        IGrainStorage storage = new DistinctKeyGrainStorage(inner);
        var state = new GrainState<int>();
        var kept = GrainId.Create(Order, "1");
        var folded = GrainId.Create(Order, "01");
        using var cancellation = new CancellationTokenSource();

        await storage.ReadStateAsync("order", kept, state);
        await storage.WriteStateAsync("order", folded, state);
        await storage.ClearStateAsync("order", folded, state);
        await storage.ReadStateAsync("order", folded, state, cancellation.Token);
        await storage.WriteStateAsync("order", kept, state, cancellation.Token);
        await storage.ClearStateAsync("order", folded, state, cancellation.Token);

        Assert.Equal(
            new (string, string, string, bool)[]
            {
                ("read", "order", "order/1", false),
                ("write", "order", "order/~01", false),
                ("clear", "order", "order/~01", false),
                ("read", "order", "order/~01", true),
                ("write", "order", "order/1", true),
                ("clear", "order", "order/~01", true),
            },
            inner.Calls);
    }

    /// <summary>Records (operation, state name, grain id, whether the caller's token arrived).</summary>
    private sealed class RecordingStorage : IGrainStorage
    {
        public List<(string, string, string, bool)> Calls { get; } = [];

        public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => Record("read", stateName, grainId, false);

        public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken) =>
            Record("read", stateName, grainId, cancellationToken.CanBeCanceled);

        public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => Record("write", stateName, grainId, false);

        public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken) =>
            Record("write", stateName, grainId, cancellationToken.CanBeCanceled);

        public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => Record("clear", stateName, grainId, false);

        public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken) =>
            Record("clear", stateName, grainId, cancellationToken.CanBeCanceled);

        private Task Record(string operation, string stateName, GrainId grainId, bool token)
        {
            Calls.Add((operation, stateName, grainId.ToString(), token));
            return Task.CompletedTask;
        }
    }
}
