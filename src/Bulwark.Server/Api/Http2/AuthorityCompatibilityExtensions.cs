using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Bulwark.Server.Api.Http2;

/// <summary>
/// The HTTP/2 :authority shim's one entry point (docs/http2-authority.md): installs
/// <see cref="AuthorityRewritingPipeReader"/> on a Kestrel endpoint's connections. Everything else in this namespace is
/// internal to the shim.
/// </summary>
public static class AuthorityCompatibilityExtensions
{
    /// <summary>
    /// Accept etcd clients that send a URL as the HTTP/2 :authority (etcdctl 3.4 with <c>--endpoints http://...</c>),
    /// which Kestrel would otherwise reset with PROTOCOL_ERROR before any handler runs; real etcd accepts them.
    /// Install it after the middleware that decides the protocol (TLS, or prior-knowledge h2c): connections that do not
    /// start with the HTTP/2 client preface pass through untouched.
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
