using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;

namespace Bulwark.Server.Api.Http2;

/// <summary>
/// The input side of an h2c connection, as Kestrel reads it, with <see cref="Http2AuthorityRewriter"/> applied to
/// the client's header blocks. Every other frame is handed to Kestrel in the transport's own buffers (no copy):
/// the reader only reveals the prefix of the transport's data that it has scanned. A header block that must
/// change is served alone, from its own array, in place of the original frames.
/// Input that does not start with the HTTP/2 preface, or whose framing is malformed, passes through untouched
/// for Kestrel to reject.
/// </summary>
internal sealed class AuthorityRewritingPipeReader : PipeReader
{
    private const long Unlimited = long.MaxValue / 4;

    private readonly PipeReader inner;
    private readonly Http2AuthorityRewriter rewriter = new();

    // Bytes from the start of the transport's unconsumed data that are scanned and may be shown as they are;
    // may run past the buffered data (the rest of a partly received DATA frame).
    private long approved;
    private bool prefaceSeen;
    private bool passThroughAll;

    // A rewritten block waiting at offset `approved` of the transport's data, and the original length it replaces.
    private byte[]? prepared;
    private long preparedOriginalLength;

    // A rewritten block being served.
    private byte[]? serving;
    private int servingOffset;

    private ReadOnlySequence<byte> lastTransport;
    private ReadOnlySequence<byte> lastShown;
    private bool lastWasServing;

    public AuthorityRewritingPipeReader(PipeReader inner)
    {
        ArgumentNullException.ThrowIfNull(inner);
        this.inner = inner;
    }

    /// <summary>Number of header blocks on this connection that were rewritten.</summary>
    public int Rewritten => rewriter.Rewritten;

    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        if (serving is not null)
        {
            return new ValueTask<ReadResult>(Serving());
        }

        // Kestrel reads again as soon as it has handled what it was given, so the transport often has data already:
        // answer without an async state machine then.
        var read = inner.ReadAsync(cancellationToken);
        if (read.IsCompletedSuccessfully && TryShow(read.Result, out var shown))
        {
            return new ValueTask<ReadResult>(shown);
        }

        return ReadSlowAsync(read, cancellationToken);
    }

    // Pooled: a connection waiting for the network suspends here on most reads; the state machine is reused, not allocated.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<ReadResult> ReadSlowAsync(ValueTask<ReadResult> read, CancellationToken cancellationToken)
    {
        if (read.IsCompletedSuccessfully)
        {
            var result = read.Result;
            inner.AdvanceTo(result.Buffer.Start, result.Buffer.End);
            read = inner.ReadAsync(cancellationToken);
        }

        while (true)
        {
            var result = await read.ConfigureAwait(false);
            if (TryShow(result, out var shown))
            {
                return shown;
            }

            inner.AdvanceTo(result.Buffer.Start, result.Buffer.End);
            read = inner.ReadAsync(cancellationToken);
        }
    }

    public override bool TryRead(out ReadResult result)
    {
        if (serving is not null)
        {
            result = Serving();
            return true;
        }

        if (!inner.TryRead(out var transport))
        {
            result = default;
            return false;
        }

        if (TryShow(transport, out result))
        {
            return true;
        }

        inner.AdvanceTo(transport.Buffer.Start, transport.Buffer.End);
        result = default;
        return false;
    }

    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        if (lastWasServing)
        {
            servingOffset += (int)lastShown.Slice(lastShown.Start, consumed).Length;
            if (servingOffset >= serving!.Length)
            {
                serving = null;
            }

            return;
        }

        approved -= lastShown.Slice(lastShown.Start, consumed).Length;

        // Kestrel saw everything shown and wants more; if what is hidden is an incomplete frame, the transport must
        // wait for more bytes too (if it is a prepared block, the next read returns at once and serves it).
        var examinedAll = lastShown.Slice(lastShown.Start, examined).Length == lastShown.Length;
        if (examinedAll && prepared is null && lastShown.Length < lastTransport.Length)
        {
            examined = lastTransport.End;
        }

        inner.AdvanceTo(consumed, examined);
    }

    public override void CancelPendingRead() => inner.CancelPendingRead();

    public override void Complete(Exception? exception = null) => inner.Complete(exception);

    private ReadResult Serving()
    {
        lastShown = new ReadOnlySequence<byte>(serving!, servingOffset, serving!.Length - servingOffset);
        lastWasServing = true;
        return new ReadResult(lastShown, isCanceled: false, isCompleted: false);
    }

    /// <summary>Decides what Kestrel sees of <paramref name="transport"/>; false when it should wait for more bytes.</summary>
    private bool TryShow(ReadResult transport, out ReadResult shown)
    {
        var buffer = transport.Buffer;
        Scan(buffer);
        if (prepared is not null && approved == 0)
        {
            serving = prepared;
            servingOffset = 0;
            prepared = null;
            inner.AdvanceTo(buffer.GetPosition(preparedOriginalLength));
            shown = Serving();
            return true;
        }

        var length = Math.Min(approved, buffer.Length);
        var completed = transport.IsCompleted;
        if (completed && prepared is null)
        {
            length = buffer.Length;
        }
        else if (length < buffer.Length)
        {
            completed = false;
        }

        if (length == 0 && !completed && !transport.IsCanceled)
        {
            shown = default;
            return false;
        }

        lastTransport = buffer;
        lastShown = buffer.Slice(0, length);
        lastWasServing = false;
        shown = new ReadResult(lastShown, transport.IsCanceled, completed);
        return true;
    }

    /// <summary>Extends <see cref="approved"/> over complete non-header frames and unchanged header blocks.</summary>
    private void Scan(in ReadOnlySequence<byte> buffer)
    {
        if (!prefaceSeen && !passThroughAll)
        {
            var preface = Http2Frame.ClientPreface;
            if (buffer.Length < preface.Length)
            {
                Span<byte> start = stackalloc byte[(int)buffer.Length];
                buffer.CopyTo(start);
                if (!preface.StartsWith(start))
                {
                    PassThroughAll();
                }

                return;
            }

            Span<byte> received = stackalloc byte[preface.Length];
            buffer.Slice(0, preface.Length).CopyTo(received);
            if (!received.SequenceEqual(preface))
            {
                PassThroughAll();
                return;
            }

            prefaceSeen = true;
            approved = preface.Length;
        }

        while (!passThroughAll && prepared is null && buffer.Length - approved >= Http2Frame.HeaderLength)
        {
            var header = Http2Frame.Header.Parse(buffer, approved);
            if (header.Type == Http2Frame.TypeContinuation)
            {
                PassThroughAll();
            }
            else if (header.Type != Http2Frame.TypeHeaders)
            {
                approved += Http2Frame.HeaderLength + header.Length;
            }
            else if (!ScanHeaderBlock(buffer.Slice(approved)))
            {
                return;
            }
        }
    }

    /// <summary>Handles the header block at <see cref="approved"/>; false when it is not complete yet.</summary>
    private bool ScanHeaderBlock(in ReadOnlySequence<byte> frames)
    {
        var length = Http2AuthorityRewriter.BlockLength(frames);
        if (length == -1)
        {
            return false;
        }

        if (length < 0)
        {
            PassThroughAll();
            return true;
        }

        var replacement = rewriter.Process(frames.Slice(0, length));
        if (rewriter.Disabled)
        {
            PassThroughAll();
        }
        else if (replacement is null)
        {
            approved += length;
        }
        else
        {
            prepared = replacement;
            preparedOriginalLength = length;
        }

        return true;
    }

    private void PassThroughAll()
    {
        passThroughAll = true;
        approved = Unlimited;
    }
}
