using Bulwark.Server.Hosting;

namespace Bulwark.Server.Tests.Hosting;

public sealed class LeaseKeeperTests
{
    // 100 ms ticks, election timeout 10 ticks (1 s).
    private static LeaseKeeper NewKeeper() => new(TimeSpan.FromMilliseconds(100), electionTicks: 10);

    private sealed class Store
    {
        public Dictionary<long, long> Leases { get; } = [];

        public List<long> Revoked { get; } = [];

        public IReadOnlyList<(long Id, long Ttl)> Grants() => [.. Leases.OrderBy(l => l.Key).Select(l => (l.Key, l.Value))];

        public void Revoke(long id) => Revoked.Add(id);
    }

    private static int TicksUntilRevoked(LeaseKeeper keeper, Store store, long id, int max, bool leader = true)
    {
        for (int t = 1; t <= max; t++)
        {
            keeper.Tick(leader, store.Grants, store.Revoke);
            if (store.Revoked.Contains(id))
            {
                return t;
            }
        }

        return -1;
    }

    [Fact]
    public void A_lease_granted_while_leading_expires_after_its_ttl_and_not_before()
    {
        var keeper = NewKeeper();
        var store = new Store();
        keeper.Tick(true, store.Grants, store.Revoke); // becomes leader
        store.Leases[7] = 2;
        Assert.True(keeper.Renew(7, 2)); // the grant starts its clock
        Assert.Equal(21, TicksUntilRevoked(keeper, store, 7, 100)); // 20 ticks of TTL and one of margin
    }

    [Fact]
    public void Keep_alives_hold_a_lease_and_remaining_time_counts_down()
    {
        var keeper = NewKeeper();
        var store = new Store();
        keeper.Tick(true, store.Grants, store.Revoke);
        store.Leases[1] = 1;
        keeper.Renew(1, 1);
        for (int i = 0; i < 100; i++)
        {
            keeper.Tick(true, store.Grants, store.Revoke);
            if (i % 5 == 4)
            {
                Assert.True(keeper.Renew(1, 1));
            }
        }

        Assert.Empty(store.Revoked);
        keeper.Tick(true, store.Grants, store.Revoke);
        Assert.Equal(1, keeper.RemainingSeconds(1, 1)); // 10 of the 11 ticks left: 1.0 s
        keeper.Tick(true, store.Grants, store.Revoke);
        Assert.Equal(0, keeper.RemainingSeconds(1, 1)); // 0.9 s left rounds down, as etcd's remaining(...)
        Assert.Equal(9, TicksUntilRevoked(keeper, store, 1, 100));
    }

    [Fact]
    public void A_new_leader_gives_every_lease_its_full_ttl_plus_an_election_timeout()
    {
        var keeper = NewKeeper();
        var store = new Store();
        store.Leases[3] = 1;
        for (int i = 0; i < 50; i++)
        {
            keeper.Tick(false, store.Grants, store.Revoke); // a follower never revokes and keeps no deadlines
        }

        Assert.Empty(store.Revoked);
        Assert.False(keeper.Renew(3, 1));
        Assert.Null(keeper.RemainingSeconds(3, 1));
        // Promoted on the first tick, then 10 ticks of TTL, one of margin and 10 of extension.
        Assert.Equal(22, TicksUntilRevoked(keeper, store, 3, 100));
    }

    [Fact]
    public void A_revoke_is_asked_again_only_after_an_election_timeout_and_dropped_leases_are_forgotten()
    {
        var keeper = NewKeeper();
        var store = new Store();
        store.Leases[9] = 1;
        Assert.Equal(22, TicksUntilRevoked(keeper, store, 9, 100)); // promotion tick + TTL + margin + extension
        store.Revoked.Clear();
        Assert.Equal(10, TicksUntilRevoked(keeper, store, 9, 100)); // the first revoke was lost: asked again
        store.Leases.Remove(9);
        store.Revoked.Clear();
        Assert.Equal(-1, TicksUntilRevoked(keeper, store, 9, 100));
    }
    /// <summary>
    /// Regression (simulator, profile deposed-lease-holder): a leader that stepped down kept renewing until its next
    /// tick, so a keep-alive confirmed through the new leader (a follower's ReadIndex) was promised a TTL the new
    /// leader never heard of, and the lease expired before the promise ran out.
    /// </summary>
    [Fact]
    public void A_member_that_steps_down_renews_nothing_even_before_its_next_tick()
    {
        var keeper = NewKeeper();
        var store = new Store();
        store.Leases[5] = 1;
        keeper.Tick(true, store.Grants, store.Revoke);
        Assert.Equal(1, keeper.KeepAlive(5, () => 1));

        keeper.LeadershipChanged(false, store.Grants);

        Assert.False(keeper.IsLeading);
        Assert.Null(keeper.KeepAlive(5, () => 1)); // forwarded to the leader instead
        Assert.False(keeper.Renew(5, 1));
    }

    [Fact]
    public void A_member_elected_leader_keeps_deadlines_at_once_with_the_promotion_extension()
    {
        var keeper = NewKeeper();
        var store = new Store();
        store.Leases[4] = 1;
        keeper.Tick(false, store.Grants, store.Revoke);

        keeper.LeadershipChanged(true, store.Grants);

        Assert.True(keeper.IsLeading);
        Assert.Equal(2, keeper.RemainingSeconds(4, 1)); // 10 ticks of TTL, one of margin, 10 of extension: 2.1 s
        Assert.Equal(21, TicksUntilRevoked(keeper, store, 4, 100));
    }

    /// <summary>
    /// A keep-alive that arrives after the leader found the lease expired (its revocation proposed, not yet applied)
    /// must not be renewed: the revocation is in the log and will delete the keys within the promised TTL. etcd
    /// answers such a keep-alive "not found" (TTL 0); so do we.
    /// </summary>
    [Fact]
    public void A_lease_whose_revocation_was_proposed_is_not_renewed()
    {
        var keeper = NewKeeper();
        var store = new Store();
        keeper.Tick(true, store.Grants, store.Revoke);
        store.Leases[9] = 1;
        keeper.Renew(9, 1);
        Assert.Equal(11, TicksUntilRevoked(keeper, store, 9, 100));

        Assert.Equal(0, keeper.KeepAlive(9, () => 1)); // still in the store, but its revocation is on its way
        Assert.False(keeper.Renew(9, 1));
    }
    [Fact]
    public void One_leadership_confirmation_serves_keep_alives_for_half_an_election_timeout_of_the_same_term()
    {
        var keeper = NewKeeper();
        var store = new Store();
        keeper.Tick(true, store.Grants, store.Revoke);
        Assert.False(keeper.RecentlyConfirmed); // a new leader has confirmed nothing yet

        var ticket = keeper.BeginConfirmation();
        keeper.Tick(true, store.Grants, store.Revoke); // the round takes a tick
        keeper.Confirmed(ticket);
        Assert.True(keeper.RecentlyConfirmed);
        for (int i = 0; i < 4; i++)
        {
            keeper.Tick(true, store.Grants, store.Revoke);
        }

        Assert.True(keeper.RecentlyConfirmed); // 5 ticks after the round was asked for: half the 10-tick election timeout
        keeper.Tick(true, store.Grants, store.Revoke);
        Assert.False(keeper.RecentlyConfirmed);

        // A confirmation asked for in an earlier term of leading counts for nothing in the next one.
        var stale = keeper.BeginConfirmation();
        keeper.LeadershipChanged(false, store.Grants);
        keeper.LeadershipChanged(true, store.Grants);
        keeper.Confirmed(stale);
        Assert.False(keeper.RecentlyConfirmed);
        keeper.Confirmed(keeper.BeginConfirmation());
        Assert.True(keeper.RecentlyConfirmed);
        keeper.LeadershipChanged(false, store.Grants);
        Assert.False(keeper.RecentlyConfirmed);
    }
}
