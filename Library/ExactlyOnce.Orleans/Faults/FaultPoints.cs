namespace ExactlyOnce.Faults;

/// <summary>The named places in the processing pipeline where a fault can be injected.</summary>
public static class FaultPoints
{
    /// <summary>After the handler ran, before the state write.</summary>
    public const string BeforeCommit = "before-commit";

    /// <summary>After the state write, before the outgoing messages are published.</summary>
    public const string AfterCommit = "after-commit";

    /// <summary>After publishing, before the outbox is cleared.</summary>
    public const string AfterDispatch = "after-dispatch";

    /// <summary>At the very end, before the incoming message is acknowledged.</summary>
    public const string BeforeAck = "before-ack";

    /// <summary>All points, in pipeline order.</summary>
    public static readonly IReadOnlyList<string> All = [BeforeCommit, AfterCommit, AfterDispatch, BeforeAck];
}

/// <summary>What happens when a fault fires.</summary>
public enum FaultAction
{
    /// <summary>An infrastructure failure is thrown inside the grain: transient, retried until the fault is cleared, then applied.</summary>
    Throw = 0,

    /// <summary>The silo process dies at once, with no cleanup (SIGKILL to itself).</summary>
    Crash = 1,

    /// <summary>A handler bug is thrown inside the grain: dead-lettered after the recoverability policy's retries.</summary>
    Poison = 2,
}

/// <summary>One armed fault point.</summary>
/// <param name="Point">One of <see cref="FaultPoints.All"/>.</param>
/// <param name="Probability">Chance from 0 to 1 that the fault fires each time the point is passed.</param>
/// <param name="Action">Throw (transient), poison (handler bug) or crash.</param>
/// <param name="OnlyMessageId">When set, the rule fires only for this incoming message id (a poison message).</param>
/// <param name="OnlyComponent">When set, the rule fires only in this component (order, billing).</param>
[GenerateSerializer, Immutable, Alias("fault-rule")]
public sealed record FaultRule(
    [property: Id(0)] string Point,
    [property: Id(1)] double Probability,
    [property: Id(2)] FaultAction Action,
    [property: Id(3)] Guid? OnlyMessageId = null,
    [property: Id(4)] string? OnlyComponent = null)
{
    /// <summary>
    /// Parses <c>point=probability[:throw|poison|crash][@message-id|@component]</c>; throws
    /// <see cref="FormatException"/> with a readable reason.
    /// </summary>
    public static FaultRule Parse(string text)
    {
        Guid? onlyMessage = null;
        string? onlyComponent = null;
        var at = text.IndexOf('@');
        if (at >= 0)
        {
            var target = text[(at + 1)..].Trim();
            text = text[..at];
            if (Guid.TryParse(target, out var id))
            {
                onlyMessage = id;
            }
            else if (target.Length > 0 && target.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
            {
                onlyComponent = target;
            }
            else
            {
                throw new FormatException($"'@{target}' is neither a message id nor a component name");
            }
        }

        var parts = text.Split('=', 2);
        if (parts.Length != 2)
        {
            throw new FormatException($"'{text}' is not point=probability[:throw|poison|crash]");
        }

        var point = parts[0].Trim();
        if (!FaultPoints.All.Contains(point))
        {
            throw new FormatException($"unknown fault point '{point}'; points: {string.Join(", ", FaultPoints.All)}");
        }

        var valueParts = parts[1].Split(':', 2);
        if (!double.TryParse(valueParts[0], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var probability)
            || probability is < 0 or > 1 || double.IsNaN(probability))
        {
            throw new FormatException($"probability '{valueParts[0]}' of {point} must be a number from 0 to 1");
        }

        var action = FaultAction.Throw;
        if (valueParts.Length == 2)
        {
            action = valueParts[1].Trim().ToLowerInvariant() switch
            {
                "throw" => FaultAction.Throw,
                "crash" => FaultAction.Crash,
                "poison" => FaultAction.Poison,
                var other => throw new FormatException($"unknown fault action '{other}'; actions: throw, poison, crash"),
            };
        }

        return new FaultRule(point, probability, action, onlyMessage, onlyComponent);
    }

    /// <summary>True when the rule applies to this point, component and message.</summary>
    public bool Matches(string point, string component, Guid messageId) =>
        Point == point
        && (OnlyMessageId is null || OnlyMessageId == messageId)
        && (OnlyComponent is null || OnlyComponent == component);

    /// <summary>The rule in the syntax <see cref="Parse"/> reads.</summary>
    public override string ToString()
    {
        var text = $"{Point}={Probability.ToString(System.Globalization.CultureInfo.InvariantCulture)}:{Action.ToString().ToLowerInvariant()}";
        return OnlyMessageId is { } id ? $"{text}@{id}" : OnlyComponent is { } c ? $"{text}@{c}" : text;
    }
}
