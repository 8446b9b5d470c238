using System.Buffers;
using Bulwark.Consensus;
using Bulwark.Server.Api;
using Bulwark.Server.Hosting;
using Bulwark.Server.Transport;

namespace Bulwark.Server.Tests.Membership;

public sealed class MembershipWireAndTableTests
{
    [Fact]
    public void Member_query_and_reply_round_trip()
    {
        var reply = new MemberQueryReplyFrame(0xabc, [1, 2, 3],
        [
            new MemberInfo(1, "n1", false, ["http://127.0.0.1:1"], ["http://127.0.0.1:2"]),
            new MemberInfo(9, "", true, ["http://127.0.0.1:3", "http://127.0.0.1:4"], []),
        ]);
        var decoded = Assert.IsType<MemberQueryReplyFrame>(RoundTrip(reply));
        Assert.Equal(reply.ClusterId, decoded.ClusterId);
        Assert.Equal(reply.FoundingVoters, decoded.FoundingVoters);
        Assert.Equal(2, decoded.Members.Count);
        Assert.Equal(reply.Members[1].PeerUrls, decoded.Members[1].PeerUrls);
        Assert.True(decoded.Members[1].IsLearner);
        Assert.Equal("n1", decoded.Members[0].Name);
        Assert.Equal("http://127.0.0.1:9", Assert.IsType<MemberQueryFrame>(RoundTrip(new MemberQueryFrame("http://127.0.0.1:9"))).AskerPeerUrl);
    }

    [Fact]
    public void A_reply_with_a_count_larger_than_the_frame_is_refused()
    {
        var bytes = Encode(new MemberQueryReplyFrame(1, [], []));
        bytes[^1] = 0x7f; // member count 127 in a frame with no room for one
        var buffer = new ReadOnlySequence<byte>(bytes);
        Assert.Throws<WireFormatException>(() => FrameCodec.TryRead(ref buffer, FrameFormat.DefaultMaxFrameBytes, out _, out _));
    }

    [Fact]
    public void The_table_tracks_learners_and_removed_ids_through_a_snapshot()
    {
        var table = new MemberTable([new ClusterMember(1, "n1", ["http://a:1"], [])]);
        table.Apply(new ConfigChange(ConfigChangeType.AddLearner, 9, MemberTable.EncodeContext("", ["http://a:9", "http://b:9"])));
        Assert.True(table.Find(9)!.IsLearner);
        Assert.False(table.Find(9)!.IsStarted);
        Assert.Equal(["http://a:9", "http://b:9"], table.Find(9)!.PeerUrls);
        table.Apply(new ConfigChange(ConfigChangeType.PromoteLearner, 9));
        Assert.False(table.Find(9)!.IsLearner);
        table.Apply(new ConfigChange(ConfigChangeType.RemoveVoter, 1));
        Assert.True(table.IsRemoved(1));
        table.SetAttributes(new MemberAttributes(1, "n1", ["http://c:1"])); // a removed member's late attributes
        Assert.Null(table.Find(1));

        var restored = new MemberTable([]);
        restored.Replace(table.Serialize());
        Assert.True(restored.IsRemoved(1));
        Assert.Equal([9UL], restored.All.Select(m => m.Id));
        var member = Assert.IsType<ClusterMember>(restored.Find(9));
        Assert.Equal(table.Find(9)!.PeerUrls, member.PeerUrls);
        Assert.False(member.IsLearner);
    }

    [Fact]
    public void A_snapshot_table_without_the_new_fields_still_reads()
    {
        var old = """[{"Id":1,"Name":"n1","PeerUrls":["http://a:1"],"ClientUrls":[]}]"""u8;
        var (members, removed) = MemberTable.DeserializeTable(old);
        Assert.Single(members);
        Assert.False(members[0].IsLearner);
        Assert.Empty(removed);
    }

    [Theory]
    [InlineData("foo")]
    [InlineData("https://127.0.0.1")]
    [InlineData("http://127.0.0.1")]
    [InlineData("http://127.0.0.1:2380/path")]
    [InlineData("http://127.0.0.1:2380/")]
    [InlineData("unix://x:1")]
    public void Invalid_peer_urls_are_refused_as_etcd_does(string url)
    {
        var error = Assert.Throws<MembershipException>(() => MemberUrls.Parse([url]));
        Assert.Equal(MembershipError.BadMemberUrls, error.Error);
        Assert.Equal(MembershipError.BadMemberUrls, Assert.Throws<MembershipException>(() => MemberUrls.Parse([])).Error);
    }

    [Fact]
    public void Valid_peer_urls_are_kept()
    {
        Assert.Equal(["http://127.0.0.1:2380", "http://[::1]:2381"], MemberUrls.Parse([" http://127.0.0.1:2380 ", "http://[::1]:2381"]));
    }

    [Fact]
    public void New_member_ids_avoid_taken_ones()
    {
        var first = MemberIds.New(["http://a:1"], 7, DateTimeOffset.FromUnixTimeSeconds(100), _ => false);
        var second = MemberIds.New(["http://a:1"], 7, DateTimeOffset.FromUnixTimeSeconds(100), id => id == first);
        Assert.NotEqual(0UL, first);
        Assert.NotEqual(first, second);
        Assert.NotEqual(first, MemberIds.New(["http://a:1"], 7, DateTimeOffset.FromUnixTimeSeconds(101), _ => false));
    }

    private static byte[] Encode(Frame frame)
    {
        var output = new ArrayBufferWriter<byte>();
        FrameCodec.Write(output, frame, new ArrayBufferWriter<byte>());
        return output.WrittenSpan.ToArray();
    }

    private static Frame RoundTrip(Frame frame)
    {
        var buffer = new ReadOnlySequence<byte>(Encode(frame));
        Assert.True(FrameCodec.TryRead(ref buffer, FrameFormat.DefaultMaxFrameBytes, out var decoded, out _));
        return decoded!;
    }
}
