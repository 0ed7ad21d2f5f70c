using ExactlyOnce.Grains;
using ExactlyOnce.Grains.Billing;
using ExactlyOnce.Faults;
using ExactlyOnce.Grains.Messages;
using ExactlyOnce.Grains.Orders;
using ExactlyOnce.Client.Commands;
using ExactlyOnce.Client.Verification;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Configuration;
using Orleans.Runtime;
using Orleans.Streams;

namespace ExactlyOnce.Tests.Infrastructure;

/// <summary>Drives the order → billing pipeline from a test: publish, set faults, wait and read.</summary>
public sealed class PipelineDriver(IClusterClient client, TestDatabase db)
{
    public IClusterClient Client => client;

    public Task PublishAsync(OrderCommand command) => PublishRawAsync(StreamNamespaces.Orders, command.OrderId, command);

    /// <summary>Publishes any object, valid or not, as a misbehaving sender would.</summary>
    public Task PublishRawAsync(string streamNamespace, string key, object item) =>
        client.GetStreamProvider(OrleansNames.StreamProvider).GetStream<object>(StreamId.Create(streamNamespace, key)).OnNextAsync(item);

    public Task<OrderView> OrderAsync(string orderId) => client.GetGrain<IOrderGrain>(orderId).GetOrder();

    public Task<BillView> BillAsync(string orderId) => client.GetGrain<IBillingGrain>(orderId).GetBill();

    public Task<BillView> WaitForBillAsync(string orderId, Func<BillView, bool> done, TimeSpan? timeout = null, string? what = null) =>
        Eventually.WaitForAsync(() => BillAsync(orderId), done, timeout ?? TimeSpan.FromSeconds(60), what ?? $"the bill of {orderId}");

    public Task<OrderView> WaitForOrderAsync(string orderId, Func<OrderView, bool> done, TimeSpan? timeout = null, string? what = null) =>
        Eventually.WaitForAsync(() => OrderAsync(orderId), done, timeout ?? TimeSpan.FromSeconds(60), what ?? $"the order {orderId}");

    /// <summary>Arms fault rules cluster-wide and waits until every active silo applied them.</summary>
    public async Task SetFaultsAsync(params string[] rules)
    {
        var control = client.GetGrain<IFaultControlGrain>(0);
        var version = await control.Set(rules.Select(FaultRule.Parse).ToList());
        await WaitAppliedAsync(version);
    }

    public async Task ClearFaultsAsync()
    {
        var version = await client.GetGrain<IFaultControlGrain>(0).Clear();
        await WaitAppliedAsync(version);
    }

    /// <summary>Every published copy of one message id: (component, payload json).</summary>
    public async Task<List<(string Component, string Payload)>> SentCopiesAsync(Guid messageId) =>
        (await db.QueryAsync($"SELECT Component, Payload FROM ExactlyOnceSentMessage WHERE MessageId = '{messageId}' ORDER BY Id"))
        .Select(r => ((string)r[0]!, (string)r[1]!)).ToList();

    /// <summary>Every published copy caused on the billing stream of an order.</summary>
    public async Task<List<(Guid MessageId, string Payload)>> SentToBillingAsync(string orderId) =>
        (await db.QueryAsync($"SELECT MessageId, Payload FROM ExactlyOnceSentMessage WHERE StreamNamespace = 'billing' AND StreamKey = '{orderId}' ORDER BY Id"))
        .Select(r => ((Guid)r[0]!, (string)r[1]!)).ToList();

    /// <summary>Faults fired so far on all silos (as last reported, once a second).</summary>
    public async Task<long> FaultsFiredAsync() => (await client.GetGrain<IFaultControlGrain>(0).Get()).TotalFired;

    /// <summary>
    /// Waits until the service's stream messages are all confirmed and the orders and bills have
    /// nothing pending or held back, twice in a row one second apart (the same judge as the client's verify).
    /// </summary>
    public async Task WaitForQuiescenceAsync(IReadOnlyCollection<string> orderIds, TimeSpan timeout)
    {
        var serviceId = client.ServiceProvider.GetRequiredService<IOptions<ClusterOptions>>().Value.ServiceId;
        await using var database = NpgsqlDataSource.Create(db.ConnectionString);
        var inspector = new ClusterInspector(client, database, serviceId);
        var last = "nothing reported";
        if (!await inspector.WaitForQuiescenceAsync(orderIds, timeout, progress: p => last = p, CancellationToken.None))
        {
            throw new TimeoutException($"no quiescence within {timeout}; last seen: {last}");
        }
    }

    /// <summary>Rows of this project's dead letters (invalid messages): (message id, reason).</summary>
    public async Task<List<(Guid? MessageId, string Reason)>> RejectedAsync() =>
        (await db.QueryAsync("SELECT MessageId, Reason FROM ExactlyOnceRejectedMessage ORDER BY Id"))
        .Select(r => ((Guid?)r[0], (string)r[1]!)).ToList();

    /// <summary>Messages the stream provider moved to its dead-letter table.</summary>
    public Task<long> StreamDeadLettersAsync() => db.ScalarAsync<long>("SELECT count(*) FROM orleansstreamdeadletter");

    private async Task WaitAppliedAsync(int version)
    {
        if (!await FaultsCommands.WaitAppliedAsync(client, version, CancellationToken.None, TimeSpan.FromSeconds(30)))
        {
            throw new TimeoutException($"not every silo applied fault rules version {version} within 30 s");
        }
    }
}
