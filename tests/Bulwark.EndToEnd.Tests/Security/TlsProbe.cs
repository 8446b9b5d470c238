using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace Bulwark.EndToEnd.Tests.Security;

/// <summary>Raw TLS connections a test makes to a member's port: what certificate it presents, and whether it lets a given client in.</summary>
internal static class TlsProbe
{
    /// <summary>The serial number of the certificate the listener at 127.0.0.1:<paramref name="port"/> presents to a new connection.</summary>
    public static async Task<string> PresentedSerialAsync(int port, X509Certificate2? clientCertificate)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", port);
        await using var ssl = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false);
        string? serial = null;
        await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "127.0.0.1",
            ClientCertificates = clientCertificate is null ? null : [clientCertificate],
            EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            {
                serial = certificate is null ? null : new X509Certificate2(certificate).SerialNumber;
                return true;
            },
        });
        return serial ?? throw new InvalidOperationException("the listener presented no certificate");
    }

    /// <summary>
    /// Dials the peer port like a member would (TLS with <paramref name="clientCertificate"/>, or plain TCP when
    /// <paramref name="tls"/> is false), sends a Raft handshake frame and says whether the listener kept the connection
    /// open long enough to answer: false when it was refused (TLS failed, or the listener closed without an answer).
    /// </summary>
    public static async Task<bool> PeerAnswersAsync(int port, bool tls, X509Certificate2? clientCertificate)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", port);
        Stream stream = tcp.GetStream();
        try
        {
            if (tls)
            {
                var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = ssl;
                await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
                {
                    TargetHost = "127.0.0.1",
                    ClientCertificates = clientCertificate is null ? null : [clientCertificate],
                    EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                    RemoteCertificateValidationCallback = (_, _, _, _) => true,
                });
            }

            // A handshake frame as a member sends it (any ids will do: a listener that got this far answers with an
            // ack, accepting or refusing; one that refused the connection closes it without a word).
            var frame = new System.Buffers.ArrayBufferWriter<byte>();
            Bulwark.Server.Transport.FrameCodec.Write(frame, new Bulwark.Server.Transport.HandshakeFrame(1, 2, 3), new System.Buffers.ArrayBufferWriter<byte>());
            await stream.WriteAsync(frame.WrittenMemory);
            await stream.FlushAsync();
            var answer = new byte[4];
            using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            return await stream.ReadAsync(answer, patience.Token) > 0;
        }
        catch (Exception e) when (e is AuthenticationException or IOException or SocketException)
        {
            return false;
        }
        finally
        {
            await stream.DisposeAsync();
        }
    }
}
