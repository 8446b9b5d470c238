using Bulwark.Api.Etcdserverpb;
using Bulwark.Kv.Errors;
using Grpc.Core;
using static Bulwark.Kv.Tests.Kv;

namespace Bulwark.Kv.Tests;

/// <summary>MvccStore.HashKV: what etcd's HashKV hashes (every retained key state up to a revision), and its errors.</summary>
public sealed class HashKvTests
{
    /// <summary>The same writes as <paramref name="count"/> steps of one history: puts, overwrites, a delete, a lease.</summary>
    private static MvccStore Apply(int count)
    {
        var s = new MvccStore();
        s.LeaseGrant(new LeaseGrantRequest { ID = 7, TTL = 30 });
        for (int i = 0; i < count; i++)
        {
            if (i % 11 == 10)
            {
                s.Delete($"k{i % 13:D2}");
            }
            else
            {
                s.Put($"k{i % 13:D2}", $"v{i}", lease: i % 4 == 0 ? 7 : 0);
            }
        }

        return s;
    }

    [Fact]
    public void Equal_histories_hash_equal_and_a_snapshot_round_trip_keeps_the_hash()
    {
        var a = Apply(60);
        var b = Apply(60);
        Assert.Equal(a.HashKV(0), b.HashKV(0));

        using var bytes = new MemoryStream();
        a.WriteSnapshot(bytes);
        bytes.Position = 0;
        var restored = MvccStore.ReadSnapshot(bytes);
        Assert.Equal(a.HashKV(0), restored.HashKV(0));
    }

    [Fact]
    public void A_store_missing_the_last_write_hashes_differently_and_like_the_full_store_at_its_revision()
    {
        var full = Apply(60);
        var behind = Apply(59);
        var fullHash = full.HashKV(0);
        var behindHash = behind.HashKV(0);
        Assert.NotEqual(fullHash.Hash, behindHash.Hash);
        Assert.Equal(full.Revision, fullHash.Revision);
        Assert.Equal(full.Revision, fullHash.HashRevision);

        // The full store hashed at the lagging store's revision sees exactly what the lagging store holds.
        var atBehind = full.HashKV(behind.Revision);
        Assert.Equal(behindHash.Hash, atBehind.Hash);
        Assert.Equal(behind.Revision, atBehind.HashRevision);
        Assert.Equal(full.Revision, atBehind.Revision);
    }

    [Fact]
    public void A_changed_value_or_a_delete_changes_the_hash()
    {
        var a = new MvccStore();
        var b = new MvccStore();
        a.Put("k", "v1");
        b.Put("k", "v2");
        Assert.NotEqual(a.HashKV(0).Hash, b.HashKV(0).Hash);

        var put = new MvccStore();
        var deleted = new MvccStore();
        put.Put("k", "");
        put.Put("x", "");
        deleted.Put("k", "");
        deleted.Delete("k");
        Assert.Equal(put.Revision, deleted.Revision);
        Assert.NotEqual(put.HashKV(0).Hash, deleted.HashKV(0).Hash);
    }

    [Fact]
    public void Compaction_keeps_the_hash_of_revisions_after_it_equal_on_members_that_compacted_alike()
    {
        var a = Apply(80);
        var b = Apply(80);
        a.Compact(new CompactionRequest { Revision = 40 });
        b.Compact(new CompactionRequest { Revision = 40 });
        var hash = a.HashKV(0);
        Assert.Equal(hash, b.HashKV(0));
        Assert.Equal(40, hash.CompactRevision);

        // Hashing at the compact revision itself is allowed (the store still holds every key's state at it).
        Assert.Equal(a.HashKV(40), b.HashKV(40));
    }

    [Fact]
    public void Future_and_compacted_revisions_fail_with_etcds_errors()
    {
        var s = Apply(30);
        var future = Assert.Throws<KvException>(() => s.HashKV(s.Revision + 1));
        Assert.Equal(StatusCode.OutOfRange, future.StatusCode);
        Assert.Equal("etcdserver: mvcc: required revision is a future revision", future.Message);

        s.Compact(new CompactionRequest { Revision = 20 });
        var compacted = Assert.Throws<KvException>(() => s.HashKV(19));
        Assert.Equal(StatusCode.OutOfRange, compacted.StatusCode);
        Assert.Equal("etcdserver: mvcc: required revision has been compacted", compacted.Message);
    }
}
