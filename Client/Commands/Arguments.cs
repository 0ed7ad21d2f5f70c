using ExactlyOnce.Faults;
using ExactlyOnce.Grains.Messages;
using ExactlyOnce.Messaging;

namespace ExactlyOnce.Client.Commands;

/// <summary>Parsing of the values users type, with one-line reasons.</summary>
public static class Arguments
{
    /// <summary>Names of the fillings as users type them.</summary>
    public static string FillingNames => string.Join(", ", Enum.GetNames<Filling>());

    public static Filling ParseFilling(string? text)
    {
        if (!string.IsNullOrWhiteSpace(text) && !text.Any(char.IsDigit) && Enum.TryParse<Filling>(text.Trim(), ignoreCase: true, out var filling) && Enum.IsDefined(filling))
        {
            return filling;
        }

        throw new UsageException($"unknown filling '{text}'; fillings: {FillingNames}");
    }

    public static DeliveryMode ParseMode(string? text) => text?.Trim().ToLowerInvariant() switch
    {
        null or "" or "exactly-once" => DeliveryMode.ExactlyOnce,
        "at-least-once" => DeliveryMode.AtLeastOnce,
        "at-most-once" => DeliveryMode.AtMostOnce,
        _ => throw new UsageException($"unknown mode '{text}'; modes: exactly-once, at-least-once, at-most-once"),
    };

    public static string ModeName(DeliveryMode mode) => mode switch
    {
        DeliveryMode.ExactlyOnce => "exactly-once",
        DeliveryMode.AtLeastOnce => "at-least-once",
        DeliveryMode.AtMostOnce => "at-most-once",
        _ => mode.ToString(),
    };

    public static Guid ParseId(string? text, string what)
    {
        if (Guid.TryParse(text, out var id) && id != Guid.Empty)
        {
            return id;
        }

        throw new UsageException($"malformed {what} '{text}': expected a non-empty GUID such as {Guid.NewGuid()}");
    }

    public static string RequireOrderId(string? text)
    {
        if (string.IsNullOrWhiteSpace(text) || text.Length > 200 || text.Any(char.IsControl))
        {
            throw new UsageException($"bad order id '{text}': 1 to 200 printable characters");
        }

        return text.Trim();
    }

    public static FaultRule ParseFaultRule(string text)
    {
        try
        {
            return FaultRule.Parse(text);
        }
        catch (FormatException ex)
        {
            throw new UsageException($"bad fault rule: {ex.Message}");
        }
    }

    /// <summary>A fraction such as --duplicates: 0 to 1, not NaN.</summary>
    public static void RequireFraction(double value, string option)
    {
        if (value is < 0 or > 1 || double.IsNaN(value))
        {
            throw new UsageException($"{option} must be a fraction from 0 to 1, not {value}");
        }
    }

    public static void RequireRange(long value, long min, long max, string option)
    {
        if (value < min || value > max)
        {
            throw new UsageException($"{option} must be between {min} and {max}, not {value}");
        }
    }
}
