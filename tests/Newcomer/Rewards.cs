using ExactlyOnce;
using ExactlyOnce.Messaging;

namespace Loyalty;

/// <summary>A second component (integer keys: the account), consuming what the loyalty component sends: how many awards arrived, and the last total.</summary>
[GenerateSerializer]
public sealed class Rewards
{
    [Id(0)] public int Received { get; set; }
    [Id(1)] public int LastTotal { get; set; }
}

public sealed class RewardsLogic : IComponentLogic<Rewards, PointsAwarded>
{
    public string Component => "rewards";
    public string StreamNamespace => "rewards";
    public IReadOnlySet<string> OutputStreams { get; } = new HashSet<string>();
    public Rewards Clone(Rewards data) => new() { Received = data.Received, LastTotal = data.LastTotal };
    public string? Validate(PointsAwarded message, string streamKey) => StreamKeys.Of(message.Account) == streamKey ? null : "sent to another account's stream";

    public Rewards Handle(Rewards data, PointsAwarded message, OutgoingMessages outgoing)
    {
        // Applied in send order: each total is above the one before.
        if (message.Total <= data.LastTotal)
        {
            throw new InvalidOperationException($"award totals out of order: {message.Total} after {data.LastTotal}");
        }

        data.Received++;
        data.LastTotal = message.Total;
        return data;
    }
}

public interface IRewardsGrain : IExactlyOnceReceiver, IGrainWithIntegerKey
{
    Task<Rewards> GetRewards();
}

[ImplicitStreamSubscription("rewards")]
public sealed class RewardsGrain(
    [PersistentState("rewards", ExactlyOnceNames.GrainStorage)] IPersistentState<ComponentState<Rewards>> state, MessagingServices services)
    : ExactlyOnceGrain<Rewards, PointsAwarded>(state, new RewardsLogic(), services), IRewardsGrain
{
    public Task<Rewards> GetRewards() => Task.FromResult(State.Data);
}
