using CsCheck;
using ExactlyOnce.Grains.Billing;
using ExactlyOnce.Faults;
using ExactlyOnce.Grains.Messages;
using ExactlyOnce.Messaging;
using ExactlyOnce.Grains.Orders;

namespace ExactlyOnce.Tests.Core;

/// <summary>
/// Property: whatever the adds and removes, duplicate re-sends and faults (throws and crashes at
/// any point, in either component), the final order and bill equal those of processing each unique
/// id once. Streams are simulated in memory: a message stays at the head of its queue until its
/// delivery returns; a crash loses the component's memory, not its storage.
/// </summary>
[Trait("Kind", "Unit")]
public sealed class ExactlyOnceProperties
{
    private sealed record Step(bool Add, Filling Filling, bool ResendLater);

    private sealed record Scenario(List<Step> Steps, double FaultProbability, bool Crashes, int Seed);

    private static readonly Gen<Scenario> Scenarios =
        from steps in Gen.Select(Gen.Bool, Gen.Int[1, 5], Gen.Bool, (add, filling, resend) => new Step(add, (Filling)filling, resend)).List[1, 25]
        from probability in Gen.Double[0.0, 0.35]
        from crashes in Gen.Bool
        from seed in Gen.Int
        select new Scenario(steps, probability, crashes, seed);

    [Fact]
    public void Final_order_and_bill_equal_processing_each_unique_id_once()
    {
        Scenarios.Sample(scenario => RunAsync(scenario).GetAwaiter().GetResult(), iter: 300);
    }

    private static async Task<bool> RunAsync(Scenario scenario)
    {
        var rng = new Random(scenario.Seed);
        var clock = new ManualClock(DateTimeOffset.UnixEpoch);
        var faults = new SimulatedFaults(rng, scenario.FaultProbability, scenario.Crashes);

        var billingQueue = new List<BillingEvent>();
        ComponentHarness<OrderData, OrderCommand>? order = null;
        var orderPublisher = new FakePublisher
        {
            OnPublish = p =>
            {
                // NoGhostMessages: whatever leaves the order was committed in its stored outbox first.
                Assert.Contains(order!.Store.Persisted.Outbox, e => e.MessageId == p.Message.MessageId && Equals(e.Payload, p.Message));
                billingQueue.Add((BillingEvent)p.Message);
            },
        };
        order = new ComponentHarness<OrderData, OrderCommand>(OrderLogic.Instance, orderPublisher, new FakeFaults { Decide = faults.Decide }, clock);
        var billing = new ComponentHarness<BillData, BillingEvent>(BillingLogic.Instance, new FakePublisher(), new FakeFaults { Decide = faults.Decide }, clock);

        // The sender's sequence: each command once, some re-sent later with the same id.
        var unique = scenario.Steps.Select(s => s.Add
            ? (OrderCommand)new AddItem(NewId(rng), "o1", s.Filling)
            : new RemoveItem(NewId(rng), "o1", s.Filling)).ToList();
        var orderQueue = new List<OrderCommand>(unique);
        for (var i = 0; i < unique.Count; i++)
        {
            if (scenario.Steps[i].ResendLater)
            {
                orderQueue.Insert(rng.Next(i + 1, orderQueue.Count + 1), unique[i]);
            }
        }

        // The reference order: each id at its first position in the delivery sequence.
        var firstDeliveries = orderQueue.DistinctBy(c => c.MessageId).ToList();
        for (var step = 0; orderQueue.Count + billingQueue.Count > 0; step++)
        {
            Assert.True(step < 20_000, "the simulation did not drain");
            faults.On = step < 400;
            var pickOrder = billingQueue.Count == 0 || (orderQueue.Count > 0 && rng.Next(2) == 0);
            try
            {
                if (pickOrder)
                {
                    await order.DeliverAsync(orderQueue[0]);
                    orderQueue.RemoveAt(0);
                }
                else
                {
                    await billing.DeliverAsync(billingQueue[0]);
                    billingQueue.RemoveAt(0);
                }
            }
            catch (SimulatedFaults.SimulatedCrash)
            {
                await (pickOrder ? order.CrashAndRecoverAsync() : billing.CrashAndRecoverAsync());
            }
            catch (SimulatedFaultException)
            {
                // Not acknowledged: the stream delivers it again. Billing redeliveries may come
                // after later messages, as the ADO.NET provider does.
                if (!pickOrder && rng.Next(2) == 0)
                {
                    billingQueue.Add(billingQueue[0]);
                    billingQueue.RemoveAt(0);
                }
            }
        }

        faults.On = false; // the run may end before step 400: the drain runs without faults, as it says
        await DrainRecoveryAsync(order, billing, [], billingQueue);

        // The reference: each unique id processed once, no faults.
        var expectedEvents = new List<OutboxEntry>();
        var expectedOrder = new OrderData();
        foreach (var command in firstDeliveries)
        {
            var outgoing = new OutgoingMessages("order", command);
            expectedOrder = OrderLogic.Instance.Handle(expectedOrder, command, outgoing);
            expectedEvents.AddRange(outgoing.Entries);
        }

        var expectedBill = new BillData();
        foreach (var e in expectedEvents)
        {
            expectedBill = BillingLogic.Instance.Handle(expectedBill, (BillingEvent)e.Payload, new OutgoingMessages("billing", e.Payload));
        }

        Assert.Equal(expectedOrder.Lines, order.Store.Persisted.Data.Lines);
        Assert.Equal(
            expectedBill.Items.OrderBy(i => i.MessageId),
            billing.Store.Persisted.Data.Items.OrderBy(i => i.MessageId));
        Assert.Equal(expectedBill.Total, billing.Store.Persisted.Data.Total);
        // ConsistentOutput: every copy of an id carries the same payload.
        foreach (var copies in orderPublisher.Published.GroupBy(p => p.Message.MessageId))
        {
            Assert.Single(copies.Select(c => c.Message).Distinct());
        }

        return true;
    }

    /// <summary>
    /// Faults are off: the recovery reminder fires on both components (sending committed outboxes,
    /// retrying held messages whose turn came) and whatever that publishes is delivered, until
    /// nothing is left, as the reminders of a live cluster would do.
    /// </summary>
    private static async Task DrainRecoveryAsync(
        ComponentHarness<OrderData, OrderCommand> order, ComponentHarness<BillData, BillingEvent> billing, List<OrderCommand> orderQueue, List<BillingEvent> billingQueue)
    {
        for (var round = 0; round < 50; round++)
        {
            await order.TickAfterPeriodAsync();
            await billing.TickAsync();
            if (orderQueue.Count + billingQueue.Count == 0 && !order.Reminder.Registered && !billing.Reminder.Registered)
            {
                return;
            }

            while (orderQueue.Count > 0)
            {
                await order.DeliverAsync(orderQueue[0]);
                orderQueue.RemoveAt(0);
            }

            while (billingQueue.Count > 0)
            {
                await billing.DeliverAsync(billingQueue[0]);
                billingQueue.RemoveAt(0);
            }
        }

        Assert.Fail("recovery did not finish");
    }

    private static Guid NewId(Random rng)
    {
        var bytes = new byte[16];
        rng.NextBytes(bytes);
        return new Guid(bytes);
    }
}
