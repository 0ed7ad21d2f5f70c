using System.Text.Json;
using System.Text.Json.Serialization;
using Spectre.Console;

namespace ExactlyOnce.Client.Output;

/// <summary>Writes results: JSON (and nothing else) on stdout with --json, tables for humans otherwise.</summary>
public sealed class Printer(bool json)
{
    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = false,
        Converters = { new JsonStringEnumConverter() },
    };

    public bool Json { get; } = json;

    /// <summary>Prints <paramref name="result"/> as JSON, or runs <paramref name="human"/>.</summary>
    public void Result<T>(T result, Action<IAnsiConsole> human)
    {
        if (Json)
        {
            Console.Out.WriteLine(JsonSerializer.Serialize(result, JsonOptions));
        }
        else
        {
            human(AnsiConsole.Console);
        }
    }

    /// <summary>Progress notes for humans (stderr with --json, so stdout stays pure JSON).</summary>
    public void Note(string text)
    {
        if (Json)
        {
            Console.Error.WriteLine(text);
        }
        else
        {
            AnsiConsole.MarkupLine($"[grey]{Markup.Escape(text)}[/]");
        }
    }

    /// <summary>Runs <paramref name="work"/> with a progress bar of <paramref name="total"/> steps when a person watches.</summary>
    public async Task WithProgressAsync(string title, int total, Func<Action<int>, Task> work)
    {
        if (Json || !AnsiConsole.Profile.Capabilities.Interactive)
        {
            var reported = 0;
            var gate = new object();
            await work(done =>
            {
                lock (gate) // the load publishes from several tasks at once
                {
                    if (!Json && done * 10 / Math.Max(1, total) > reported)
                    {
                        reported = done * 10 / Math.Max(1, total);
                        Note($"{title}: {done}/{total}");
                    }
                }
            });
            return;
        }

        await AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask(title, maxValue: total);
                await work(done => task.Value = done);
            });
    }
}
