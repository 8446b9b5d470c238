using System.Numerics;
using System.Runtime.InteropServices;

namespace Bulwark.Storage;

/// <summary>
/// CRC-32C (Castagnoli), the checksum of every WAL record and snapshot file.
/// System.IO.Hashing only ships the IEEE CRC-32, so this uses <see cref="BitOperations.Crc32C(uint, ulong)"/>,
/// which compiles to the SSE4.2 / ARMv8 CRC instruction where present and falls back to a table otherwise.
/// </summary>
public static class Crc32C
{
    /// <summary>The CRC-32C of <paramref name="data"/> (standard: initial value and final XOR all ones).</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => ~Update(uint.MaxValue, data);

    /// <summary>
    /// Continues a running CRC state. Start with <see cref="uint.MaxValue"/> and finish with a bitwise NOT,
    /// or use <see cref="Compute"/> for one buffer.
    /// </summary>
    public static uint Update(uint state, ReadOnlySpan<byte> data)
    {
        while (data.Length >= 8)
        {
            state = BitOperations.Crc32C(state, MemoryMarshal.Read<ulong>(data));
            data = data[8..];
        }

        if (data.Length >= 4)
        {
            state = BitOperations.Crc32C(state, MemoryMarshal.Read<uint>(data));
            data = data[4..];
        }

        foreach (var b in data)
        {
            state = BitOperations.Crc32C(state, b);
        }

        return state;
    }
}
