using Bulwark.Api.Etcdserverpb;
using Bulwark.Server.Hosting;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Bulwark.Client.Tests.InProcess;

/// <summary>
/// A gRPC Lease service in this process (Kestrel, HTTP/2 on a loopback port) that records each keep-alive stream's
/// request metadata and ends every stream after a set number of answers, to see what the session sends and how it
/// takes a stream that ends.
/// </summary>
public sealed class FakeLeaseServer : IAsyncDisposable
{
    private readonly WebApplication app;

    private FakeLeaseServer(WebApplication app, string url, LeaseState state)
    {
        this.app = app;
        Url = url;
        State = state;
    }

    public string Url { get; }

    public LeaseState State { get; }

    public static async Task<FakeLeaseServer> StartAsync(int answersPerStream)
    {
        var port = LoopbackPorts.Take(1)[0];
        var url = $"http://127.0.0.1:{port}";
        var state = new LeaseState(answersPerStream);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.ListenLocalhost(port, o => o.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(state);
        var app = builder.Build();
        app.MapGrpcService<FakeLease>();
        await app.StartAsync();
        return new FakeLeaseServer(app, url, state);
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }

    /// <summary>What the fake saw.</summary>
    public sealed class LeaseState(int answersPerStream)
    {
        private readonly List<string?> releaseHeaders = [];

        public int AnswersPerStream => answersPerStream;

        /// <summary>Each keep-alive stream's <see cref="Session.ReleaseOnDisconnectHeader"/> value (null when absent).</summary>
        public IReadOnlyList<string?> ReleaseHeaders
        {
            get
            {
                lock (releaseHeaders)
                {
                    return [.. releaseHeaders];
                }
            }
        }

        public void StreamOpened(string? header)
        {
            lock (releaseHeaders)
            {
                releaseHeaders.Add(header);
            }
        }
    }

    private sealed class FakeLease(LeaseState state) : Lease.LeaseBase
    {
        public override Task<LeaseGrantResponse> LeaseGrant(LeaseGrantRequest request, ServerCallContext context) =>
            Task.FromResult(new LeaseGrantResponse { Header = new ResponseHeader(), ID = 0x42, TTL = request.TTL });

        public override Task<LeaseRevokeResponse> LeaseRevoke(LeaseRevokeRequest request, ServerCallContext context) =>
            Task.FromResult(new LeaseRevokeResponse { Header = new ResponseHeader() });

        public override async Task LeaseKeepAlive(IAsyncStreamReader<LeaseKeepAliveRequest> requestStream, IServerStreamWriter<LeaseKeepAliveResponse> responseStream, ServerCallContext context)
        {
            state.StreamOpened(context.RequestHeaders.GetValue(Session.ReleaseOnDisconnectHeader));
            for (var answered = 0; answered < state.AnswersPerStream && await requestStream.MoveNext(context.CancellationToken); answered++)
            {
                await responseStream.WriteAsync(new LeaseKeepAliveResponse { Header = new ResponseHeader(), ID = requestStream.Current.ID, TTL = 5 });
            }

            // Returning ends the stream, as a member that goes away would.
        }
    }
}
