using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ExactlyOnce.Hosting;
using ExactlyOnce.Silo.Http;

namespace ExactlyOnce.Silo;

/// <summary>
/// The <c>health</c> verb (the container health check): asks this machine's silo for
/// <c>/health/ready</c> on 127.0.0.1.
/// </summary>
public static class SiloHealth
{
    /// <summary>How long the request may take (the checks themselves take at most about 4 s).</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(8);

    /// <summary>
    /// <see cref="ExitCodes.Ok"/> when ready; <see cref="ExitCodes.VerificationFailed"/> when the silo
    /// answers unhealthy (the failing checks on one stderr line); <see cref="ExitCodes.RuntimeFailure"/>
    /// when nothing answers; <see cref="ExitCodes.UsageOrConfiguration"/> when the endpoint is off.
    /// </summary>
    public static async Task<int> CheckReadyAsync(HttpSettings http)
    {
        if (!http.Enabled)
        {
            Console.Error.WriteLine($"silo: health: the HTTP endpoint is off ({HttpSettings.PortKey} 0), nothing to ask.");
            return ExitCodes.UsageOrConfiguration;
        }

        var url = $"http://127.0.0.1:{http.Port}/health/ready";
        using var client = new HttpClient { Timeout = Timeout };
        HttpResponseMessage response;
        try
        {
            response = await client.GetAsync(url);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            var reason = ex is TaskCanceledException ? $"no answer within {Timeout.TotalSeconds:0} s" : ex.Message;
            Console.Error.WriteLine($"silo: health: {url} cannot be reached: {reason}");
            return ExitCodes.RuntimeFailure;
        }

        using (response)
        {
            HealthResponse? report = null;
            try
            {
                report = await response.Content.ReadFromJsonAsync<HealthResponse>(HealthResponse.JsonOptions);
            }
            catch (Exception ex) when (ex is JsonException or NotSupportedException or HttpRequestException)
            {
            }

            if (response.StatusCode == HttpStatusCode.OK && report is { Status: "Healthy" })
            {
                return ExitCodes.Ok;
            }

            if (report is null)
            {
                Console.Error.WriteLine($"silo: health: {url} answered {(int)response.StatusCode} without a health report.");
                return response.StatusCode == HttpStatusCode.ServiceUnavailable ? ExitCodes.VerificationFailed : ExitCodes.RuntimeFailure;
            }

            var failing = report.Checks.Where(c => c.Status != "Healthy").Select(c => $"{c.Name}: {c.Description}");
            Console.Error.WriteLine($"silo: not ready: {string.Join("; ", failing)}");
            return ExitCodes.VerificationFailed;
        }
    }
}
