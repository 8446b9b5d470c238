using System.Buffers;
using System.IO.Pipelines;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Bulwark.Server.Api;

/// <summary>
/// HTTP/1.1 and prior-knowledge h2c on one plaintext endpoint, as etcd serves gRPC next to /metrics, /health and
/// /version on its client port. Kestrel (.NET 10) cannot do this alone: on a cleartext endpoint allowing both it always
/// picks HTTP/1.1, since without TLS there is no ALPN to choose by. This connection middleware peeks at the first bytes
/// without consuming them; when they are the HTTP/2 client preface ("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") it tells
/// Kestrel "h2" the way ALPN would (a TLS application-protocol feature on the connection; no TLS is involved);
/// anything else is left to Kestrel's HTTP/1.1. (The :authority shim for etcdctl 3.4 is a separate middleware that
/// ServerHost installs after this one: <see cref="Http2.AuthorityCompatibilityExtensions"/>.)
/// </summary>
public static class PriorKnowledgeProtocolSelection
{
    private static readonly byte[] Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray();

    private static readonly ReadOnlyMemory<byte> H2 = "h2"u8.ToArray();

    /// <summary>How long a new connection may stay silent before it is closed (Kestrel's default keep-alive timeout).</summary>
    private static readonly TimeSpan FirstBytesTimeout = TimeSpan.FromSeconds(130);

    /// <summary>
    /// Serves HTTP/1.1 and h2c (prior knowledge) on <paramref name="listen"/>. The Kestrel options must allow alternate
    /// schemes (<see cref="KestrelServerOptions.AllowAlternateSchemes"/>): Kestrel takes the ALPN feature for TLS and
    /// would otherwise refuse the h2c clients' ":scheme http".
    /// </summary>
    public static ListenOptions UseHttp1AndPriorKnowledgeH2c(this ListenOptions listen)
    {
        ArgumentNullException.ThrowIfNull(listen);
        listen.Protocols = HttpProtocols.Http1AndHttp2;
        listen.Use(next => async context =>
        {
            bool http2;
            // Closed, the server shutting down (which asks connections to close), or silent too long: stop waiting.
            var closing = context.Features.Get<IConnectionLifetimeNotificationFeature>()?.ConnectionClosedRequested ?? CancellationToken.None;
            using (var silent = CancellationTokenSource.CreateLinkedTokenSource(context.ConnectionClosed, closing))
            {
                silent.CancelAfter(FirstBytesTimeout);
                try
                {
                    http2 = await StartsWithPrefaceAsync(context.Transport.Input, silent.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return; // close it
                }
            }

            if (http2)
            {
                context.Features.Set<ITlsApplicationProtocolFeature>(new NegotiatedH2());
                context.Features.Set<ITlsConnectionFeature>(new NegotiatedH2());
            }

            await next(context).ConfigureAwait(false);
        });
        return listen;
    }

    /// <summary>Reads until the bytes received either are the whole preface or differ from it; consumes nothing.</summary>
    internal static async Task<bool> StartsWithPrefaceAsync(PipeReader input, CancellationToken cancel)
    {
        while (true)
        {
            var result = await input.ReadAsync(cancel).ConfigureAwait(false);
            var buffer = result.Buffer;
            var length = (int)Math.Min(buffer.Length, Preface.Length);
            var start = new byte[length];
            buffer.Slice(0, length).CopyTo(start);
            var decided = !start.AsSpan().SequenceEqual(Preface.AsSpan(0, length)) || length == Preface.Length || result.IsCompleted || result.IsCanceled;
            // Decided: nothing examined, so the protocol's first read returns these bytes at once. Not yet: all examined,
            // so the next read waits for more.
            input.AdvanceTo(buffer.Start, decided ? buffer.Start : buffer.End);
            if (decided)
            {
                return length == Preface.Length && start.AsSpan().SequenceEqual(Preface);
            }
        }
    }

    /// <summary>What ALPN would have said: h2. Kestrel reads the connection feature's presence as "negotiated".</summary>
    private sealed class NegotiatedH2 : ITlsApplicationProtocolFeature, ITlsConnectionFeature
    {
        public ReadOnlyMemory<byte> ApplicationProtocol => H2;

        public X509Certificate2? ClientCertificate
        {
            get => null;
            set => throw new NotSupportedException("h2c has no client certificate");
        }

        public Task<X509Certificate2?> GetClientCertificateAsync(CancellationToken cancellationToken) => Task.FromResult<X509Certificate2?>(null);
    }
}
