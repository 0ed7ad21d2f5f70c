using ExactlyOnce;
using ExactlyOnce.Messaging;

namespace Loyalty;

/// <summary>A customer (a Guid) earned points; its rewards go to its account (a number).</summary>
[GenerateSerializer, Immutable, Alias("loyalty.earn-points")]
public sealed record EarnPoints([property: Id(0)] Guid MessageId, [property: Id(1)] Guid Customer, [property: Id(2)] long Account, [property: Id(3)] int Points) : IMessage
{
    [Id(4)] public string? ProducerId { get; init; }
    [Id(5)] public long Sequence { get; init; }
    public IMessage WithSequence(string producerId, long sequence) => this with { ProducerId = producerId, Sequence = sequence };
}

/// <summary>Sent by the loyalty component for every award, with the customer's new total (stream rewards/account).</summary>
[GenerateSerializer, Immutable, Alias("loyalty.points-awarded")]
public sealed record PointsAwarded([property: Id(0)] Guid MessageId, [property: Id(1)] long Account, [property: Id(2)] int Total) : IMessage
{
    [Id(3)] public string? ProducerId { get; init; }
    [Id(4)] public long Sequence { get; init; }
    public IMessage WithSequence(string producerId, long sequence) => this with { ProducerId = producerId, Sequence = sequence };
}

[GenerateSerializer]
public sealed class Points
{
    [Id(0)] public int Total { get; set; }
    [Id(1)] public int Awards { get; set; }
}

public sealed class LoyaltyLogic : IComponentLogic<Points, EarnPoints>
{
    public string Component => "loyalty";
    public string StreamNamespace => "loyalty";
    public IReadOnlySet<string> OutputStreams { get; } = new HashSet<string> { "rewards", "milestones" };
    public Points Clone(Points data) => new() { Total = data.Total, Awards = data.Awards };
    public string? Validate(EarnPoints message, string streamKey) =>
        message.Points <= 0 ? "points must be positive" : StreamKeys.Of(message.Customer) != streamKey ? "sent to another customer's stream" : null;

    public Points Handle(Points data, EarnPoints message, OutgoingMessages outgoing)
    {
        data.Total += message.Points;
        data.Awards++;
        outgoing.Send("rewards", StreamKeys.Of(message.Account), id => new PointsAwarded(id, message.Account, data.Total));
        if (data.Awards % 5 == 0) // the same producer, to the rewards component's second input
            outgoing.Send("milestones", StreamKeys.Of(message.Account), id => new Milestone(id, message.Account, data.Awards));
        return data;
    }
}

public interface ILoyaltyGrain : IExactlyOnceReceiver, IGrainWithGuidKey
{
    Task<Points> GetPoints();
}

[ImplicitStreamSubscription("loyalty")]
public sealed class LoyaltyGrain(
    [PersistentState("loyalty", ExactlyOnceNames.GrainStorage)] IPersistentState<ComponentState<Points>> state, MessagingServices services)
    : ExactlyOnceGrain<Points, EarnPoints>(state, new LoyaltyLogic(), services), ILoyaltyGrain
{
    public Task<Points> GetPoints() => Task.FromResult(State.Data);
}
