using System.Runtime.InteropServices;

namespace Bulwark.Chaos.Cluster;

/// <summary>SIGSTOP and SIGCONT, which .NET's Process API cannot send.</summary>
internal static class Signals
{
    private const int Sigcont = 18;
    private const int Sigstop = 19;

    public static void Stop(int pid) => Send(pid, Sigstop, "SIGSTOP");

    public static void Continue(int pid) => Send(pid, Sigcont, "SIGCONT");

    /// <summary>The process's state letter from /proc (T = stopped, R/S/D = running or sleeping), or null when it is gone.</summary>
    public static char? State(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var close = stat.LastIndexOf(')');
            return close > 0 && close + 2 < stat.Length ? stat[close + 2] : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static void Send(int pid, int signal, string name)
    {
        if (Kill(pid, signal) != 0)
        {
            throw new InvalidOperationException($"{name} to pid {pid} failed (errno {Marshal.GetLastPInvokeError()})");
        }
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
