namespace Bulwark.Verification;

/// <summary>The depth-first search over one partition (see <see cref="LinearizabilityChecker"/>).</summary>
internal sealed class PartitionSearch<TState, TInput, TOutput>
    where TOutput : class
{
    private readonly IModel<TState, TInput, TOutput> model;
    private readonly IReadOnlyList<Operation<TInput, TOutput>> ops;
    private readonly BudgetMeter meter;
    private readonly EventNode head;
    private List<int> longestPrefix = [];

    public PartitionSearch(IModel<TState, TInput, TOutput> model, IReadOnlyList<Operation<TInput, TOutput>> ops, BudgetMeter meter)
    {
        this.model = model;
        this.ops = ops;
        this.meter = meter;
        head = BuildEventList(ops);
    }

    public CheckVerdict Run()
    {
        var linearized = new OperationSet(ops.Count);
        var memo = new HashSet<MemoKey>(new MemoKeyComparer(model.StateComparer));
        var choices = new Stack<(EventNode Call, TState StateBefore)>();
        var state = model.Init();
        var current = head.Next;
        while (head.Next is not null)
        {
            if (current!.IsCall)
            {
                if (!meter.TryStep())
                {
                    return CheckVerdict.Unknown;
                }

                var op = ops[current.Position];
                if (model.Step(state, op.Input, op.Output, out var next))
                {
                    linearized.Add(current.Position);
                    // Look up with the live set; store a copy, since the live set keeps changing.
                    if (!memo.Contains(new MemoKey(linearized, next)))
                    {
                        memo.Add(new MemoKey(linearized.Clone(), next));
                        choices.Push((current, state));
                        state = next;
                        current.Lift();
                        if (choices.Count > longestPrefix.Count)
                        {
                            longestPrefix = choices.Select(c => c.Call.Position).Reverse().ToList();
                        }

                        current = head.Next;
                        continue;
                    }

                    linearized.Remove(current.Position);
                }

                current = current.Next;
            }
            else
            {
                // A return event whose call is not linearized yet: the choices so far cannot be extended.
                if (choices.Count == 0)
                {
                    return CheckVerdict.Illegal;
                }

                var (call, stateBefore) = choices.Pop();
                state = stateBefore;
                linearized.Remove(call.Position);
                call.Unlift();
                current = call.Next;
            }
        }

        return CheckVerdict.Linearizable;
    }

    public LinearizabilityViolation<TInput, TOutput> Explain()
    {
        var inPrefix = new HashSet<int>(longestPrefix);
        var remaining = Enumerable.Range(0, ops.Count).Where(p => !inPrefix.Contains(p)).Select(p => ops[p]).ToList();
        // Only operations invoked before the first remaining return could come next; one of them is the culprit.
        var firstReturn = remaining.Count == 0 ? Operation<TInput, TOutput>.Never : remaining.Min(o => o.Return);
        var candidates = remaining.Where(o => o.Call <= firstReturn).OrderBy(o => o.Call).ToList();
        return new(
            model.DescribePartition(ops),
            ops.OrderBy(o => o.Call).ToList(),
            longestPrefix.Select(p => ops[p]).ToList(),
            candidates);
    }

    private static EventNode BuildEventList(IReadOnlyList<Operation<TInput, TOutput>> ops)
    {
        var events = new List<EventNode>(ops.Count * 2);
        for (var position = 0; position < ops.Count; position++)
        {
            var call = new EventNode(position, IsCall: true, ops[position].Call);
            var ret = new EventNode(position, IsCall: false, ops[position].Return);
            call.Match = ret;
            events.Add(call);
            events.Add(ret);
        }

        // Time order; at equal times calls come first, so touching operations count as concurrent (never a false alarm).
        events.Sort(static (a, b) =>
        {
            var byTime = a.Time.CompareTo(b.Time);
            if (byTime != 0)
            {
                return byTime;
            }

            return a.IsCall == b.IsCall ? a.Position.CompareTo(b.Position) : a.IsCall ? -1 : 1;
        });

        var head = new EventNode(-1, IsCall: false, long.MinValue);
        var last = head;
        foreach (var e in events)
        {
            last.Next = e;
            e.Prev = last;
            last = e;
        }

        return head;
    }

    private sealed record EventNode(int Position, bool IsCall, long Time)
    {
        public EventNode? Match { get; set; }

        public EventNode? Prev { get; set; }

        public EventNode? Next { get; set; }

        /// <summary>Unlinks this call and its return from the list (the operation is linearized).</summary>
        public void Lift()
        {
            Prev!.Next = Next;
            Next!.Prev = Prev;
            var match = Match!;
            match.Prev!.Next = match.Next;
            if (match.Next is not null)
            {
                match.Next.Prev = match.Prev;
            }
        }

        /// <summary>Relinks this call and its return where they were (undoing <see cref="Lift"/>).</summary>
        public void Unlift()
        {
            var match = Match!;
            match.Prev!.Next = match;
            if (match.Next is not null)
            {
                match.Next.Prev = match;
            }

            Prev!.Next = this;
            Next!.Prev = this;
        }

        // Identity semantics: list nodes are compared by reference, not by value.
        public bool Equals(EventNode? other) => ReferenceEquals(this, other);

        public override int GetHashCode() => System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(this);
    }

    private readonly record struct MemoKey(OperationSet Linearized, TState State);

    private sealed class MemoKeyComparer(IEqualityComparer<TState> states) : IEqualityComparer<MemoKey>
    {
        public bool Equals(MemoKey x, MemoKey y) => x.Linearized.SetEquals(y.Linearized) && states.Equals(x.State, y.State);

        public int GetHashCode(MemoKey key) =>
            HashCode.Combine(key.Linearized.Hash(), key.State is null ? 0 : states.GetHashCode(key.State));
    }
}
