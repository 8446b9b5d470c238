using System.Security.Cryptography;
using Bulwark.EndToEnd.Tests.Cli;
using Bulwark.Server.Hosting;

namespace Bulwark.EndToEnd.Tests.Security;

/// <summary>
/// `bulwark serve` refuses a broken --auth-token jwt setup at start, as it refuses broken TLS: exit code 2, a message
/// naming the flag, the option and the file, and no data dir made. (The full catalogue is AuthTokenSettingTests.)
/// </summary>
public sealed class JwtConfigurationTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("bulwark-jwtserve-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    [Fact]
    public async Task AnUnknownSignMethodAMissingKeyFileOrAKeyOfTheWrongKindStopsServeWithExitCode2()
    {
        using var rsa = RSA.Create(2048);
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var rsaKey = Path.Combine(root, "rsa.key");
        var ecPub = Path.Combine(root, "ec.pub");
        await File.WriteAllTextAsync(rsaKey, rsa.ExportPkcs8PrivateKeyPem());
        await File.WriteAllTextAsync(ecPub, ec.ExportSubjectPublicKeyInfoPem());
        var absent = Path.Combine(root, "absent.pem");
        var ports = LoopbackPorts.Take(3);

        (string Spec, string Expected)[] catalogue =
        [
            ($"jwt,priv-key={rsaKey},sign-method=XS256", "--auth-token: sign-method 'XS256' is not supported"),
            ($"jwt,pub-key={absent},sign-method=RS256", $"--auth-token: pub-key file '{absent}' does not exist"),
            ($"jwt,pub-key={ecPub},priv-key={rsaKey},sign-method=RS256", $"--auth-token: pub-key file '{ecPub}' holds no PEM RSA public key"),
        ];

        foreach (var (spec, expected) in catalogue)
        {
            var dataDir = Path.Combine(root, "data-" + Guid.NewGuid().ToString("N")[..8]);
            string[] command =
            [
                "serve", "--data-dir", dataDir, "--name", "n1", "--listen-client-urls", $"http://127.0.0.1:{ports[0]}",
                "--listen-peer-urls", $"http://127.0.0.1:{ports[1]}", "--initial-cluster", $"n1=http://127.0.0.1:{ports[1]}",
                "--listen-metrics-urls", $"http://127.0.0.1:{ports[2]}", "--auth-token", spec,
            ];
            var (code, output, error) = await BulwarkProcess.RunAsync(null, command);
            var printed = System.Text.Encoding.UTF8.GetString(output) + error;
            Assert.True(code == 2, $"bulwark {string.Join(' ', command)} exited {code}, not 2: {printed}");
            Assert.Contains(expected, error, StringComparison.Ordinal);
            Assert.False(Directory.Exists(dataDir), $"a refused start created its data dir: {spec}");
        }
    }
}
