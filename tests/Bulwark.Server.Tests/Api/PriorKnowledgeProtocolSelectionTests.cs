using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Bulwark.Server.Api;

namespace Bulwark.Server.Tests.Api;

/// <summary>How the client port tells an h2c gRPC connection from an HTTP/1.1 request: by the first bytes, consuming none.</summary>
public sealed class PriorKnowledgeProtocolSelectionTests
{
    [Fact]
    public async Task The_preface_arriving_in_pieces_is_http2_and_stays_readable()
    {
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync(Encoding.ASCII.GetBytes("PRI * HTTP/2"));
        var decision = PriorKnowledgeProtocolSelection.StartsWithPrefaceAsync(pipe.Reader, CancellationToken.None);
        // The bytes were there before the call, so a decision on them would have completed synchronously.
        Assert.False(decision.IsCompleted, "decided on half a preface");
        await pipe.Writer.WriteAsync(Encoding.ASCII.GetBytes(".0\r\n\r\nSM\r\n\r\n\0\0\0\x04"));
        Assert.True(await decision.WaitAsync(TimeSpan.FromSeconds(30)));
        await AssertUnconsumedAsync(pipe.Reader, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04");
    }

    [Theory]
    [InlineData("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")]
    [InlineData("P")]
    [InlineData("PRX")]
    public async Task Anything_else_is_http1_and_stays_readable(string first)
    {
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync(Encoding.ASCII.GetBytes(first));
        if (first.Length < 3)
        {
            await pipe.Writer.CompleteAsync(); // a prefix of the preface, then the client closed
        }

        Assert.False(await PriorKnowledgeProtocolSelection.StartsWithPrefaceAsync(pipe.Reader, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30)));
        await AssertUnconsumedAsync(pipe.Reader, first);
    }

    private static async Task AssertUnconsumedAsync(PipeReader reader, string expected)
    {
        var read = await reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(expected, Encoding.ASCII.GetString(read.Buffer.ToArray()));
        reader.AdvanceTo(read.Buffer.End);
    }
}
