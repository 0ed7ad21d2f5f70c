using CsCheck;
using ExactlyOnce.Grains.Billing;
using ExactlyOnce.Grains.Messages;
using ExactlyOnce.Messaging;
using ExactlyOnce.Grains.Orders;

namespace ExactlyOnce.Tests.Core;

/// <summary>
/// Property, with the real stream provider's behaviour on both hops: a failed delivery may come
/// back after the messages behind it; senders re-send copies (same id, same sequence) at any time;
/// throws and crashes strike at every fault point of both components, including while held
/// messages are released (a held message that fails too often goes to the dead letters and is
/// replayed by the operator at the end). Whatever happens, the order's lines equal applying the producer's
/// commands once each in send order, and the bill lists the order's events once each, in the order
/// the order emitted them.
/// </summary>
[Trait("Kind", "Unit")]
public sealed class SequencedDeliveryProperties
{
    private const string Producer = "run/property/1";

    private sealed record Step(bool Add, Filling Filling, bool ResendLater);

    private sealed record Scenario(List<Step> Steps, double FaultProbability, bool Crashes, int Seed);

    private static readonly Gen<Scenario> Scenarios =
        from steps in Gen.Select(Gen.Int[0, 2], Gen.Int[1, 5], Gen.Bool, (kind, filling, resend) => new Step(kind > 0, (Filling)filling, resend)).List[1, 30]
        from probability in Gen.Double[0.0, 0.35]
        from crashes in Gen.Bool
        from seed in Gen.Int
        select new Scenario(steps, probability, crashes, seed);

    [Fact]
    public void Order_and_bill_equal_the_producers_commands_applied_once_each_in_send_order()
    {
        Scenarios.Sample(scenario => RunAsync(scenario, new MessagingOptions()).GetAwaiter().GetResult(), iter: 300);
    }

    [Fact]
    public void Should_hold_the_same_result_when_early_arrivals_overflow_into_the_parking_table()
    {
        var tiny = new MessagingOptions { MaxHeldPerProducer = 2, MaxHeldPerComponent = 3 };
        Scenarios.Sample(scenario => RunAsync(scenario, tiny).GetAwaiter().GetResult(), iter: 200);
    }

    /// <summary>
    /// The run's record is cleared and its name used again: a second incarnation numbers its own
    /// messages from 1 while the first one's are still being redelivered. Neither is mistaken for
    /// the other: each applies its commands once each, in its own send order. (The two touch
    /// disjoint fillings, so each one's effect on the order can be checked on its own.)
    /// </summary>
    [Fact]
    public void Should_apply_both_incarnations_of_a_reused_producer_name_each_once_and_in_order()
    {
        Scenarios.Sample(scenario => RunTwoIncarnationsAsync(scenario).GetAwaiter().GetResult(), iter: 200);
    }

    private static async Task<bool> RunTwoIncarnationsAsync(Scenario scenario)
    {
        var rng = new Random(scenario.Seed);
        var faults = new SimulatedFaults(rng, scenario.FaultProbability, scenario.Crashes);
        var clock = new ManualClock(DateTimeOffset.UnixEpoch);
        var billingQueue = new List<IMessage>();
        var incarnations = new FakeIncarnations();
        var order = new ComponentHarness<OrderData, OrderCommand>(
            OrderLogic.Instance, new FakePublisher { OnPublish = p => billingQueue.Add(p.Message) }, new FakeFaults { Decide = faults.Decide }, clock, incarnations: incarnations);
        var billing = new ComponentHarness<BillData, BillingEvent>(BillingLogic.Instance, new FakePublisher(), new FakeFaults { Decide = faults.Decide }, clock, incarnations: incarnations);

        // Incarnation 1: adds and removes of the first three fillings; incarnation 2: adds of the other two.
        var first = scenario.Steps.Select((s, i) =>
        {
            var filling = (Filling)(1 + (((int)s.Filling - 1) % 3));
            return (s.Add ? (OrderCommand)new AddItem(NewId(rng), "o1", filling) : new RemoveItem(NewId(rng), "o1", filling)).WithSequence("run/property/1", i + 1);
        }).ToList();
        var second = scenario.Steps.Select((s, i) => new AddItem(NewId(rng), "o1", s.Add ? Filling.SwissCheese : Filling.Strawberry).WithSequence("run/property/2", i + 1)).ToList();
        var orderQueue = new List<IMessage>([.. first, .. second]);
        for (var i = 0; i < scenario.Steps.Count; i++)
        {
            if (scenario.Steps[i].ResendLater)
            {
                orderQueue.Insert(rng.Next(i + 1, orderQueue.Count + 1), first[i]);
                orderQueue.Insert(rng.Next(orderQueue.IndexOf(second[i]) + 1, orderQueue.Count + 1), second[i]);
            }
        }

        await DeliverAllAsync(order, billing, orderQueue, billingQueue, faults, rng);
        faults.On = false;
        await DrainAsync(order, billing, billingQueue);

        var (firstLines, firstEvents) = Model(first);
        var (secondLines, secondEvents) = Model(second);
        var lines = order.Store.Persisted.Data.Lines;
        Assert.Equal(firstLines, lines.Where(f => f <= Filling.QuarkAndPotatoes));
        Assert.Equal(secondLines, lines.Where(f => f > Filling.QuarkAndPotatoes));
        var billed = billing.Store.Persisted.Data.Items.Select(i => i.MessageId).ToList();
        Assert.Equal(firstEvents.Count + secondEvents.Count, billed.Count);
        Assert.Equal(firstEvents, billed.Where(firstEvents.Contains));
        Assert.Equal(secondEvents, billed.Where(secondEvents.Contains));
        return true;
    }

    /// <summary>One producer's commands applied once each, in send order: the lines and the ids of the events, in order.</summary>
    private static (List<Filling> Lines, List<Guid> Events) Model(IEnumerable<IMessage> commands)
    {
        var data = new OrderData();
        var events = new List<Guid>();
        foreach (var command in commands)
        {
            var outgoing = new OutgoingMessages("order", command);
            data = OrderLogic.Instance.Handle(data, (OrderCommand)command, outgoing);
            events.AddRange(outgoing.Entries.Select(e => e.MessageId));
        }

        return (data.Lines, events);
    }

    /// <summary>Delivers both queues in random turns; a failed delivery comes back at the head or after the messages behind it.</summary>
    private static async Task DeliverAllAsync(
        ComponentHarness<OrderData, OrderCommand> order, ComponentHarness<BillData, BillingEvent> billing, List<IMessage> orderQueue, List<IMessage> billingQueue, SimulatedFaults faults, Random rng)
    {
        for (var step = 0; orderQueue.Count + billingQueue.Count > 0; step++)
        {
            Assert.True(step < 20_000, "the simulation did not drain");
            faults.On = step < 400;
            var pickOrder = billingQueue.Count == 0 || (orderQueue.Count > 0 && rng.Next(2) == 0);
            var queue = pickOrder ? orderQueue : billingQueue;
            try
            {
                await (pickOrder ? order.DeliverAsync(queue[0]) : billing.DeliverAsync(queue[0]));
                queue.RemoveAt(0);
            }
            catch (Exception ex) when (ex is SimulatedFaults.SimulatedCrash || ex is StateWriteFailedException)
            {
                await (pickOrder ? order.CrashAndRecoverAsync() : billing.CrashAndRecoverAsync());
                Redeliver(queue, rng);
            }
            catch (SimulatedFaultException)
            {
                Redeliver(queue, rng);
            }
        }
    }

    private static async Task<bool> RunAsync(Scenario scenario, MessagingOptions options)
    {
        var rng = new Random(scenario.Seed);
        var clock = new ManualClock(DateTimeOffset.UnixEpoch);
        var faults = new SimulatedFaults(rng, scenario.FaultProbability, scenario.Crashes);

        var billingQueue = new List<IMessage>();
        var incarnations = new FakeIncarnations();
        var publishedSequences = new HashSet<long>();
        var orderPublisher = new FakePublisher
        {
            OnPublish = p =>
            {
                // The sender's rule: n goes out only once 1 … n-1 have gone out (at least once).
                Assert.True(p.Message.Sequence == 1 || publishedSequences.Contains(p.Message.Sequence - 1), $"#{p.Message.Sequence} published before #{p.Message.Sequence - 1}");
                publishedSequences.Add(p.Message.Sequence);
                billingQueue.Add(p.Message);
            },
        };
        var order = new ComponentHarness<OrderData, OrderCommand>(OrderLogic.Instance, orderPublisher, new FakeFaults { Decide = faults.Decide }, clock, options, incarnations: incarnations);
        var billing = new ComponentHarness<BillData, BillingEvent>(BillingLogic.Instance, new FakePublisher(), new FakeFaults { Decide = faults.Decide }, clock, options, incarnations: incarnations);

        // The producer's commands, numbered 1, 2, 3 …; some re-sent later as the same record.
        var commands = scenario.Steps.Select((s, i) => (s.Add
            ? (OrderCommand)new AddItem(NewId(rng), "o1", s.Filling)
            : new RemoveItem(NewId(rng), "o1", s.Filling)).WithSequence(Producer, i + 1)).ToList();
        var orderQueue = new List<IMessage>(commands);
        for (var i = 0; i < commands.Count; i++)
        {
            if (scenario.Steps[i].ResendLater)
            {
                orderQueue.Insert(rng.Next(i + 1, orderQueue.Count + 1), commands[i]);
            }
        }

        await DeliverAllAsync(order, billing, orderQueue, billingQueue, faults, rng);
        faults.On = false;
        await DrainAsync(order, billing, billingQueue);

        // The model: the producer's commands once each, in send order.
        var expectedOrder = new OrderData();
        var expectedEvents = new List<IMessage>();
        foreach (var command in commands)
        {
            var outgoing = new OutgoingMessages("order", command);
            expectedOrder = OrderLogic.Instance.Handle(expectedOrder, (OrderCommand)command, outgoing);
            expectedEvents.AddRange(outgoing.Entries.Select(e => e.Payload));
        }

        Assert.Equal(expectedOrder.Lines, order.Store.Persisted.Data.Lines);
        var bill = billing.Store.Persisted.Data;
        Assert.Equal(expectedEvents.Select(e => e.MessageId), bill.Items.Select(i => i.MessageId));
        Assert.Equal(expectedEvents.Cast<BillingEvent>().Select(e => e.LineCount), bill.Items.Select(i => i.LineCount));
        Assert.Equal(expectedEvents.Cast<BillingEvent>().Sum(e => e is ItemRemoved ? -Menu.PriceOf(e.Filling) : Menu.PriceOf(e.Filling)), bill.Total);

        // The order numbered its events 1, 2, 3 … under one producer id, and the state stays small.
        var published = orderPublisher.Published.Select(p => p.Message).DistinctBy(m => m.MessageId).ToList();
        Assert.All(published, m => Assert.Equal(order.Store.Persisted.ProducerId, m.ProducerId));
        Assert.Equal(Enumerable.Range(1, published.Count).Select(i => (long)i), published.Select(m => m.Sequence).Order());
        Assert.Empty(order.Store.Persisted.Inbox);
        Assert.All(order.Store.Persisted.Producers.Values, p => Assert.Empty(p.Held));
        Assert.All(billing.Store.Persisted.Producers.Values, p => Assert.Empty(p.Held));
        Assert.Empty(order.Parking.Rows);
        Assert.Empty(billing.Parking.Rows);

        // Every state stored: at most MaxHeldPerProducer early arrivals, plus the message whose turn it is.
        foreach (var (held, early) in new[] { order.MostHeldStored, billing.MostHeldStored })
        {
            Assert.InRange(early, 0, options.MaxHeldPerProducer);
            Assert.InRange(held, 0, options.MaxHeldPerProducer + 1);
        }

        return true;
    }

    /// <summary>Not acknowledged: delivered again, at the head or (as the ADO.NET provider does) after the messages behind it.</summary>
    private static void Redeliver(List<IMessage> queue, Random rng)
    {
        if (rng.Next(2) == 0)
        {
            queue.Add(queue[0]);
            queue.RemoveAt(0);
        }
    }

    /// <summary>
    /// Faults off: the reminders fire, and an operator replays whatever went to the dead letters
    /// (a held message that failed too often), until nothing is left.
    /// </summary>
    private static async Task DrainAsync(ComponentHarness<OrderData, OrderCommand> order, ComponentHarness<BillData, BillingEvent> billing, List<IMessage> billingQueue)
    {
        for (var round = 0; round < 50; round++)
        {
            await order.TickAfterPeriodAsync();
            foreach (var letter in order.DeadLetters.DeadLettered.ToList())
            {
                order.DeadLetters.DeadLettered.Remove(letter);
                await order.DeliverAsync(letter.Message);
            }

            while (billingQueue.Count > 0)
            {
                await billing.DeliverAsync(billingQueue[0]);
                billingQueue.RemoveAt(0);
            }

            await billing.TickAsync();
            foreach (var letter in billing.DeadLetters.DeadLettered.ToList())
            {
                billing.DeadLetters.DeadLettered.Remove(letter);
                await billing.DeliverAsync(letter.Message);
            }

            if (billingQueue.Count == 0 && !order.Reminder.Registered && !billing.Reminder.Registered
                && order.DeadLetters.DeadLettered.Count + billing.DeadLetters.DeadLettered.Count == 0)
            {
                return;
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
