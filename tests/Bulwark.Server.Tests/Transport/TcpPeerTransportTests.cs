using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Bulwark.Consensus;
using Bulwark.Server.Hosting;
using Bulwark.Server.Transport;
using Microsoft.Extensions.Time.Testing;
using static Bulwark.Server.Tests.Transport.TransportHarness;

namespace Bulwark.Server.Tests.Transport;

public sealed class TcpPeerTransportTests
{
    [Fact]
    public async Task Messages_arrive_in_order_per_peer_and_are_counted()
    {
        await using var b = Started(Options(2));
        await using var a = Started(Options(1, peers: new Dictionary<ulong, string> { [2] = AddressOf(b) }));
        const int count = 1000;
        for (var i = 0; i < count; i++)
        {
            Assert.True(a.Send(TestMessages.Append(1, 2, (ulong)i, $"v{i}")));
        }

        var received = await ReceiveAsync(b, count);
        for (var i = 0; i < count; i++)
        {
            TestMessages.AssertSame(TestMessages.Append(1, 2, (ulong)i, $"v{i}"), received[i]);
        }

        await EventuallyAsync(() => a.MessagesSent == count, "sent counter");
        Assert.Equal(count, b.MessagesReceived);
        Assert.Equal(0, a.MessagesDropped);
        Assert.True(a.BytesSent > count * 10);
        Assert.True(b.BytesReceived >= a.BytesSent, "receiver counts handshake bytes too");
    }

    [Fact]
    public async Task MessageQueued_reports_each_message_in_order_once_it_is_readable()
    {
        await using var b = new TcpPeerTransport(Options(2));
        var notified = new ConcurrentQueue<Message>();
        var notReadable = 0;
        b.MessageQueued += message =>
        {
            // the host's loop drains Incoming when woken by this call: the message must already be there
            if (b.Incoming.Count == 0)
            {
                Interlocked.Increment(ref notReadable);
            }

            notified.Enqueue(message);
        };
        b.Start();
        await using var a = Started(Options(1, peers: new Dictionary<ulong, string> { [2] = AddressOf(b) }));
        const int count = 50;
        for (var i = 0; i < count; i++)
        {
            Assert.True(a.Send(TestMessages.Append(1, 2, (ulong)i, $"v{i}")));
        }

        await EventuallyAsync(() => notified.Count == count, "one notification per message");
        Assert.Equal(0, Volatile.Read(ref notReadable));
        var received = await ReceiveAsync(b, count);
        var reported = notified.ToArray();
        for (var i = 0; i < count; i++)
        {
            TestMessages.AssertSame(TestMessages.Append(1, 2, (ulong)i, $"v{i}"), reported[i]);
            Assert.Same(received[i], reported[i]);
        }
    }

    [Fact]
    public async Task Both_directions_work_over_separate_connections()
    {
        await using var a = Started(Options(1));
        await using var b = Started(Options(2, peers: new Dictionary<ulong, string> { [1] = AddressOf(a) }));
        await a.AddOrUpdatePeerAsync(2, $"http://127.0.0.1:{b.ListenEndpoint.Port}");
        a.Send(TestMessages.Heartbeat(1, 2, 5));
        b.Send(TestMessages.Heartbeat(2, 1, 5) with { Type = MessageType.HeartbeatResponse });
        Assert.Equal(MessageType.Heartbeat, (await ReceiveAsync(b)).Type);
        Assert.Equal(MessageType.HeartbeatResponse, (await ReceiveAsync(a)).Type);
    }

    [Fact]
    public async Task Queued_messages_are_batched_into_few_flushes()
    {
        await using var b = Started(Options(2));
        await using var a = Started(Options(1, peers: new Dictionary<ulong, string> { [2] = AddressOf(b) }));
        a.Send(TestMessages.Heartbeat(1, 2, 1));
        await ReceiveAsync(b);
        var flushesBefore = a.Flushes;
        const int count = 2000;
        for (var i = 0; i < count; i++)
        {
            a.Send(TestMessages.Heartbeat(1, 2, 2, (ulong)i));
        }

        await ReceiveAsync(b, count);
        var flushes = a.Flushes - flushesBefore;
        Assert.True(flushes <= count / 2, $"{count} messages took {flushes} flushes");
    }

    [Fact]
    public async Task Sender_reconnects_after_the_peer_restarts_on_the_same_port()
    {
        var b = Started(Options(2));
        var port = b.ListenEndpoint.Port;
        var unreachable = new ConcurrentBag<ulong>();
        await using var a = Started(Options(1, peers: new Dictionary<ulong, string> { [2] = $"127.0.0.1:{port}" }));
        a.PeerUnreachable += unreachable.Add;
        a.Send(TestMessages.Heartbeat(1, 2, 1));
        await ReceiveAsync(b);
        await b.DisposeAsync();

        await EventuallyAsync(() => unreachable.Contains(2UL), "peer reported unreachable");
        await using var restarted = Started(Options(2, port));
        var delivered = false;
        var deadline = DateTime.UtcNow + Patience;
        while (!delivered)
        {
            Assert.True(DateTime.UtcNow < deadline, "no message reached the restarted peer");
            a.Send(TestMessages.Heartbeat(1, 2, 2));
            await Task.Delay(20);
            delivered = restarted.Incoming.TryRead(out _);
        }

        Assert.True(a.Reconnects >= 1);
        Assert.True(a.GetPeerStats().Single().Connected);
    }

    [Fact]
    public async Task A_peer_that_dials_in_is_redialed_at_once_instead_of_after_the_backoff()
    {
        // Issue 15: a restarted member dials the leader as soon as it is up, but the leader redialed it only when its
        // backoff (grown to ~2 s while the member was down) ran out, and the member's catch-up waited for that. The
        // clock here never moves, so the backoff never runs out: only the peer's own dial can bring the redial.
        var port = LoopbackPorts.Next();
        var unreachable = new ConcurrentBag<ulong>();
        await using var a = new TcpPeerTransport(Options(1, peers: new Dictionary<ulong, string> { [2] = $"127.0.0.1:{port}" }), new FakeTimeProvider());
        a.PeerUnreachable += unreachable.Add;
        a.Start();
        await EventuallyAsync(() => unreachable.Contains(2UL), "the first dial to be refused");

        await using var b = Started(Options(2, port, peers: new Dictionary<ulong, string> { [1] = AddressOf(a) }));
        b.Send(TestMessages.Heartbeat(2, 1, 1));
        await ReceiveAsync(a);

        await EventuallyAsync(() => a.GetPeerStats().Single().Connected, "the peer that dialed in to be redialed");
        a.Send(TestMessages.Heartbeat(1, 2, 1));
        Assert.Equal(1UL, (await ReceiveAsync(b)).From);
    }

    [Fact]
    public async Task A_stalled_peer_fills_its_own_queue_and_never_blocks_the_others()
    {
        await using var live = Started(Options(2));
        using var stalled = new StalledPeer(clusterId: 0xC1);
        var options = Options(1, peers: new Dictionary<ulong, string>
        {
            [2] = AddressOf(live),
            [3] = $"127.0.0.1:{stalled.Port}",
            [4] = $"127.0.0.1:{LoopbackPorts.Next()}",
        }) with { QueueCapacity = 64 };
        await using var a = Started(options);
        var unreachable = new ConcurrentBag<ulong>();
        a.PeerUnreachable += unreachable.Add;
        await stalled.HandshakeDone.WaitAsync(Patience);

        var big = new string('x', 16 * 1024);
        const int rounds = 2000;
        for (var i = 0; i < rounds; i++)
        {
            a.Send(TestMessages.Append(1, 3, (ulong)i, big)); // 32 MB offered to a peer that never reads
            a.Send(TestMessages.Heartbeat(1, 4, 1));
            Assert.True(a.Send(TestMessages.Heartbeat(1, 2, 1, (ulong)i)), $"heartbeat {i} to the live peer was dropped");
            if (i % 50 == 49)
            {
                // The live peer keeps draining while the stalled one is stuck (the host loop's ticks pace it likewise).
                await EventuallyAsync(() => a.GetPeerStats().Single(s => s.PeerId == 2).Queued == 0, "live peer's queue drained");
            }
        }

        var heartbeats = await ReceiveAsync(live, rounds);
        Assert.Equal(Enumerable.Range(0, rounds).Select(i => (ulong)i), heartbeats.Select(m => m.Commit));
        var stats = a.GetPeerStats().ToDictionary(s => s.PeerId);
        Assert.Equal(0, stats[2].MessagesDropped);
        Assert.True(stats[3].MessagesDropped > 0, "the stalled peer's queue should have overflowed");
        Assert.True(stats[4].MessagesDropped > 0, "messages to the dead peer should be dropped");
        Assert.Contains(3UL, unreachable);
        Assert.Contains(4UL, unreachable);
        // Once the dead peer's queue has been discarded nothing more is dropped, and the total is the per-peer sum.
        await EventuallyAsync(
            () => a.GetPeerStats().Sum(s => s.MessagesDropped) is var perPeer && perPeer == a.MessagesDropped && a.GetPeerStats().Single(s => s.PeerId == 4).Queued == 0,
            "total drops equal to the per-peer drops");
    }

    [Fact]
    public async Task A_several_MiB_snapshot_streams_in_chunks_and_arrives_whole()
    {
        await using var b = Started(Options(2));
        await using var a = Started(Options(1, peers: new Dictionary<ulong, string> { [2] = AddressOf(b) }) with { SnapshotChunkBytes = 1 << 20 });
        var data = TestMessages.Pattern(5 * (1 << 20) + 12345, 9);
        var snapshot = TestMessages.InstallSnapshot(1, 2, data);
        Assert.True(a.Send(snapshot));
        a.Send(TestMessages.Heartbeat(1, 2, 4, 77));

        var received = await ReceiveAsync(b, 2);
        var got = Assert.Single(received, m => m.Type == MessageType.Snapshot);
        TestMessages.AssertSame(snapshot, got);
        Assert.Single(received, m => m.Type == MessageType.Heartbeat && m.Commit == 77);
        await EventuallyAsync(() => a.SnapshotsSent == 1, "snapshot sent counter");
        Assert.Equal(1, b.SnapshotsReceived);
        Assert.True(a.Flushes >= 6, "a 5 MiB snapshot in 1 MiB chunks takes at least six writes");
    }

    [Fact]
    public async Task A_snapshot_to_an_unreachable_peer_is_reported_failed()
    {
        await using var a = Started(Options(1, peers: new Dictionary<ulong, string> { [2] = $"127.0.0.1:{LoopbackPorts.Next()}" }));
        var failed = new TaskCompletionSource<ulong>(TaskCreationOptions.RunContinuationsAsynchronously);
        a.SnapshotSendFailed += id => failed.TrySetResult(id);
        a.Send(TestMessages.InstallSnapshot(1, 2, new byte[1000]));
        Assert.Equal(2UL, await failed.Task.WaitAsync(Patience));
        Assert.Equal(1, a.SnapshotsFailed);
        Assert.Equal(0, a.SnapshotsSent);
    }

    [Fact]
    public async Task A_peer_of_another_cluster_is_turned_away_at_the_handshake()
    {
        await using var b = Started(Options(2, cluster: 0xB0B));
        await using var a = Started(Options(1, cluster: 0xA11CE, peers: new Dictionary<ulong, string> { [2] = AddressOf(b) }));
        var rejected = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        a.HandshakeRejected += (_, reason) => rejected.TrySetResult(reason);
        a.Send(TestMessages.Heartbeat(1, 2, 1));

        var reason = await rejected.Task.WaitAsync(Patience);
        Assert.Contains("cluster id mismatch", reason, StringComparison.Ordinal);
        Assert.True(b.HandshakesRejected >= 1);
        Assert.False(b.Incoming.TryRead(out _));
        Assert.False(a.GetPeerStats().Single().Connected);
    }

    [Fact]
    public async Task A_dialer_expecting_another_node_at_this_address_is_turned_away()
    {
        await using var b = Started(Options(2));
        await using var a = Started(Options(1, peers: new Dictionary<ulong, string> { [3] = AddressOf(b) }));
        var rejected = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        a.HandshakeRejected += (_, reason) => rejected.TrySetResult(reason);
        Assert.Contains("expected node", await rejected.Task.WaitAsync(Patience), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Garbage_on_an_inbound_connection_closes_it_and_the_listener_keeps_serving()
    {
        await using var b = Started(Options(2));
        using (var raw = new TcpClient())
        {
            await raw.ConnectAsync(IPAddress.Loopback, b.ListenEndpoint.Port);
            var stream = raw.GetStream();
            await stream.WriteAsync(Frame(new HandshakeFrame(0xC1, 1, 2)));
            var bogus = new byte[8];
            BinaryPrimitives.WriteUInt32LittleEndian(bogus, 0x7FFF_FFFF); // a 2 GiB frame: refused, not allocated
            await stream.WriteAsync(bogus);
            var buffer = new byte[256];
            using var timeout = new CancellationTokenSource(Patience);
            var total = 0;
            int n;
            while ((n = await stream.ReadAsync(buffer, timeout.Token)) > 0)
            {
                total += n; // the ack, then end of stream when the listener hangs up
            }

            Assert.True(total > 0);
        }

        await using var a = Started(Options(1, peers: new Dictionary<ulong, string> { [2] = AddressOf(b) }));
        a.Send(TestMessages.Heartbeat(1, 2, 1));
        Assert.Equal(MessageType.Heartbeat, (await ReceiveAsync(b)).Type);
    }

    [Fact]
    public async Task A_peer_added_before_start_is_dialed_at_start()
    {
        await using var b = Started(Options(2));
        await using var a = new TcpPeerTransport(Options(1));
        await a.AddOrUpdatePeerAsync(2, AddressOf(b));
        a.Start();
        a.Send(TestMessages.Heartbeat(1, 2, 1));
        Assert.Equal(MessageType.Heartbeat, (await ReceiveAsync(b)).Type);
    }

    [Fact]
    public async Task Messages_to_unknown_peers_are_dropped_and_counted()
    {
        await using var a = Started(Options(1));
        Assert.False(a.Send(TestMessages.Heartbeat(1, 9, 1)));
        Assert.Equal(1, a.MessagesDropped);
    }

    [Fact]
    public async Task Shutdown_completes_the_incoming_channel()
    {
        var a = Started(Options(1, peers: new Dictionary<ulong, string> { [2] = $"127.0.0.1:{LoopbackPorts.Next()}" }));
        await a.DisposeAsync();
        await a.Incoming.Completion.WaitAsync(Patience);
        await a.DisposeAsync(); // idempotent
    }

    [Fact]
    public void Invalid_options_are_rejected_with_the_field_named()
    {
        var e = Assert.Throws<ArgumentException>(() => new TcpPeerTransport(Options(1) with { QueueCapacity = 0 }));
        Assert.Equal("QueueCapacity", e.ParamName);
        Assert.Throws<FormatException>(() => new TcpPeerTransport(Options(1, peers: new Dictionary<ulong, string> { [2] = "no-port" })));
        Assert.Throws<ArgumentException>(() => new TcpPeerTransport(Options(1, peers: new Dictionary<ulong, string> { [1] = "127.0.0.1:1" })));
    }

    [Fact]
    public void Backoff_doubles_up_to_the_cap_with_jitter_and_resets()
    {
        var backoff = new ReconnectBackoff(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(1), new Random(1));
        var delays = Enumerable.Range(0, 8).Select(_ => backoff.Next().TotalMilliseconds).ToArray();
        double[] ceilings = [100, 200, 400, 800, 1000, 1000, 1000, 1000];
        for (var i = 0; i < delays.Length; i++)
        {
            Assert.InRange(delays[i], ceilings[i] / 2, ceilings[i]);
        }

        backoff.Reset();
        Assert.InRange(backoff.Next().TotalMilliseconds, 50, 100);
    }

    [Theory]
    [InlineData("127.0.0.1:2380", "127.0.0.1", 2380)]
    [InlineData("http://node-1.local:12380", "node-1.local", 12380)]
    [InlineData("[::1]:2380", "::1", 2380)]
    public void Peer_addresses_parse(string text, string host, int port) => Assert.Equal(new PeerAddress(host, port), PeerAddress.Parse(text));

    private static byte[] Frame(Frame frame)
    {
        var output = new ArrayBufferWriter<byte>();
        FrameCodec.Write(output, frame, new ArrayBufferWriter<byte>());
        return output.WrittenSpan.ToArray();
    }


    /// <summary>Accepts one connection, acknowledges the handshake, then never reads again: a hung node.</summary>
    private sealed class StalledPeer : IDisposable
    {
        private readonly TcpListener listener = new(IPAddress.Loopback, 0);
        private readonly TaskCompletionSource handshakeDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private TcpClient? client;

        public StalledPeer(ulong clusterId)
        {
            listener.Start();
            _ = Task.Run(async () =>
            {
                client = await listener.AcceptTcpClientAsync();
                client.ReceiveBufferSize = 4096;
                var stream = client.GetStream();
                var prefix = new byte[4];
                await stream.ReadExactlyAsync(prefix);
                var body = new byte[BinaryPrimitives.ReadUInt32LittleEndian(prefix)];
                await stream.ReadExactlyAsync(body);
                var handshake = (HandshakeFrame)FrameCodec.Decode(body);
                Assert.Equal(clusterId, handshake.ClusterId);
                await stream.WriteAsync(Frame(new HandshakeAckFrame(true, "")));
                handshakeDone.TrySetResult();
            });
        }

        public int Port => ((IPEndPoint)listener.LocalEndpoint).Port;

        public Task HandshakeDone => handshakeDone.Task;

        public void Dispose()
        {
            client?.Dispose();
            listener.Stop();
            listener.Dispose();
        }
    }
}
