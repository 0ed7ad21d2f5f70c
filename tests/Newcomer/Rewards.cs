using ExactlyOnce;
using ExactlyOnce.Messaging;

namespace Loyalty;

/// <summary>Sent by the loyalty component on every 5th award of a customer (stream milestones/account).</summary>
[GenerateSerializer, Immutable, Alias("loyalty.milestone")]
public sealed record Milestone([property: Id(0)] Guid MessageId, [property: Id(1)] long Account, [property: Id(2)] int Awards) : IMessage
{
    [Id(3)] public string? ProducerId { get; init; }
    [Id(4)] public long Sequence { get; init; }
    public IMessage WithSequence(string producerId, long sequence) => this with { ProducerId = producerId, Sequence = sequence };
}

/// <summary>
/// A second component (integer keys: the account) with two input streams, both fed by the loyalty
/// component: the awards (how many arrived, and the last total) and the milestones.
/// </summary>
[GenerateSerializer]
public sealed class Rewards
{
    [Id(0)] public int Received { get; set; }
    [Id(1)] public int LastTotal { get; set; }
    [Id(2)] public int Milestones { get; set; }
}

public sealed class RewardsLogic : IComponentLogic<Rewards, IMessage>
{
    public string Component => "rewards";
    public string StreamNamespace => "rewards";
    public IReadOnlyList<string> InputStreams { get; } = ["rewards", "milestones"];
    public IReadOnlySet<string> OutputStreams { get; } = new HashSet<string>();
    public Rewards Clone(Rewards data) => new() { Received = data.Received, LastTotal = data.LastTotal, Milestones = data.Milestones };

    public string? Validate(IMessage message, string streamKey) => message switch
    {
        PointsAwarded award => StreamKeys.Of(award.Account) == streamKey ? null : "sent to another account's stream",
        Milestone milestone => StreamKeys.Of(milestone.Account) == streamKey ? null : "sent to another account's stream",
        _ => $"unexpected {message.GetType().Name}",
    };

    public Rewards Handle(Rewards data, IMessage message, OutgoingMessages outgoing)
    {
        // Each stream is applied in send order: each total, and each milestone, is above the one before.
        switch (message)
        {
            case PointsAwarded award when award.Total <= data.LastTotal:
                throw new InvalidOperationException($"award totals out of order: {award.Total} after {data.LastTotal}");
            case PointsAwarded award:
                data.Received++;
                data.LastTotal = award.Total;
                break;
            case Milestone milestone when milestone.Awards != 5 * (data.Milestones + 1):
                throw new InvalidOperationException($"milestone {milestone.Awards} after {data.Milestones} milestones");
            case Milestone:
                data.Milestones++;
                break;
        }

        return data;
    }
}

public interface IRewardsGrain : IExactlyOnceReceiver, IGrainWithIntegerKey
{
    Task<Rewards> GetRewards();
}

[ImplicitStreamSubscription("rewards")]
[ImplicitStreamSubscription("milestones")]
public sealed class RewardsGrain(
    [PersistentState("rewards", ExactlyOnceNames.GrainStorage)] IPersistentState<ComponentState<Rewards>> state, MessagingServices services)
    : ExactlyOnceGrain<Rewards, IMessage>(state, new RewardsLogic(), services), IRewardsGrain
{
    public Task<Rewards> GetRewards() => Task.FromResult(State.Data);
}
