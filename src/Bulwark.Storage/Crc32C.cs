using System.Numerics;
using System.Runtime.InteropServices;

namespace Bulwark.Storage;

/// <summary>
/// CRC-32C (Castagnoli), the checksum of every WAL record and snapshot file.
/// System.IO.Hashing only ships the IEEE CRC-32, so this uses <see cref="BitOperations.Crc32C(uint, ulong)"/>,
/// which compiles to the SSE4.2 / ARMv8 CRC instruction where present and falls back to a table otherwise.
/// The instruction has a latency of about three cycles but a throughput of one per cycle, so long inputs are cut into
/// three interleaved lanes whose results are joined with a precomputed "append <see cref="Lane"/> zero bytes" operator.
/// </summary>
public static class Crc32C
{
    private const int Lane = 1024;

    // ShiftTables[k][b] = the CRC register (b << 8k) advanced over Lane zero bytes. CRC is linear over GF(2), so
    // advancing any register is the XOR of its four bytes' entries.
    private static readonly uint[][] ShiftTables = BuildShiftTables();

    /// <summary>The CRC-32C of <paramref name="data"/> (standard: initial value and final XOR all ones).</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => ~Update(uint.MaxValue, data);

    /// <summary>
    /// Continues a running CRC state. Start with <see cref="uint.MaxValue"/> and finish with a bitwise NOT,
    /// or use <see cref="Compute"/> for one buffer.
    /// </summary>
    public static uint Update(uint state, ReadOnlySpan<byte> data)
    {
        while (data.Length >= 3 * Lane)
        {
            var words = MemoryMarshal.Cast<byte, ulong>(data[..(3 * Lane)]);
            var a = words[..(Lane / 8)];
            var b = words.Slice(Lane / 8, Lane / 8);
            var c = words.Slice(2 * Lane / 8, Lane / 8);
            uint crcA = state, crcB = 0, crcC = 0;
            for (var i = 0; i < a.Length; i++)
            {
                crcA = BitOperations.Crc32C(crcA, a[i]);
                crcB = BitOperations.Crc32C(crcB, b[i]);
                crcC = BitOperations.Crc32C(crcC, c[i]);
            }

            state = ShiftLane(ShiftLane(crcA) ^ crcB) ^ crcC;
            data = data[(3 * Lane)..];
        }

        return UpdateSerial(state, data);
    }

    /// <summary>The plain one-lane loop (also the reference the tests compare the lanes against).</summary>
    internal static uint UpdateSerial(uint state, ReadOnlySpan<byte> data)
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

    private static uint ShiftLane(uint crc)
    {
        var t = ShiftTables;
        return t[0][crc & 0xFF] ^ t[1][(crc >> 8) & 0xFF] ^ t[2][(crc >> 16) & 0xFF] ^ t[3][crc >> 24];
    }

    private static uint[][] BuildShiftTables()
    {
        // The operator on each of the 32 basis registers, then every byte value by linearity.
        var basis = new uint[32];
        for (var bit = 0; bit < 32; bit++)
        {
            var crc = 1u << bit;
            for (var i = 0; i < Lane / 8; i++)
            {
                crc = BitOperations.Crc32C(crc, 0ul);
            }

            basis[bit] = crc;
        }

        var tables = new uint[4][];
        for (var k = 0; k < 4; k++)
        {
            tables[k] = new uint[256];
            for (var value = 0; value < 256; value++)
            {
                uint shifted = 0;
                for (var bit = 0; bit < 8; bit++)
                {
                    if ((value & (1 << bit)) != 0)
                    {
                        shifted ^= basis[8 * k + bit];
                    }
                }

                tables[k][value] = shifted;
            }
        }

        return tables;
    }
}
