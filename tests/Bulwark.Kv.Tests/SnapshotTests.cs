using Bulwark.Api.Etcdserverpb;
using static Bulwark.Kv.Tests.Kv;

namespace Bulwark.Kv.Tests;

public sealed class SnapshotTests
{
    private static MvccStore Sample()
    {
        var s = new MvccStore();
        s.LeaseGrant(new LeaseGrantRequest { ID = -3, TTL = 30 });
        s.LeaseGrant(new LeaseGrantRequest { ID = 8, TTL = 60 });
        for (int i = 0; i < 500; i++)
        {
            s.Put($"key{i % 97:D3}", $"value{i}", lease: i % 5 == 0 ? 8 : i % 7 == 0 ? -3 : 0);
        }

        s.Delete("key01", Prefix("key01"));
        s.Compact(new CompactionRequest { Revision = 300 });
        s.Put("empty", "");
        return s;
    }

    private static byte[] Bytes(MvccStore s)
    {
        using var ms = new MemoryStream();
        s.WriteSnapshot(ms);
        return ms.ToArray();
    }

    [Fact]
    public void Round_trip_gives_identical_bytes_and_behaviour()
    {
        var s = Sample();
        var bytes = Bytes(s);
        var restored = MvccStore.ReadSnapshot(new MemoryStream(bytes));
        Assert.Equal(bytes, Bytes(restored));
        Assert.Equal(s.ContentHash(), restored.ContentHash());
        Assert.Equal(s.Revision, restored.Revision);
        Assert.Equal(s.CompactRevision, restored.CompactRevision);
        Assert.Equal(s.IndexedKeyCount, restored.IndexedKeyCount);

        foreach (long rev in new long[] { 300, 350, 450, s.Revision })
        {
            var req = new RangeRequest { Key = AllFrom, RangeEnd = AllFrom, Revision = rev };
            Assert.Equal(s.Range(req), restored.Range(req));
        }

        Assert.True(restored.TryGetLease(8, out var lease));
        Assert.True(s.TryGetLease(8, out var original));
        Assert.Equal(original!.Keys, lease!.Keys);

        // Both continue identically.
        s.LeaseRevoke(new LeaseRevokeRequest { ID = 8 });
        restored.LeaseRevoke(new LeaseRevokeRequest { ID = 8 });
        Assert.Equal(s.LeaseGrant(new LeaseGrantRequest { TTL = 1 }).ID, restored.LeaseGrant(new LeaseGrantRequest { TTL = 1 }).ID);
        Assert.Equal(Bytes(s), Bytes(restored));
    }

    [Fact]
    public void Same_state_built_differently_gives_same_bytes()
    {
        var a = new MvccStore();
        a.Put("x", "1");
        a.Put("y", "2");
        var b = new MvccStore();
        b.Txn(new TxnRequest { Success = { OpPut("x", "1") } });
        b.Txn(new TxnRequest { Success = { OpPut("y", "2") } });
        Assert.Equal(Bytes(a), Bytes(b));
    }

    [Fact]
    public void Empty_store_round_trips()
    {
        var restored = MvccStore.ReadSnapshot(new MemoryStream(Bytes(new MvccStore())));
        Assert.Equal(1, restored.Revision);
        Assert.Equal(0, restored.IndexedKeyCount);
    }

    [Fact]
    public void Corruption_anywhere_is_detected()
    {
        var bytes = Bytes(Sample());
        for (int i = 0; i < bytes.Length; i += Math.Max(1, bytes.Length / 200))
        {
            var copy = (byte[])bytes.Clone();
            copy[i] ^= 0x40;
            Assert.ThrowsAny<InvalidDataException>(() => MvccStore.ReadSnapshot(new MemoryStream(copy)));
        }
    }

    [Fact]
    public void Truncation_is_detected()
    {
        var bytes = Bytes(Sample());
        foreach (int cut in new[] { 0, 5, 12, bytes.Length / 2, bytes.Length - 1 })
        {
            var e = Assert.ThrowsAny<InvalidDataException>(() => MvccStore.ReadSnapshot(new MemoryStream(bytes, 0, cut)));
            Assert.Contains("snapshot", e.Message, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public void Unknown_format_version_is_refused_by_name()
    {
        var bytes = Bytes(new MvccStore());
        bytes[8] = 99;
        var e = Assert.Throws<InvalidDataException>(() => MvccStore.ReadSnapshot(new MemoryStream(bytes)));
        Assert.Contains("format version 99", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void State_machine_restore_replaces_the_store()
    {
        var source = new KvStateMachine(Sample());
        using var ms = new MemoryStream();
        source.WriteSnapshot(ms);
        var target = new KvStateMachine();
        target.Store.Put("other", "x");
        ms.Position = 0;
        target.RestoreSnapshot(ms);
        Assert.Equal(source.Store.ContentHash(), target.Store.ContentHash());
        Assert.Null(target.Store.Get("other"));
    }
}
