using System.Net.Sockets;

namespace ExactlyOnce.Silo;

/// <summary>The container health check: does this machine's gateway port accept a connection?</summary>
public static class SiloHealth
{
    public static async Task<bool> CheckGatewayAsync(int gatewayPort)
    {
        try
        {
            using var tcp = new TcpClient();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(3));
            await tcp.ConnectAsync("127.0.0.1", gatewayPort, timeout.Token);
            return true;
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException)
        {
            Console.Error.WriteLine($"silo: gateway port {gatewayPort} does not accept connections: {ex.Message}");
            return false;
        }
    }
}
