using Bulwark.Api.Etcdserverpb;
using Bulwark.Api.Mvccpb;
using static Bulwark.Kv.Tests.Kv;

namespace Bulwark.Kv.Tests;

public sealed class LeaseTests
{
    [Fact]
    public void Grant_with_id_zero_picks_deterministic_free_ids()
    {
        var s = new MvccStore();
        s.LeaseGrant(new LeaseGrantRequest { ID = 2, TTL = 5 });
        Assert.Equal(1, s.LeaseGrant(new LeaseGrantRequest { TTL = 5 }).ID);
        Assert.Equal(3, s.LeaseGrant(new LeaseGrantRequest { TTL = 5 }).ID);
        Assert.Equal([1L, 2L, 3L], s.LeaseIds());
        Assert.Equal(1, s.Revision); // grants do not move the revision
    }

    [Fact]
    public void Revoke_deletes_attached_keys_at_one_revision_in_key_order()
    {
        var s = new MvccStore();
        s.LeaseGrant(new LeaseGrantRequest { ID = 5, TTL = 5 });
        s.Put("z", "1", lease: 5);
        s.Put("a", "1", lease: 5);
        s.Put("m", "1");
        s.Put("m", "2", lease: 5);
        s.Put("m", "3"); // re-put without lease detaches
        Assert.True(s.TryGetLease(5, out var info));
        Assert.Equal(["a", "z"], info!.Keys.Select(k => System.Text.Encoding.UTF8.GetString(k)));
        Assert.Equal(5, info.GrantedTtl);

        var events = new List<Event>();
        var r = s.LeaseRevoke(new LeaseRevokeRequest { ID = 5 }, events);
        Assert.Equal(7, r.Header.Revision);
        Assert.Equal(["a", "z"], events.Select(e => S(e.Kv.Key)));
        Assert.All(events, e => Assert.Equal(Event.Types.EventType.Delete, e.Type));
        Assert.Null(s.Get("a"));
        Assert.Null(s.Get("z"));
        Assert.NotNull(s.Get("m"));
        Assert.False(s.TryGetLease(5, out _));
    }

    [Fact]
    public void Revoking_a_lease_without_keys_does_not_move_the_revision()
    {
        var s = new MvccStore();
        s.LeaseGrant(new LeaseGrantRequest { ID = 5, TTL = 5 });
        Assert.Equal(1, s.LeaseRevoke(new LeaseRevokeRequest { ID = 5 }).Header.Revision);
        Assert.Equal(1, s.Revision);
    }

    [Fact]
    public void Deleting_a_key_detaches_it_from_its_lease()
    {
        var s = new MvccStore();
        s.LeaseGrant(new LeaseGrantRequest { ID = 5, TTL = 5 });
        s.Put("a", "1", lease: 5);
        s.Delete("a");
        s.Put("a", "2");
        s.LeaseRevoke(new LeaseRevokeRequest { ID = 5 });
        Assert.Equal("2", S(s.Get("a")!.Value));
    }
}
