using System.IO.Pipelines;
using Bulwark.Server.Api.Http2;

namespace Bulwark.Bench.Http2Shim;

internal static class ShimEntry
{
    public static PipeReader Wrap(PipeReader transport) => new AuthorityRewritingPipeReader(transport);
}
