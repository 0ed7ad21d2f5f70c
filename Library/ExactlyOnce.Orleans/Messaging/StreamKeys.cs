using System.Globalization;

namespace ExactlyOnce.Messaging;

/// <summary>
/// The stream key of a component's grain key, as Orleans' implicit subscriptions map stream keys
/// to grains: a string key as it is, a Guid in its 32-digit form (<c>"N"</c>), an integer in
/// decimal. Send to a component with these (<see cref="OutgoingMessages.Send{T}(string, string, Func{Guid, T})"/>),
/// so the message reaches the grain with that key.
/// </summary>
public static class StreamKeys
{
    /// <summary>The stream key of the component with Guid key <paramref name="key"/>.</summary>
    public static string Of(Guid key) => key.ToString("N");

    /// <summary>The stream key of the component with integer key <paramref name="key"/>.</summary>
    public static string Of(long key) => key.ToString(CultureInfo.InvariantCulture);

    /// <summary>The stream key a component grain consumes: its own key, in the form above.</summary>
    internal static string Of(Grain grain) => grain switch
    {
        IGrainWithGuidKey => Of(grain.GetPrimaryKey()),
        IGrainWithIntegerKey => Of(grain.GetPrimaryKeyLong()),
        IGrainWithStringKey => grain.GetPrimaryKeyString(),
        _ => throw new NotSupportedException(
            $"{grain.GetType().Name}: a component's grain interface must derive from IGrainWithStringKey, IGrainWithGuidKey or IGrainWithIntegerKey (compound keys are not supported)"),
    };
}
