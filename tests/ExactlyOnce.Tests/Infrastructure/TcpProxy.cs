using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace ExactlyOnce.Tests.Infrastructure;

/// <summary>
/// A TCP forwarder on a free 127.0.0.1 port, for tests that make a server unreachable:
/// <see cref="Cut"/> closes every forwarded connection and refuses new ones (connections are
/// accepted and closed at once, so clients fail fast instead of timing out);
/// <see cref="Restore"/> forwards again. The listening port never changes.
/// </summary>
public sealed class TcpProxy : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly string _targetHost;
    private readonly int _targetPort;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _gate = new();
    private readonly HashSet<TcpClient> _open = [];
    private readonly Task _acceptLoop;
    private bool _cut;

    private TcpProxy(string targetHost, int targetPort)
    {
        _targetHost = targetHost;
        _targetPort = targetPort;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    /// <summary>The port the proxy listens on (127.0.0.1).</summary>
    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>True between <see cref="Cut"/> and <see cref="Restore"/>.</summary>
    public bool IsCut
    {
        get
        {
            lock (_gate)
            {
                return _cut;
            }
        }
    }

    /// <summary>Starts forwarding to <paramref name="host"/>:<paramref name="port"/>.</summary>
    public static TcpProxy Start(string host, int port) => new(host, port);

    /// <summary>
    /// Starts a proxy to the server of <paramref name="connectionString"/> and returns it with the same
    /// connection string pointed at the proxy (pooling left as configured).
    /// </summary>
    public static (TcpProxy Proxy, string ConnectionString) ForPostgres(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        var proxy = Start(builder.Host ?? "127.0.0.1", builder.Port);
        builder.Host = "127.0.0.1";
        builder.Port = proxy.Port;
        return (proxy, builder.ConnectionString);
    }

    /// <summary>Closes every forwarded connection and refuses new ones until <see cref="Restore"/>.</summary>
    public void Cut()
    {
        TcpClient[] open;
        lock (_gate)
        {
            _cut = true;
            open = [.. _open];
            _open.Clear();
        }

        foreach (var client in open)
        {
            Abort(client);
        }
    }

    /// <summary>Forwards new connections again.</summary>
    public void Restore()
    {
        lock (_gate)
        {
            _cut = false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stopping.Cancel();
        _listener.Stop();
        Cut();
        try
        {
            await _acceptLoop;
        }
        catch (OperationCanceledException)
        {
        }

        _stopping.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            TcpClient inbound;
            try
            {
                inbound = await _listener.AcceptTcpClientAsync(_stopping.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            _ = Task.Run(() => ForwardAsync(inbound));
        }
    }

    private async Task ForwardAsync(TcpClient inbound)
    {
        if (!TryTrack(inbound))
        {
            Abort(inbound);
            return;
        }

        var outbound = new TcpClient();
        try
        {
            await outbound.ConnectAsync(_targetHost, _targetPort, _stopping.Token);
            if (!TryTrack(outbound))
            {
                Abort(inbound);
                Abort(outbound);
                return;
            }

            var a = inbound.GetStream();
            var b = outbound.GetStream();
            // When either direction ends (peer closed, or Cut aborted a socket), close both.
            await Task.WhenAny(PumpAsync(a, b), PumpAsync(b, a));
        }
        catch (Exception ex) when (ex is SocketException or IOException or ObjectDisposedException or OperationCanceledException)
        {
        }
        finally
        {
            Untrack(inbound);
            Untrack(outbound);
            Abort(inbound);
            Abort(outbound);
        }
    }

    private static async Task PumpAsync(Stream from, Stream to)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await from.ReadAsync(buffer)) > 0)
            {
                await to.WriteAsync(buffer.AsMemory(0, read));
            }
        }
        catch (Exception ex) when (ex is SocketException or IOException or ObjectDisposedException)
        {
        }
    }

    private bool TryTrack(TcpClient client)
    {
        lock (_gate)
        {
            if (_cut || _stopping.IsCancellationRequested)
            {
                return false;
            }

            _open.Add(client);
            return true;
        }
    }

    private void Untrack(TcpClient client)
    {
        lock (_gate)
        {
            _open.Remove(client);
        }
    }

    private static void Abort(TcpClient client)
    {
        try
        {
            // Linger 0: an RST, so the peer sees the connection break at once.
            if (client.Client is { } socket)
            {
                socket.LingerState = new LingerOption(true, 0);
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
        }

        client.Dispose();
    }
}
