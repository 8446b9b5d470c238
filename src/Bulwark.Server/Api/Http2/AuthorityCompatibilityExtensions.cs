using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Bulwark.Server.Api.Http2;

/// <summary>Installs <see cref="AuthorityRewritingPipeReader"/> on a Kestrel h2c endpoint.</summary>
public static class AuthorityCompatibilityExtensions
{
    /// <summary>
    /// Accept etcd clients that send a URL as the HTTP/2 :authority (etcdctl 3.4 with <c>--endpoints http://...</c>),
    /// which Kestrel would otherwise reset with PROTOCOL_ERROR before any handler runs; real etcd accepts them.
    /// </summary>
    public static ListenOptions UseUrlAuthorityCompatibility(this ListenOptions listen)
    {
        ArgumentNullException.ThrowIfNull(listen);
        listen.Use(next => context =>
        {
            var transport = context.Transport;
            context.Transport = new RewrittenInputPipe(new AuthorityRewritingPipeReader(transport.Input), transport.Output);
            return next(context);
        });
        return listen;
    }

    private sealed class RewrittenInputPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
