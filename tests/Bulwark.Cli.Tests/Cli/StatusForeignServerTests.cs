using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Bulwark.Api.Etcdserverpb;
using Bulwark.Server.Hosting;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Bulwark.Cli.Tests.Cli;

/// <summary>
/// `bulwark status` against a server that speaks only etcd's API (as a real etcd does: bulwark.v1.Node is unimplemented)
/// and reports an active alarm: the member is listed, the missing peer view is explained rather than failing the
/// command, and the alarm is shown and makes the exit code 1.
/// </summary>
public sealed class StatusForeignServerTests
{
    private const ulong MemberId = 0xe7c0;

    [Fact]
    public async Task Status_of_an_etcd_says_it_has_no_peer_view_and_shows_its_alarm()
    {
        var port = LoopbackPorts.Next();
        var url = $"http://127.0.0.1:{port}";
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port, l => l.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(new EtcdLikeMember(url));
        await using var app = builder.Build();
        app.MapGrpcService<EtcdLikeMaintenance>();
        app.MapGrpcService<EtcdLikeCluster>();
        await app.StartAsync();

        var (code, output, error) = await InProcessCli.RunAsync("status", "--endpoints", url, "--timeout", "5");
        Assert.True(code == 1, $"exit {code} (an active alarm must fail the check): {error}\n{output}");
        var lines = output.Split('\n');
        Assert.Matches(@"^etcd-1\s+e7c0\s+\S+\s+leader\s+", lines[1]);
        Assert.Contains($"etcd-1 ({url}): no peer view: not a Bulwark member (it does not serve bulwark.v1.Node; an etcd server?)", lines);
        Assert.Contains(lines, l => Regex.IsMatch(l, @"^ALARM\s+MEMBER\s+ID$"));
        Assert.Contains(lines, l => Regex.IsMatch(l, @"^NOSPACE\s+etcd-1\s+e7c0$"));

        (code, output, _) = await InProcessCli.RunAsync("status", "--json", "--endpoints", url, "--timeout", "5");
        Assert.Equal(1, code);
        var row = Assert.Single(JsonDocument.Parse(output).RootElement.EnumerateArray());
        Assert.Equal("healthy", row.GetProperty("health").GetString());
        Assert.Equal(JsonValueKind.Null, row.GetProperty("peers").ValueKind);
        Assert.StartsWith("not a Bulwark member", row.GetProperty("peersUnavailable").GetString(), StringComparison.Ordinal);
        var alarm = Assert.Single(row.GetProperty("alarms").EnumerateArray());
        Assert.Equal("NOSPACE", alarm.GetProperty("alarm").GetString());
        Assert.Equal("etcd-1", alarm.GetProperty("member").GetString());
    }


    private sealed record EtcdLikeMember(string ClientUrl);

    /// <summary>Status and Alarm as a one-member etcd with a full disk answers them.</summary>
    private sealed class EtcdLikeMaintenance : Maintenance.MaintenanceBase
    {
        public override Task<StatusResponse> Status(StatusRequest request, ServerCallContext context) => Task.FromResult(new StatusResponse
        {
            Header = new ResponseHeader { ClusterId = 1, MemberId = MemberId, RaftTerm = 2 },
            Version = "3.5.0",
            Leader = MemberId,
            RaftIndex = 7,
            RaftTerm = 2,
            RaftAppliedIndex = 7,
        });

        public override Task<AlarmResponse> Alarm(AlarmRequest request, ServerCallContext context)
        {
            var response = new AlarmResponse { Header = new ResponseHeader { ClusterId = 1, MemberId = MemberId } };
            if (request.Action == AlarmRequest.Types.AlarmAction.Get)
            {
                response.Alarms.Add(new AlarmMember { MemberID = MemberId, Alarm = AlarmType.Nospace });
            }

            return Task.FromResult(response);
        }
    }

    private sealed class EtcdLikeCluster(EtcdLikeMember member) : Cluster.ClusterBase
    {
        public override Task<MemberListResponse> MemberList(MemberListRequest request, ServerCallContext context)
        {
            var response = new MemberListResponse { Header = new ResponseHeader { ClusterId = 1, MemberId = MemberId } };
            response.Members.Add(new Member { ID = MemberId, Name = "etcd-1", ClientURLs = { member.ClientUrl } });
            return Task.FromResult(response);
        }
    }
}
