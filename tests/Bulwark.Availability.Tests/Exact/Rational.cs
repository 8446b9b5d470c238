using System.Numerics;

namespace Bulwark.Availability.Tests.Exact;

/// <summary>An exact fraction of big integers, always in lowest terms with a positive denominator.</summary>
public readonly record struct Rational : IComparable<Rational>
{
    public Rational(BigInteger numerator, BigInteger denominator)
    {
        if (denominator.IsZero)
        {
            throw new DivideByZeroException();
        }

        if (denominator.Sign < 0)
        {
            numerator = -numerator;
            denominator = -denominator;
        }

        var g = BigInteger.GreatestCommonDivisor(numerator, denominator);
        if (!g.IsOne && !g.IsZero)
        {
            numerator /= g;
            denominator /= g;
        }

        Numerator = numerator;
        Denominator = numerator.IsZero ? BigInteger.One : denominator;
    }

    public BigInteger Numerator { get; }

    public BigInteger Denominator { get; }

    public static Rational Zero => new(0, 1);

    public static Rational One => new(1, 1);

    public bool IsZero => Numerator.IsZero;

    public static Rational Of(long n, long d = 1) => new(n, d);

    public static implicit operator Rational(long n) => new(n, 1);

    public static Rational operator +(Rational a, Rational b) =>
        new((a.Numerator * b.Denominator) + (b.Numerator * a.Denominator), a.Denominator * b.Denominator);

    public static Rational operator -(Rational a, Rational b) =>
        new((a.Numerator * b.Denominator) - (b.Numerator * a.Denominator), a.Denominator * b.Denominator);

    public static Rational operator -(Rational a) => new(-a.Numerator, a.Denominator);

    public static Rational operator *(Rational a, Rational b) => new(a.Numerator * b.Numerator, a.Denominator * b.Denominator);

    public static Rational operator /(Rational a, Rational b) => new(a.Numerator * b.Denominator, a.Denominator * b.Numerator);

    public static bool operator <(Rational a, Rational b) => a.CompareTo(b) < 0;

    public static bool operator >(Rational a, Rational b) => a.CompareTo(b) > 0;

    public int CompareTo(Rational other) => (Numerator * other.Denominator).CompareTo(other.Numerator * Denominator);

    public Rational Pow(int e)
    {
        var r = One;
        for (int i = 0; i < e; i++)
        {
            r *= this;
        }

        return r;
    }

    /// <summary>Correctly rounded enough for tests: scale to 40 significant digits before converting.</summary>
    public double ToDouble()
    {
        if (IsZero)
        {
            return 0;
        }

        var scale = BigInteger.Pow(10, 40);
        int shift = (int)(BigInteger.Log10(BigInteger.Abs(Numerator)) - BigInteger.Log10(Denominator));
        BigInteger scaled = shift >= 0
            ? Numerator * scale / (Denominator * BigInteger.Pow(10, shift))
            : Numerator * scale * BigInteger.Pow(10, -shift) / Denominator;
        return (double)scaled * Math.Pow(10, shift - 40);
    }

    public override string ToString() => $"{Numerator}/{Denominator}";
}
